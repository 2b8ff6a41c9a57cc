"""The book's exercises index, generated from the chapter notebooks.

``python -m lstm_course.book_tools.exercises`` (what ``make exercises`` runs) writes
``book/exercises.md``: for every chapter in ``_toc.yml``, in reading order, its title
and each of its exercises as a ``{ref}`` link to the exercise's label followed by the
exercise's first sentence (the first two when the first is very short). A test checks that the committed page equals the generated
one, so the page cannot go stale when an exercise is added, moved or reworded.

Exercises are ``sphinx-exercise`` directives in markdown cells::

    ```{exercise}
    :label: ex-ch2-biases

    `nn.LSTMCell` has two bias vectors, ...
    ```
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from lstm_course.book_tools.reproduce import ROOT, chapter_notebooks

__all__ = [
    "PAGE",
    "SHORT",
    "HEADER",
    "Exercise",
    "Chapter",
    "first_sentence",
    "parse_exercises",
    "chapter_exercises",
    "chapters",
    "render",
    "generate",
    "main",
]

PAGE = Path("book") / "exercises.md"

# An exercise directive: an opening fence of ``` or ::: (three or more), the directive
# with an optional title, then everything up to the same fence on a line of its own.
_EXERCISE = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{exercise\}[ \t]*(?P<title>[^\n]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$",
    re.M | re.S,
)
_OPTION = re.compile(r"^:(?P<key>[\w-]+):[ \t]*(?P<value>.*)$")
# Spans inside which a full stop never ends a sentence: math, inline code, roles.
_SPAN = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`")
_ABBREVIATIONS = ("e.g", "i.e", "cf", "vs", "et al", "etc", "Fig", "Eq")
SHORT = 70  # a first sentence shorter than this comes with the next one
_HEADING = re.compile(r"^#\s+(.+?)\s*$", re.M)

HEADER = """\
# Exercises

Every chapter ends with two to five exercises. Each solution is hidden behind a toggle
under its exercise, and every solution's code runs in CI, so the solutions you open are
checked. This page lists them all, chapter by chapter, with the first sentence of each.

% Generated from the notebooks by `make exercises` (python -m lstm_course.book_tools.exercises).
% Do not edit by hand: a test checks that this page is up to date.
"""


@dataclass(frozen=True)
class Exercise:
    label: str
    title: str
    first_sentence: str


@dataclass(frozen=True)
class Chapter:
    doc: str  # the notebook's name without extension, e.g. "02_lstm_cell"
    title: str
    exercises: tuple[Exercise, ...]


def first_sentence(text: str, min_chars: int = 0) -> str:
    """The first sentence of a markdown paragraph, on one line.

    With ``min_chars``, sentences are added while the result is shorter than that, so
    that a short opening ("Where do the bits go?") comes with the sentence that says
    what to do.

    A sentence ends at ``.``, ``?`` or ``!`` followed by a space or the end of the text,
    but not inside math (``$...$``), inline code or a role's target, not inside
    parentheses, and not after a common abbreviation such as "e.g.".
    """
    text = " ".join(text.split())
    protected = {m.start(): m.end() for m in _SPAN.finditer(text)}
    depth, i, last_end = 0, 0, 0
    while i < len(text):
        if i in protected:
            i = protected[i]
            continue
        ch = text[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif ch in ".?!" and depth == 0 and (i + 1 == len(text) or text[i + 1] == " "):
            if not (ch == "." and text[:i].endswith(_ABBREVIATIONS)):
                last_end = i + 1
                if last_end >= min_chars:
                    return text[:last_end]
        i += 1
    # The paragraph ran out (it may end in a colon before an equation): the sentences
    # that did end, or the whole paragraph if none did.
    return text[:last_end] if last_end else text


def parse_exercises(markdown: str, where: str = "") -> list[Exercise]:
    """Every exercise directive in a markdown text, in order.

    Raises ``ValueError`` (naming ``where``) for an exercise without a ``:label:``,
    since the index links to exercises by label, or whose first sentence uses a
    ``{glue}`` role, which only resolves on its own page.
    """
    found = []
    for match in _EXERCISE.finditer(markdown):
        options, paragraph, in_options = {}, [], True
        for line in match["body"].splitlines():
            option = _OPTION.match(line.strip()) if in_options else None
            if option:
                options[option["key"]] = option["value"].strip()
                continue
            if in_options and not line.strip():
                continue
            in_options = False
            if not line.strip():
                if paragraph:
                    break
                continue
            paragraph.append(line)
        label = options.get("label")
        if not label:
            raise ValueError(
                f"{where}: an exercise has no :label: (the exercises page "
                "links to each exercise by its label); add `:label: ex-...`"
            )
        sentence = first_sentence("\n".join(paragraph), min_chars=SHORT)
        if "{glue" in sentence:
            raise ValueError(
                f"{where}: the first sentence of exercise {label} uses a glue "
                "role, which does not resolve on the exercises page; reword it"
            )
        found.append(Exercise(label, match["title"].strip(), sentence))
    return found


def chapter_exercises(path: Path) -> Chapter:
    """The title (the first ``# `` heading) and the exercises of one chapter notebook."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    markdown = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
    heading = next((m[1] for m in map(_HEADING.search, markdown) if m), path.stem)
    exercises = parse_exercises("\n\n".join(markdown), where=path.name)
    return Chapter(path.stem, heading, tuple(exercises))


def chapters(root: Path = ROOT) -> list[Chapter]:
    """Every chapter notebook named in ``_toc.yml``, in reading order, with its exercises."""
    return [chapter_exercises(path) for path in chapter_notebooks(root)]


def render(book: list[Chapter]) -> str:
    """The markdown of the exercises page."""
    lines = [HEADER]
    for chapter in book:
        if not chapter.exercises:
            continue
        lines += [f"## {chapter.title}", ""]
        for ex in chapter.exercises:
            title = f" *{ex.title}*." if ex.title else ""
            lines.append(f"- {{ref}}`{ex.label}`:{title} {ex.first_sentence}")
        lines.append("")
    return "\n".join(lines)


def generate(root: Path = ROOT) -> str:
    """The exercises page that ``book/exercises.md`` must hold."""
    return render(chapters(root))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write book/exercises.md from the notebooks.")
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit 1 if the committed page is out of date",
    )
    args = parser.parse_args(argv)
    path = ROOT / PAGE
    page = generate()
    current = path.read_text(encoding="utf-8") if path.exists() else None
    if args.check:
        if current != page:
            print(f"{PAGE} is out of date: run `make exercises`", file=sys.stderr)
            return 1
        return 0
    if current != page:
        path.write_text(page, encoding="utf-8")
        print(f"wrote {PAGE}")
    else:
        print(f"{PAGE} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
