"""The committed notebooks are what the book shows: check they come from a clean,
complete, full-mode run and follow the course's notebook conventions."""

from __future__ import annotations

import ast
import json
import re

import pytest

from lstm_course.book_tools.reproduce import ROOT, chapter_notebooks

NOTEBOOKS = chapter_notebooks()
# A path with two or more directories, not preceded by something that makes it a URL
# or a relative path: /home/me/x, /tmp/a/b.
MACHINE_PATH = re.compile(r"(?<![\w:/.~<])/(?:[\w.-]+/)+[\w.-]+")
GLUE_REF = re.compile(r"\{glue:(?:text|)\}`([A-Za-z0-9_]+)")
# The columns a code box of the book shows without scrolling (book/ruff.toml formats the
# chapters' code to it).
PAGE_WIDTH = 88
# The Colab install line of every setup cell names the repository's URL; it is collapsed.
COLAB_INSTALL = "%pip install"


def _load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def _code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def _output_texts(cell):
    for out in cell.get("outputs", []):
        if "text" in out:
            yield "".join(out["text"])
        for mime, value in out.get("data", {}).items():
            if mime.startswith("text/"):
                yield "".join(value) if isinstance(value, list) else str(value)


def _only_glue(node: ast.stmt) -> bool:
    """A statement that exists only to glue numbers into the prose: a ``glue(...)`` call,
    a loop or branch of such calls, or the import of ``glue`` itself."""
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        func = node.value.func
        return "glue" in (getattr(func, "id", None), getattr(func, "attr", None))
    if isinstance(node, (ast.For, ast.If, ast.With)):
        return all(_only_glue(n) for n in node.body + getattr(node, "orelse", []))
    if isinstance(node, ast.ImportFrom):
        return all(alias.name in {"glue", "meets_bar", "Bars"} for alias in node.names)
    return False


def is_glue_only(cell) -> bool:
    source = "".join(cell["source"])
    if "glue(" not in source:
        return False
    # IPython magics and shell lines are not Python; they are not glue either.
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    return all(_only_glue(node) for node in ast.parse("\n".join(lines)).body)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("glue('a', 1)\nglue('b', 2)", True),
        ("for k, v in d.items():\n    glue(k, v)", True),
        ("from lstm_course import glue\nlc.glue('a', 1)", True),
        ("x = f()\nglue('x', x)", False),
        ("print(1)", False),
    ],
)
def test_is_glue_only(source, expected):
    assert is_glue_only({"source": [source]}) is expected


def test_there_are_chapter_notebooks():
    assert NOTEBOOKS, "no chapter notebook found through _toc.yml"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
class TestCommittedNotebook:
    def test_first_code_cell_is_setup_with_full_mode_banner(self, path):
        first = _code_cells(_load(path))[0]
        assert "setup(" in "".join(first["source"]), "the first code cell must call setup()"
        banner = "\n".join(_output_texts(first))
        assert re.search(
            r"^mode: full \| Python [\d.]+ \| NumPy [\d.]+ \| torch \S+ \| "
            r"device: \S+.* \| threads: \d+$",
            banner,
            re.M,
        ), banner

    def test_cells_that_only_glue_are_removed_from_the_page(self, path):
        # The reader sees results, not bookkeeping: MyST-NB still finds the glued values
        # of a cell tagged remove-cell, but the page does not show the cell.
        untagged = [
            i
            for i, cell in enumerate(_code_cells(_load(path)))
            if is_glue_only(cell) and "remove-cell" not in cell["metadata"].get("tags", [])
        ]
        assert not untagged, f"code cells {untagged} only call glue: tag them remove-cell"

    def test_no_fast_mode_output_anywhere(self, path):
        for cell in _code_cells(_load(path)):
            for text in _output_texts(cell):
                assert not re.search(r"mode\W{0,3}fast", text, re.I), text[:200]

    def test_no_error_outputs(self, path):
        for i, cell in enumerate(_code_cells(_load(path))):
            for out in cell.get("outputs", []):
                assert out["output_type"] != "error", (
                    f"code cell {i} stored an error: {out.get('ename')}"
                )
                if out.get("name") == "stderr":
                    text = "".join(out["text"])
                    assert "Traceback" not in text and "Error" not in text, text[:300]

    def test_executed_top_to_bottom_on_a_fresh_kernel(self, path):
        counts = [
            c["execution_count"] for c in _code_cells(_load(path)) if "".join(c["source"]).strip()
        ]
        assert counts == list(range(1, len(counts) + 1)), (
            f"execution counts {counts}: re-run the notebook with `make reproduce`"
        )

    def test_no_absolute_machine_paths(self, path):
        for cell in _code_cells(_load(path)):
            for text in _output_texts(cell):
                match = MACHINE_PATH.search(text)
                assert match is None, f"an output shows a machine path: {match.group(0)}"

    def test_python3_kernel(self, path):
        assert _load(path)["metadata"]["kernelspec"]["name"] == "python3"

    def test_every_glued_name_in_the_prose_is_glued_by_the_code(self, path):
        nb = _load(path)
        prose = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
        glued = set()
        for cell in _code_cells(nb):
            for out in cell.get("outputs", []):
                name = out.get("metadata", {}).get("scrapbook", {}).get("name")
                if name:
                    glued.add(name)
        missing = set(GLUE_REF.findall(prose)) - glued
        assert not missing, f"the prose refers to values never glued: {sorted(missing)}"

    def test_has_exercises_with_executed_solutions(self, path):
        nb = _load(path)
        cells = nb["cells"]
        sources = ["".join(c["source"]) for c in cells]
        exercises = sum(s.count("{exercise}") for s in sources)
        assert 2 <= exercises <= 5, f"{exercises} exercises; a chapter has 2-5"
        starts = [i for i, s in enumerate(sources) if "{solution-start}" in s]
        ends = [i for i, s in enumerate(sources) if "{solution-end}" in s]
        assert len(starts) == exercises == len(ends)
        for start, end in zip(starts, ends, strict=True):
            assert ":class: dropdown" in sources[start], "solutions hide behind a toggle"
            code = [c for c in cells[start:end] if c["cell_type"] == "code"]
            assert code, f"the solution starting at cell {start} has no code cell to execute"
            assert all(c["execution_count"] for c in code)

    def test_results_cells_assert_a_bar(self, path):
        sources = ["".join(c["source"]) for c in _code_cells(_load(path))]
        if any(call in s for s in sources for call in ("train_on_stream(", "fit(", "run_chains(")):
            bar = ("meets_bar(", "bars.check(")
            assert any(call in s for s in sources for call in bar), (
                "a training chapter must assert its bar (meets_bar or Bars.check)"
            )

    def test_cells_checked_by_nbval_have_outputs(self, path):
        for cell in _code_cells(_load(path)):
            tags = cell.get("metadata", {}).get("tags", [])
            if "NBVAL_CHECK_OUTPUT" in "".join(cell["source"]) or "nbval-check-output" in tags:
                assert cell.get("outputs"), "a cell checked by nbval needs a stored output"


def _shown(cell, part):
    tags = cell.get("metadata", {}).get("tags", [])
    return "remove-cell" not in tags and f"remove-{part}" not in tags


def lines_past_the_page(nb) -> list[str]:
    """Visible code lines and printed lines wider than the page, as 'cell i: line'."""
    found = []
    for i, cell in enumerate(_code_cells(nb)):
        if _shown(cell, "input"):
            found += [
                f"code cell {i}: {line}"
                for line in "".join(cell["source"]).splitlines()
                if len(line) > PAGE_WIDTH and COLAB_INSTALL not in line
            ]
        if _shown(cell, "output"):
            for out in cell.get("outputs", []):
                data = out.get("data", {})
                if "text" in out:
                    text = "".join(out["text"])
                elif "text/plain" in data and not any(
                    m in data for m in ("text/html", "image/png")
                ):
                    text = "".join(data["text/plain"])
                else:
                    continue
                found += [
                    f"output of code cell {i}: {line}"
                    for line in text.splitlines()
                    if len(line) > PAGE_WIDTH
                ]
    return found


def test_lines_past_the_page_are_found():
    nb = {
        "cells": [
            {"cell_type": "code", "metadata": {}, "source": ["x" * 89], "outputs": []},
            {
                "cell_type": "code",
                "metadata": {"tags": ["remove-cell"]},
                "source": ["y" * 120],
                "outputs": [{"output_type": "stream", "name": "stdout", "text": ["z" * 120]}],
            },
            {
                "cell_type": "code",
                "metadata": {"tags": ["remove-input"]},
                "source": ["w" * 120],
                "outputs": [{"output_type": "stream", "name": "stdout", "text": ["v" * 89]}],
            },
        ]
    }
    assert lines_past_the_page(nb) == [
        f"code cell 0: {'x' * 89}",
        f"output of code cell 2: {'v' * 89}",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_and_printed_lines_fit_the_page(path):
    wide = lines_past_the_page(_load(path))
    assert not wide, f"{len(wide)} lines wider than {PAGE_WIDTH} columns:\n" + "\n".join(wide)


BOOKKEEPING = ("glue(", "meets_bar(", "bars.check(", "NBVAL_")


def bookkeeping_on_the_page(nb) -> list[str]:
    """What a reader would see that exists only for the checks, as 'cell i: what'.

    Code cells count when the page shows their input (collapsed ones too).
    """
    found = []
    for i, cell in enumerate(_code_cells(nb)):
        if _shown(cell, "input"):
            source = "".join(cell["source"])
            found += [f"code cell {i}: {word}" for word in BOOKKEEPING if word in source]
            if "lc.config(" in source:
                found.append(f"code cell {i}: lc.config(")
        if _shown(cell, "output"):
            found += [
                f"output of code cell {i}: {line}"
                for text in _output_texts(cell)
                for line in text.splitlines()
                if re.search(r"required\): (PASS|FAIL)$", line)
            ]
    return found


def test_bookkeeping_on_the_page_is_found():
    def cell(source, tags=(), text=""):
        outputs = [{"output_type": "stream", "name": "stdout", "text": [text]}] if text else []
        return {
            "cell_type": "code",
            "metadata": {"tags": list(tags)},
            "source": [source],
            "outputs": outputs,
        }

    nb = {
        "cells": [
            cell("x = 1\nglue('x', x)"),
            cell("glue('y', 2)", ["remove-cell"]),
            cell("cfg = lc.config(n=(2, 1))", ["hide-input"]),
            cell("print(v)", text="v = 1 (>= 0 required): PASS\n"),
        ]
    }
    assert bookkeeping_on_the_page(nb) == [
        "code cell 0: glue(",
        "code cell 2: lc.config(",
        "output of code cell 3: v = 1 (>= 0 required): PASS",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_bookkeeping_on_the_page(path):
    # The checks stay as strict; they run in cells the book does not show.
    found = bookkeeping_on_the_page(_load(path))
    assert not found, "move these into cells tagged remove-cell:\n" + "\n".join(found)


def test_every_chapter_is_formatted_at_the_page_width():
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / "book" / "ruff.toml").read_text(encoding="utf-8"))
    assert config["line-length"] == PAGE_WIDTH
    assert not config.get("extend-exclude"), "book/ruff.toml exempts chapters from the width"


def test_ci_runs_make_test_with_the_shared_data():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "LSTM_COURSE_DATA=../shared/data" in ci
    assert re.search(r"^make test$", ci, re.M)


def test_make_test_runs_nbval_in_fast_mode_over_the_book():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    notebooks_rule = makefile.split("\nnotebooks:", 1)[1].split("\n\n", 1)[0]
    assert "LSTM_COURSE_FAST=1" in notebooks_rule
    assert "--nbval-lax" in notebooks_rule and notebooks_rule.rstrip().endswith("book")
    test_rule = re.search(r"^test: (.*)$", makefile, re.M).group(1).split()
    assert test_rule == ["lint", "unit", "notebooks", "book-strict", "site"]


def test_make_test_opens_the_built_site_in_a_browser_and_cannot_skip_it():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    site_rule = makefile.split("\nsite:", 1)[1].split("\n\n", 1)[0]
    assert "LSTM_COURSE_REQUIRE_BROWSER=1" in site_rule
    assert "tests/test_site_in_browser.py" in site_rule
    assert "site: chromium" in makefile and "tests/ensure_chromium.py" in makefile
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "\nmake test" in ci and "apt-get" not in ci, "make test installs Chromium itself"


def test_readme_gives_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make book" in readme and "make test" in readme
