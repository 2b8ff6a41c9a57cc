"""The book's exercises index, generated from the chapter notebooks.

``python -m lstm_course.book_tools.exercises`` (what ``make exercises`` runs) writes
``book/exercises.md``: for every chapter in ``_toc.yml``, in reading order, its number
and title, and each of its exercises as a ``{ref}`` link to the exercise's label (the
book numbers exercises per chapter, "Exercise 2.1"), its tags, and the task it sets (its
first imperative sentence or question, see :func:`task_sentence`). A test checks that
the committed page equals the generated one, so the page cannot go stale when an
exercise is added, moved or reworded.

Exercises are ``sphinx-exercise`` directives in markdown cells, whose title is their
tags: a difficulty, a kind, and whether the chapter's trained model is needed::

    ```{exercise} easy · code
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
    "DIFFICULTIES",
    "KINDS",
    "NEEDS_MODEL",
    "Exercise",
    "Chapter",
    "parse_tags",
    "sentences",
    "first_sentence",
    "task_sentence",
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
_BREAK = "\u00b6"  # marks where display math was cut out of an exercise's text

DIFFICULTIES = ("easy", "medium", "hard")
# paper: reason it out (the solution's code checks the answer); code: write a short
# function or check; experiment: run something and measure.
KINDS = ("paper", "code", "experiment")
NEEDS_MODEL = "uses the trained model"
_TAG_SEPARATOR = "·"

HEADER = """\
# Exercises

Every chapter ends with two to five exercises. Each solution is hidden behind a toggle
under its exercise, and every solution's code runs in CI, so the solutions you open are
checked. This page lists them all, chapter by chapter, each with the task it sets and
its tags:

- how hard it is: *easy*, *medium* or *hard*;
- what kind of work it is: *paper* (reason it out; the solution's code then checks the
  answer), *code* (write a short function or check) or *experiment* (run something and
  measure it);
- *uses the trained model*: it needs the model the chapter trains, so run the chapter
  first (in full mode for the published numbers, or in fast mode for a smaller model in
  a few minutes; see the README).

% Generated from the notebooks by `make exercises` (python -m lstm_course.book_tools.exercises).
% Do not edit by hand: a test checks that this page is up to date.
"""


@dataclass(frozen=True)
class Exercise:
    label: str
    title: str  # its tags, e.g. "medium · experiment · uses the trained model"
    first_sentence: str


@dataclass(frozen=True)
class Chapter:
    doc: str  # the notebook's name without extension, e.g. "02_lstm_cell"
    title: str  # without its number, e.g. "The LSTM cell, derived"
    exercises: tuple[Exercise, ...]
    number: int = 0  # its place among the chapters, as the book numbers it


def parse_tags(title: str, where: str = "") -> tuple[str, str, bool]:
    """An exercise's title read as its tags: ``(difficulty, kind, needs_model)``.

    The title is ``difficulty · kind`` or ``difficulty · kind · uses the trained model``,
    from :data:`DIFFICULTIES` and :data:`KINDS`; anything else is a ``ValueError`` that
    names ``where`` and says what the title must look like.
    """
    parts = [part.strip() for part in title.split(_TAG_SEPARATOR)]
    needs_model = len(parts) == 3 and parts[2] == NEEDS_MODEL
    if (
        len(parts) not in (2, 3)
        or (len(parts) == 3 and not needs_model)
        or (parts[0] not in DIFFICULTIES or parts[1] not in KINDS)
    ):
        raise ValueError(
            f"{where}: exercise title {title!r} is not its tags; write "
            f"'difficulty {_TAG_SEPARATOR} kind' with a difficulty from {DIFFICULTIES} "
            f"and a kind from {KINDS}, and add ' {_TAG_SEPARATOR} {NEEDS_MODEL}' when it "
            "needs the chapter's trained model"
        )
    return parts[0], parts[1], needs_model


def sentences(text: str) -> list[str]:
    """The sentences of a markdown paragraph, each on one line.

    A sentence ends at ``.``, ``?`` or ``!`` followed by a space or the end of the text,
    but not inside math (``$...$``), inline code or a role's target, not inside
    parentheses, and not after a common abbreviation such as "e.g.". Text after the last
    full stop (a paragraph ending in a colon before an equation) is the last "sentence".
    """
    if _BREAK in text:
        return [part for chunk in text.split(_BREAK) for part in sentences(chunk)]
    text = " ".join(text.split())
    protected = {m.start(): m.end() for m in _SPAN.finditer(text)}
    found, depth, i, start = [], 0, 0, 0
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
                found.append(text[start : i + 1].strip())
                start = i + 1
        i += 1
    if text[start:].strip():
        found.append(text[start:].strip())
    return found


def first_sentence(text: str, min_chars: int = 0) -> str:
    """The first sentence of a markdown paragraph, on one line (see :func:`sentences`).

    With ``min_chars``, sentences are added while the result is shorter than that, so
    that a short opening ("Where do the bits go?") comes with the sentence that says
    what to do. A paragraph without a full stop comes whole.
    """
    parts = sentences(text)
    ended = [p for p in parts if p[-1] in ".?!"]
    if not ended:
        return " ".join(parts)
    out = ""
    for part in ended:
        out = f"{out} {part}".strip()
        if len(out) >= min_chars:
            break
    return out


# Words that open the sentence of an exercise that says what to do.
_TASK_VERBS = (
    "Add", "Average", "Build", "Change", "Check", "Compare", "Compute", "Count", "Derive",
    "Do", "Draw", "Estimate", "Evaluate", "Explain", "Find", "Fit", "Generate", "Give",
    "Implement", "Load", "Measure", "Modify", "Pick", "Plot", "Predict", "Print", "Prove",
    "Record", "Refit", "Remove", "Repeat", "Replace", "Run", "Sample", "Score", "Set",
    "Show", "Take", "Test", "Time", "Train", "Try", "Use", "Write",
)  # fmt: skip
# Words that point back to an earlier sentence: a task using them needs that sentence.
_BACK_REFERENCES = {"it", "its", "that", "this", "these", "them", "they", "their", "ours"}


def task_sentence(text: str, min_chars: int = 0) -> str:
    """What an exercise asks, from its text: the first sentence that is a question or
    starts with an imperative such as "Show" or "Measure", with the sentence before it
    when it points back ("Explain why that ...", a question, "Check ...") and the
    sentences after it while the result is shorter than ``min_chars``. Sentences with a
    glue role are skipped (a glued value does not resolve on another page). Falls back
    to :func:`first_sentence` when nothing asks for anything."""
    parts = [p for p in sentences(text) if p[-1] in ".?!" and "{glue" not in p]

    def pick(k: int, question: bool) -> str:
        words = {w.strip(",.;:?*_`()").lower() for w in parts[k].split()[:8]}
        start = k - 1 if k > 0 and (question or words & _BACK_REFERENCES) else k
        out = " ".join(parts[start : k + 1])
        for more in parts[k + 1 :]:
            if len(out) >= min_chars:
                break
            out = f"{out} {more}"
        return out

    for k, part in enumerate(parts):
        verb = part.split(" ", 1)[0].strip("*_")
        if part.endswith("?") or verb in _TASK_VERBS:
            # "Check ..." follows what is to be checked.
            return pick(k, question=part.endswith("?") or verb == "Check")
    return first_sentence(text, min_chars)


def parse_exercises(markdown: str, where: str = "") -> list[Exercise]:
    """Every exercise directive in a markdown text, in order.

    Raises ``ValueError`` (naming ``where``) for an exercise without a ``:label:``,
    since the index links to exercises by label, whose title is not its tags (see
    :func:`parse_tags`), or whose first sentence uses a ``{glue}`` role, which only
    resolves on its own page.
    """
    found = []
    for match in _EXERCISE.finditer(markdown):
        options, lines, in_options, in_math = {}, [], True, False
        for line in match["body"].splitlines():
            option = _OPTION.match(line.strip()) if in_options else None
            if option:
                options[option["key"]] = option["value"].strip()
                continue
            if in_options and not line.strip():
                continue
            in_options = False
            stripped = line.strip()
            if in_math:  # inside display math: no sentence ends or starts here
                in_math = not stripped.endswith("$$")
                continue
            if stripped.startswith("$$"):
                in_math = not (len(stripped) > 2 and stripped.endswith("$$"))
                lines.append(_BREAK)  # the text before the equation does not run on into it
                continue
            lines.append(line)
        label = options.get("label")
        if not label:
            raise ValueError(
                f"{where}: an exercise has no :label: (the exercises page "
                "links to each exercise by its label); add `:label: ex-...`"
            )
        parse_tags(match["title"], where=f"{where}: {label}")
        sentence = task_sentence("\n".join(lines), min_chars=SHORT)
        if "{glue" in sentence:
            raise ValueError(
                f"{where}: the task sentence of exercise {label} uses a glue "
                "role, which does not resolve on the exercises page; reword it"
            )
        found.append(Exercise(label, match["title"].strip(), sentence))
    return found


def chapter_exercises(path: Path, number: int = 0) -> Chapter:
    """The title (the first ``# `` heading) and the exercises of one chapter notebook."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    markdown = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
    heading = next((m[1] for m in map(_HEADING.search, markdown) if m), path.stem)
    exercises = parse_exercises("\n\n".join(markdown), where=path.name)
    return Chapter(path.stem, heading, tuple(exercises), number)


def chapters(root: Path = ROOT) -> list[Chapter]:
    """Every chapter notebook named in ``_toc.yml``, in reading order, with its exercises
    and its number (the book numbers the chapter notebooks 1, 2, ... in that order)."""
    paths = chapter_notebooks(root)
    return [chapter_exercises(path, k) for k, path in enumerate(paths, start=1)]


def render(book: list[Chapter]) -> str:
    """The markdown of the exercises page."""
    lines = [HEADER]
    for chapter in book:
        if not chapter.exercises:
            continue
        lines += [f"## {chapter.number}. {chapter.title}", ""]
        for ex in chapter.exercises:
            lines.append(f"- {{ref}}`{ex.label}` (*{ex.title}*): {ex.first_sentence}")
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
