# The course's commands. Each creates .venv on first use.
#   make book       build the HTML book from the committed outputs
#   make test       lint (ruff check, ruff format --check), unit tests, every notebook in
#                   fast mode, strict book build, then the built site opened in headless Chromium
#   make site       only that browser test, against the current _build/html; when no
#                   Chromium is found it installs one (apt-get on Debian/Ubuntu, else
#                   Playwright's), see tests/ensure_chromium.py
#   make exercises  regenerate book/exercises.md from the notebooks' exercises
#   make screenshot the README's screenshot of the book (book/images/book_screenshot.png)
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

.PHONY: venv book test lint unit notebooks book-strict chromium site exercises screenshot reproduce bench clean

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -e .
	touch $(STAMP)

book: venv
	$(BIN)/jupyter-book build . $(BOOK_FLAGS)
	@echo "Open $(CURDIR)/_build/html/index.html"

test: lint unit notebooks book-strict site

lint: venv
	$(BIN)/ruff check lstm_course tests book
	$(BIN)/ruff format --check lstm_course tests book

# The browser test needs the built book: `site` runs it after `book-strict`.
unit: venv
	$(BIN)/pytest tests --ignore=tests/test_site_in_browser.py

notebooks: venv
	LSTM_COURSE_FAST=1 $(BIN)/pytest --nbval-lax --nbval-current-env -p no:cacheprovider book

book-strict: venv
	$(BIN)/jupyter-book build . --all $(BOOK_FLAGS)

# A Chromium for the browser test: $CHROMIUM or one on the PATH, else Playwright's own,
# else installed here (apt-get install chromium on Debian/Ubuntu, as root or with sudo;
# elsewhere python -m playwright install chromium), else one line saying what to run.
chromium: venv
	$(BIN)/python tests/ensure_chromium.py

# Every page of _build/html in headless Chromium, driven by Playwright. A skip is an
# error here, so CI cannot pass without running it. Screenshots: _build/screenshots/.
site: chromium
	LSTM_COURSE_REQUIRE_BROWSER=1 $(BIN)/pytest -p no:cacheprovider tests/test_site_in_browser.py

exercises: venv
	$(BIN)/python -m lstm_course.book_tools.exercises

screenshot: book chromium
	$(BIN)/python tests/browser.py screenshot _build/html \
		"book/02_lstm_cell.html#the-standard-equations-and-the-stacked-form" \
		book/images/book_screenshot.png

reproduce: venv
	$(BIN)/python -m lstm_course.book_tools.reproduce reproduce

bench: venv
	$(BIN)/python -m lstm_course.perf

clean:
	rm -rf _build .pytest_cache .ruff_cache
