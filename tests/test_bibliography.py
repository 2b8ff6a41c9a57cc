"""references.bib and the references page: every cited paper is there, complete.

(That every ``{cite}`` key resolves is checked in test_book_config.py, and the strict
book build fails on an unknown key too.)
"""

from __future__ import annotations

import re

from pybtex.database import parse_file

from lstm_course.book_tools.reproduce import ROOT, toc_files

BIB = parse_file(str(ROOT / "references.bib"))


def test_every_entry_has_author_title_and_year():
    incomplete = {}
    for key, entry in BIB.entries.items():
        missing = [f for f in ("title", "year") if not entry.fields.get(f, "").strip()]
        if not entry.persons.get("author"):
            missing.append("author")
        if missing:
            incomplete[key] = missing
    assert not incomplete, f"references.bib entries missing fields: {incomplete}"


def test_years_are_years_and_keys_are_unique():
    text = (ROOT / "references.bib").read_text(encoding="utf-8")
    keys = re.findall(r"^@\w+\{([^,]+),", text, re.M)
    assert len(keys) == len(set(keys)) == len(BIB.entries)
    for key, entry in BIB.entries.items():
        assert re.fullmatch(r"(19|20)\d\d", entry.fields["year"]), key


def test_the_references_page_shows_the_bibliography_at_the_end():
    page = (ROOT / "book" / "references.md").read_text(encoding="utf-8")
    assert page.startswith("# References")
    assert re.search(r"^```\{bibliography\}", page, re.M), "references.md needs {bibliography}"
    assert "book/references" in toc_files()
