"""The glossary (book/glossary.md): a Sphinx glossary of terms the book actually uses."""

from __future__ import annotations

import json
import re

from lstm_course.notebooks import ROOT, chapter_notebooks, toc_files

GLOSSARY = ROOT / "book" / "glossary.md"
BLOCK = re.compile(r"^```\{glossary\}\n(.*?)^```$", re.M | re.S)


def glossary_entries(text: str) -> list[tuple[list[str], str]]:
    """``(terms, definition)`` for each entry of the page's ``{glossary}`` block.

    Terms are the unindented lines of an entry (several name one entry), the definition
    is its indented lines, as in Sphinx's glossary directive.
    """
    match = BLOCK.search(text)
    assert match, "book/glossary.md needs a ```{glossary} block"
    entries: list[tuple[list[str], str]] = []
    terms: list[str] = []
    for line in match.group(1).splitlines():
        if not line.strip() or re.match(r"^:\w+:", line):
            continue
        if line[0].isspace():
            assert terms or entries, f"a definition before any term: {line!r}"
            if terms:
                entries.append((terms, ""))
                terms = []
            entries[-1] = (entries[-1][0], f"{entries[-1][1]} {line.strip()}".strip())
        else:
            terms.append(line.strip())
    assert not terms, f"terms without a definition: {terms}"
    return entries


def book_text() -> str:
    """The prose of every chapter and of the intro, lower-cased, without ``$``."""
    parts = [(ROOT / "book" / "intro.md").read_text(encoding="utf-8")]
    for path in chapter_notebooks():
        nb = json.loads(path.read_text(encoding="utf-8"))
        parts += ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
    # Without math delimiters, so that "top-$k$" reads as "top-k".
    return "\n".join(parts).lower().replace("$", "")


def used(term: str, text: str) -> bool:
    """Whether ``term`` occurs in ``text`` as words (hyphen or space alike, plural too)."""
    words = [re.escape(w) for w in re.split(r"[\s-]+", term.lower())]
    pattern = r"(?<![\w-])" + r"[\s-]+".join(words) + r"(?:s|es)?(?![\w])"
    return re.search(pattern, text) is not None


def test_the_glossary_is_in_the_back_matter():
    assert "book/glossary" in toc_files()


def test_the_glossary_has_the_course_key_terms_each_defined():
    entries = glossary_entries(GLOSSARY.read_text(encoding="utf-8"))
    assert 25 <= len(entries) <= 40, f"{len(entries)} entries; the glossary has 25-40"
    terms = [t.lower() for names, _ in entries for t in names]
    assert len(terms) == len(set(terms)), "a term is defined twice"
    for names, definition in entries:
        assert len(definition.split()) >= 12, f"{names}: the definition is too short"
        sentences = len(re.findall(r"[.?!](?:\s|$)", re.sub(r"\$[^$]*\$|`[^`]*`", "", definition)))
        assert 1 <= sentences <= 4, f"{names}: define it in 1-3 sentences (found {sentences})"
    for key in ("lstm", "cell state", "constant error carousel", "forget gate", "input gate",
                "output gate", "cell candidate", "peephole connection", "gru", "bptt",
                "truncated bptt", "vanishing gradient", "exploding gradient",
                "gradient clipping", "perplexity", "bits per character", "packing", "padding",
                "bidirectional lstm", "dropout", "variational dropout", "weight tying",
                "layer normalization", "cudnn", "fast mode", "full mode"):
        assert key in terms, f"the glossary lacks {key!r}"


def test_every_glossary_entry_is_used_in_the_book():
    text = book_text()
    unused = [names for names, _ in glossary_entries(GLOSSARY.read_text(encoding="utf-8"))
              if not any(used(name, text) for name in names)]
    assert not unused, f"glossary entries no chapter uses: {unused}"


def test_used_matches_words_not_parts_of_words():
    assert used("forget gate", "the forget-gate bias")
    assert used("GRU", "two grus")
    assert used("padding", "right padding,")
    assert not used("GRU", "mingru")
    assert not used("gate", "gateway")
