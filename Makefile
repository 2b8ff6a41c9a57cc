# The course's commands. Each creates .venv on first use.
#   make book       build the HTML book from the committed outputs
#   make test       lint, unit tests, every notebook in fast mode, strict book build
#   make reproduce  re-execute every notebook in full mode, in place
#   make bench      benchmarks, as ratios measured side by side

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BOOK_FLAGS := -W -n --keep-going

# Notebooks run from book/, so a relative data home is made absolute here.
ifdef LSTM_COURSE_DATA
export LSTM_COURSE_DATA := $(abspath $(LSTM_COURSE_DATA))
endif
export PYTHONHASHSEED ?= 0

.PHONY: venv book test lint unit notebooks book-strict reproduce bench clean

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -e .
	touch $(STAMP)

book: venv
	$(BIN)/jupyter-book build . $(BOOK_FLAGS)
	@echo "Open $(CURDIR)/_build/html/index.html"

test: lint unit notebooks book-strict

lint: venv
	$(BIN)/ruff check lstm_course tests book

unit: venv
	$(BIN)/pytest tests

notebooks: venv
	LSTM_COURSE_FAST=1 $(BIN)/pytest --nbval-lax --nbval-current-env -p no:cacheprovider book

book-strict: venv
	$(BIN)/jupyter-book build . --all $(BOOK_FLAGS)

reproduce: venv
	$(BIN)/python -m lstm_course.notebooks reproduce

bench: venv
	$(BIN)/python -m lstm_course.bench

clean:
	rm -rf _build .pytest_cache .ruff_cache
