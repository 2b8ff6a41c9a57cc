"""The exercises index (book/exercises.md) is generated from the notebooks and current."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import yaml

from lstm_course.book_tools import exercises
from lstm_course.book_tools.exercises import (
    NEEDS_MODEL,
    PAGE,
    first_sentence,
    generate,
    parse_exercises,
    parse_tags,
    task_sentence,
)
from lstm_course.book_tools.reproduce import ROOT, chapter_notebooks, toc_files


def test_the_committed_page_is_the_generated_one():
    committed = (ROOT / PAGE).read_text(encoding="utf-8")
    assert committed == generate(), f"{PAGE} is out of date: run `make exercises`"


def test_the_page_is_in_the_back_matter_of_the_toc():
    entries = toc_files()
    assert "book/exercises" in entries
    assert entries.index("book/exercises") > max(
        entries.index(f"book/{p.stem}") for p in chapter_notebooks()
    )


def test_every_chapter_is_listed_with_all_its_exercises():
    book = exercises.chapters()
    assert [c.doc for c in book] == [p.stem for p in chapter_notebooks()]
    labels = [ex.label for chapter in book for ex in chapter.exercises]
    assert len(labels) == len(set(labels)), "exercise labels must be unique across the book"
    page = (ROOT / PAGE).read_text(encoding="utf-8")
    for chapter in book:
        assert 2 <= len(chapter.exercises) <= 5, chapter.doc
        assert f"## {chapter.number}. {chapter.title}\n" in page
        for ex in chapter.exercises:
            assert f"{{ref}}`{ex.label}`" in page
            assert ex.first_sentence and ex.first_sentence[-1] in ".?!:", ex


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two.", "One."),
        ("Why $a.b$ here? Then.", "Why $a.b$ here?"),
        ("Use `x.mean()` (e.g. twice). Next.", "Use `x.mean()` (e.g. twice)."),
        ("Keep (Hint: this. And that.) going. Next.", "Keep (Hint: this. And that.) going."),
        ("A cite {cite:t}`a.b` works.\nOn a new line.", "A cite {cite:t}`a.b` works."),
        ("Values 0.5 and 1.5 stay. Next.", "Values 0.5 and 1.5 stay."),
        ("No full stop at the end", "No full stop at the end"),
    ],
)
def test_first_sentence(text, expected):
    assert first_sentence(text) == expected


def test_a_short_first_sentence_comes_with_the_next():
    assert first_sentence("Where? Compute it. Then more.", min_chars=10) == "Where? Compute it."
    assert first_sentence("Short. Then it ends in a colon:", min_chars=20) == "Short."


def test_parse_exercises_reads_labels_titles_and_both_fences():
    markdown = textwrap.dedent("""\
        Intro.

        ```{exercise} easy · paper
        :label: ex-a

        First sentence here. Second one.
        ```

        :::{exercise} hard · experiment · uses the trained model
        :label: ex-b
        :class: note

        Colon fence. More.
        :::
        """)
    found = parse_exercises(markdown)
    assert [(e.label, e.title, e.first_sentence) for e in found] == [
        ("ex-a", "easy · paper", "First sentence here. Second one."),
        ("ex-b", "hard · experiment · uses the trained model", "Colon fence. More."),
    ]
    page = exercises.render([exercises.Chapter("x", "X", tuple(found), number=3)])
    assert "## 3. X\n" in page
    assert "- {ref}`ex-a` (*easy · paper*): First sentence here." in page


def test_an_exercise_without_a_label_or_with_glue_is_an_error():
    with pytest.raises(ValueError, match="no :label:"):
        parse_exercises("```{exercise} easy · code\n\nText.\n```\n", where="nb")
    with pytest.raises(ValueError, match="glue"):
        parse_exercises("```{exercise} easy · code\n:label: ex-g\n\nIt is {glue:text}`x`.\n```\n")


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("easy · paper", ("easy", "paper", False)),
        ("medium·code", ("medium", "code", False)),
        (f"hard · experiment · {NEEDS_MODEL}", ("hard", "experiment", True)),
    ],
)
def test_parse_tags(title, expected):
    assert parse_tags(title) == expected


@pytest.mark.parametrize(
    "title", ["", "easy", "code · easy", "easy · essay", "easy · code · needs GPU", "A title"]
)
def test_an_exercise_whose_title_is_not_its_tags_is_an_error(title):
    with pytest.raises(ValueError, match="not its tags.*difficulty · kind"):
        parse_tags(title, where="nb: ex-x")
    with pytest.raises(ValueError, match="ex-x"):
        parse_exercises(f"```{{exercise}} {title}\n:label: ex-x\n\nDo it.\n```\n", "nb")


def test_every_exercise_is_tagged_and_the_trained_model_ones_say_so():
    book = exercises.chapters()
    tags = [parse_tags(ex.title) for chapter in book for ex in chapter.exercises]
    assert {kind for _, kind, _ in tags} == {"paper", "code", "experiment"}
    assert any(needs for *_, needs in tags)


def test_chapter_numbers_are_the_books_and_the_notebooks():
    """The page numbers chapters as the book does (toc order, all parts numbered); the
    notebooks' names carry the same number, and no heading types it a second time."""
    book = exercises.chapters()
    assert [c.number for c in book] == list(range(1, len(book) + 1))
    for chapter in book:
        assert int(chapter.doc.split("_", 1)[0]) == chapter.number, chapter.doc
        assert not chapter.title[:1].isdigit(), f"{chapter.doc}: the toc numbers it"
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    for part in toc["parts"]:
        files = [Path(entry["file"]).stem for entry in part["chapters"]]
        has_chapters = any(name in {c.doc for c in book} for name in files)
        assert bool(part.get("numbered")) == has_chapters, part["caption"]


def test_the_generator_follows_the_toc(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nchapters:\n  - file: book/02_b\n  - file: book/01_a\n",
        encoding="utf-8",
    )

    def notebook(title, label):
        cells = [
            {"cell_type": "markdown", "source": [f"# {title}\n"]},
            {
                "cell_type": "markdown",
                "source": [f"```{{exercise}} easy · code\n:label: {label}\n\nDo {label}.\n```\n"],
            },
        ]
        return json.dumps({"cells": cells})

    (tmp_path / "book" / "01_a.ipynb").write_text(notebook("A", "ex-a"), encoding="utf-8")
    (tmp_path / "book" / "02_b.ipynb").write_text(notebook("B", "ex-b"), encoding="utf-8")
    page = generate(tmp_path)
    assert page.index("## 1. B") < page.index("## 2. A"), "reading order is _toc.yml's"
    assert "- {ref}`ex-b` (*easy · code*): Do ex-b." in page


def test_make_exercises_writes_the_page(tmp_path, monkeypatch):
    monkeypatch.setattr(exercises, "ROOT", tmp_path)
    monkeypatch.setattr(exercises, "generate", lambda root=None: "# Exercises\n")
    (tmp_path / "book").mkdir()
    assert exercises.main(["--check"]) == 1
    assert exercises.main([]) == 0
    assert (tmp_path / PAGE).read_text(encoding="utf-8") == "# Exercises\n"
    assert exercises.main(["--check"]) == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the premise is left out, the imperative kept
        ("Adam divides by $1 - b$. Measure the first step.", "Measure the first step."),
        # a sentence that points back brings the one it points to
        (
            "Clipping caps the norm. Explain why that helps.",
            "Clipping caps the norm. Explain why that helps.",
        ),
        # a question comes with its premise; "Check ..." follows what it checks
        (
            "CIFG has no forget gate. Which bias? Check with code.",
            "CIFG has no forget gate. Which bias?",
        ),
        ("Count the weights. Check it in code.", "Count the weights."),
        # a sentence with a glue role is skipped: its value would not resolve
        ("Is {glue:text}`n` enough? Compare them.", "Compare them."),
        # nothing asks: the first sentence
        ("A statement. Another one.", "A statement."),
    ],
)
def test_task_sentence(text, expected):
    assert task_sentence(text) == expected


def test_display_math_does_not_run_into_the_task():
    md = textwrap.dedent(
        """\
        ```{exercise} easy · code
        :label: ex-x

        A cell with no state:

        $$
        h = a. b
        $$

        Implement one step and check it.
        ```
        """
    )
    (found,) = parse_exercises(md)
    assert found.first_sentence == "Implement one step and check it."
