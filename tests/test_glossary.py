"""The glossary (book/glossary.md): a Sphinx glossary of terms the book actually uses."""

from __future__ import annotations

import json
import re
from pathlib import Path

from lstm_course.book_tools.reproduce import ROOT, chapter_notebooks, toc_files

GLOSSARY = ROOT / "book" / "glossary.md"
BLOCK = re.compile(r"^```\{glossary\}\n(.*?)^```$", re.M | re.S)
# What is not prose: code blocks (a fence with a language; a bare ``` closes a directive),
# inline code and so the text of every role, math, headings, directive lines and options.
NOT_PROSE = re.compile(
    r"^```[^\s{`][^\n]*\n.*?^```[ \t]*$|`[^`]*`|\$\$.*?\$\$|\$[^$]+\$"
    r"|^(?:#|```|:[\w-]+:)[^\n]*",
    re.M | re.S,
)
# {term}`name` or {term}`text <name>`; group 2 (or else 1) is the glossary term linked to.
TERM_ROLE = re.compile(r"\{term\}`([^`<]*?)(?:\s*<([^`<>]+)>)?`")


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


def markdown_cells(path: Path) -> list[str]:
    """The markdown of a page: a notebook's markdown cells, or a ``.md`` file whole."""
    if path.suffix == ".md":
        return [path.read_text(encoding="utf-8")]
    nb = json.loads(path.read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]


def book_text() -> str:
    """The prose of every chapter and of the intro, lower-cased, without ``$``."""
    parts = markdown_cells(ROOT / "book" / "intro.md")
    for path in chapter_notebooks():
        parts += markdown_cells(path)
    # Without math delimiters, so that "top-$k$" reads as "top-k".
    return "\n".join(parts).lower().replace("$", "")


def term_pattern(term: str) -> str:
    """A regex for ``term`` as words in lower-case text (hyphen or space alike, plural too)."""
    words = [re.escape(w) for w in re.split(r"[\s-]+", term.lower())]
    return r"(?<![\w-])" + r"[\s-]+".join(words) + r"(?:s|es)?(?![\w])"


def used(term: str, text: str) -> bool:
    """Whether ``term`` occurs in ``text`` as words (hyphen or space alike, plural too)."""
    return re.search(term_pattern(term), text) is not None


def prose(markdown: str) -> str:
    """``markdown`` lower-cased, with what is not prose (``NOT_PROSE``) blanked out."""
    return NOT_PROSE.sub("\0", markdown).lower()


def used_alone(names: list[str], text: str, all_names: list[str]) -> bool:
    """Whether an entry is used in ``text`` outside the longer terms that contain it.

    The "dropout" of "recurrent dropout" or the "BPTT" of "truncated BPTT" belongs to the
    longer term, whose own link covers it.
    """
    for other in all_names:
        if other not in names and any(used(name, other.lower()) for name in names):
            text = re.sub(term_pattern(other), "\0", text)
    return any(used(name, text) for name in names)


def glossary_link_problems(root: Path = ROOT) -> list[str]:
    """Each chapter must link (``{term}``) every glossary entry its prose uses, and every
    ``{term}`` on any page of the book must name a glossary term. One line per problem."""
    entries = glossary_entries((root / "book" / "glossary.md").read_text(encoding="utf-8"))
    all_names = [name for names, _ in entries for name in names]
    problems = []
    for path in chapter_notebooks(root):
        cells = markdown_cells(path)
        text = "\n".join(prose(cell) for cell in cells)
        linked = {m.group(2) or m.group(1) for cell in cells for m in TERM_ROLE.finditer(cell)}
        missing = [
            names[0]
            for names, _ in entries
            if used_alone(names, text, all_names) and not linked & set(names)
        ]
        if missing:
            problems.append(
                f"{path.name} uses these glossary terms without a {{term}} link: {missing}"
            )
    for name in toc_files(root):
        for path in (root / f"{name}.ipynb", root / f"{name}.md"):
            if path.exists():
                targets = {
                    m.group(2) or m.group(1)
                    for cell in markdown_cells(path)
                    for m in TERM_ROLE.finditer(cell)
                }
                if unknown := sorted(targets - set(all_names)):
                    problems.append(f"{path.name} links to terms the glossary lacks: {unknown}")
    return problems


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
    for key in (
        "lstm",
        "cell state",
        "constant error carousel",
        "forget gate",
        "input gate",
        "output gate",
        "cell candidate",
        "peephole connection",
        "gru",
        "bptt",
        "truncated bptt",
        "vanishing gradient",
        "exploding gradient",
        "gradient clipping",
        "perplexity",
        "bits per character",
        "packing",
        "padding",
        "bidirectional lstm",
        "dropout",
        "variational dropout",
        "weight tying",
        "layer normalization",
        "cudnn",
        "fast mode",
        "full mode",
    ):
        assert key in terms, f"the glossary lacks {key!r}"


def test_every_glossary_entry_is_used_in_the_book():
    text = book_text()
    unused = [
        names
        for names, _ in glossary_entries(GLOSSARY.read_text(encoding="utf-8"))
        if not any(used(name, text) for name in names)
    ]
    assert not unused, f"glossary entries no chapter uses: {unused}"


def test_used_matches_words_not_parts_of_words():
    assert used("forget gate", "the forget-gate bias")
    assert used("GRU", "two grus")
    assert used("padding", "right padding,")
    assert not used("GRU", "mingru")
    assert not used("gate", "gateway")


def test_each_chapter_links_the_glossary_terms_it_uses():
    problems = glossary_link_problems()
    assert not problems, "\n".join(problems)


def test_term_links_and_prose_are_parsed():
    text = "the {term}`forget gates <forget gate>`, a {term}`GRU` and `cell state` $h_t$"
    assert [m.group(2) or m.group(1) for m in TERM_ROLE.finditer(text)] == ["forget gate", "GRU"]
    assert not used("cell state", prose(text))
    names = ["dropout", "recurrent dropout", "variational dropout"]
    assert not used_alone(["dropout"], "with recurrent dropout", names)
    assert used_alone(["dropout"], "with dropout and recurrent dropout", names)
