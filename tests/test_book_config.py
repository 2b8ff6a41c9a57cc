"""The book's configuration: committed outputs, strict references, exercises, Colab."""

from __future__ import annotations

import re

import yaml

from lstm_course.book_tools.reproduce import ROOT, toc_files

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
BOOK_SOURCES = sorted((ROOT / "book").glob("*.ipynb")) + sorted((ROOT / "book").glob("*.md"))
CITE = re.compile(r"\{cite(?::\w+)?\}`([^`]+)`")


def test_book_uses_committed_outputs():
    assert CONFIG["execute"]["execute_notebooks"] == "off"


def test_exercises_bibliography_and_colab_are_configured():
    assert "sphinx_exercise" in CONFIG["sphinx"]["extra_extensions"]
    assert CONFIG["bibtex_bibfiles"] == ["references.bib"]
    assert CONFIG["repository"]["url"].startswith("https://github.com/")
    assert "colab" in CONFIG["launch_buttons"]["colab_url"]
    for ext in ("dollarmath", "amsmath", "colon_fence"):
        assert ext in CONFIG["parse"]["myst_enable_extensions"]


def test_every_toc_entry_exists_and_every_chapter_is_in_the_toc():
    entries = toc_files()
    for name in entries:
        assert (ROOT / f"{name}.ipynb").exists() or (ROOT / f"{name}.md").exists(), name
    for notebook in (ROOT / "book").glob("*.ipynb"):
        assert f"book/{notebook.stem}" in entries, f"{notebook.name} is not in _toc.yml"
    assert "book/references" in entries


def test_chapter_files_are_named_nn_short_name():
    for notebook in (ROOT / "book").glob("*.ipynb"):
        assert re.fullmatch(r"\d\d_[a-z0-9_]+", notebook.stem), notebook.name


def test_every_citation_resolves_to_references_bib():
    bib_keys = set(re.findall(r"^@\w+\{([^,]+),", (ROOT / "references.bib").read_text(), re.M))
    cited = set()
    for source in BOOK_SOURCES:
        for group in CITE.findall(source.read_text(encoding="utf-8")):
            cited.update(key.strip() for key in group.split(","))
    assert cited, "the book cites nothing"
    assert cited <= bib_keys, f"cited but not in references.bib: {sorted(cited - bib_keys)}"
