"""The package names chapters by their notebook (``06_lstm_speed``), never by a bare
number that goes stale when the table of contents changes; each such name must be a
chapter in ``_toc.yml``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import lstm_course
from lstm_course.book_tools.reproduce import toc_files

PACKAGE = Path(lstm_course.__file__).parent
FILES = sorted(
    p for p in PACKAGE.rglob("*") if p.suffix in {".py", ".md"} and "__pycache__" not in p.parts
)
CHAPTERS = {Path(name).name for name in toc_files()}
NUMBERED = re.compile(r"\bchapters?\s+\d", re.IGNORECASE)
NOTEBOOK = re.compile(r"\b\d\d_[a-z][a-z0-9_]*[a-z0-9]\b")


def test_the_toc_has_numbered_chapter_notebooks():
    assert {name for name in CHAPTERS if NOTEBOOK.fullmatch(name)}, CHAPTERS


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_chapters_are_named_by_their_notebook(path):
    text = path.read_text(encoding="utf-8")
    bare = [text.count("\n", 0, m.start()) + 1 for m in NUMBERED.finditer(text)]
    assert not bare, f"lines {bare} name a chapter by number: name its notebook instead"
    unknown = sorted({m.group() for m in NOTEBOOK.finditer(text)} - CHAPTERS)
    assert not unknown, f"not a chapter in _toc.yml: {unknown}"
