import textwrap

import pytest

from lstm_course.book_tools import reproduce as notebooks
from lstm_course.book_tools.reproduce import ROOT, chapter_notebooks, main, toc_files

TOC = """\
format: jb-book
root: book/intro
parts:
  - caption: Foundations
    chapters:
      - file: book/01_first
        sections:
          - file: book/01a_detail
            sections:
              - file: book/01a1_deeper
          - file: book/01b_detail
      - file: book/02_second
  - caption: Back matter
    chapters:
      - url: https://example.org
        title: An external link
      - file: book/references
"""

ORDER = [
    "book/intro",
    "book/01_first",
    "book/01a_detail",
    "book/01a1_deeper",
    "book/01b_detail",
    "book/02_second",
    "book/references",
]


def _write_book(root, toc=TOC, notebooks=(), markdown=()):
    (root / "_toc.yml").write_text(textwrap.dedent(toc), encoding="utf-8")
    (root / "book").mkdir(exist_ok=True)
    for name in notebooks:
        (root / f"{name}.ipynb").write_text("{}", encoding="utf-8")
    for name in markdown:
        (root / f"{name}.md").write_text("# title\n", encoding="utf-8")


# --- toc_files ------------------------------------------------------------------------


def test_toc_files_reading_order(tmp_path):
    _write_book(tmp_path)
    assert toc_files(tmp_path) == ORDER


def test_toc_files_chapters_without_parts(tmp_path):
    _write_book(
        tmp_path,
        toc="""\
        format: jb-book
        root: index
        chapters:
          - file: b
          - file: a
            sections:
              - file: a1
    """,
    )
    assert toc_files(tmp_path) == ["index", "b", "a", "a1"]


def test_toc_files_of_the_repository():
    files = toc_files()
    assert files, "the repository's _toc.yml names no file"
    assert len(files) == len(set(files))
    assert all(isinstance(f, str) for f in files)


# --- chapter_notebooks ----------------------------------------------------------------


def test_chapter_notebooks_existing_in_toc_order(tmp_path):
    # Written out of order; one toc entry is markdown, one is missing, one notebook is
    # not in the toc at all.
    _write_book(
        tmp_path,
        notebooks=["book/02_second", "book/01a1_deeper", "book/01_first", "book/not_in_toc"],
        markdown=["book/intro", "book/references"],
    )
    assert chapter_notebooks(tmp_path) == [
        tmp_path / "book/01_first.ipynb",
        tmp_path / "book/01a1_deeper.ipynb",
        tmp_path / "book/02_second.ipynb",
    ]


def test_chapter_notebooks_none_exist(tmp_path):
    _write_book(tmp_path)
    assert chapter_notebooks(tmp_path) == []


def test_chapter_notebooks_of_the_repository_exist():
    paths = chapter_notebooks()
    assert all(p.suffix == ".ipynb" and p.is_file() for p in paths)
    assert all(p.is_relative_to(ROOT) for p in paths)


def test_chapter_notebooks_toc_entry_with_extension(tmp_path):
    _write_book(
        tmp_path,
        toc="""\
        format: jb-book
        root: intro
        chapters:
          - file: book/01_first.ipynb
    """,
        notebooks=["book/01_first"],
    )
    assert toc_files(tmp_path) == ["intro", "book/01_first"]
    assert chapter_notebooks(tmp_path) == [tmp_path / "book/01_first.ipynb"]


# --- main -----------------------------------------------------------------------------


@pytest.fixture
def no_execution(monkeypatch):
    """Fake chapters under ROOT, and an ``execute`` that only records its calls."""
    fake = [
        ROOT / "book" / "x1_alpha.ipynb",
        ROOT / "book" / "x2_beta.ipynb",
        ROOT / "book" / "x3_gamma.ipynb",
    ]
    ran = []

    def fake_execute(path, timeout=7200):
        ran.append(path)
        return 0.0

    monkeypatch.setattr(notebooks, "chapter_notebooks", lambda root=ROOT: list(fake))
    monkeypatch.setattr(notebooks, "execute", fake_execute)
    return fake, ran


def test_main_unknown_notebook_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["reproduce", "no_such_notebook"])
    assert info.value.code == 2
    assert "no_such_notebook" in capsys.readouterr().err


def test_main_unknown_notebook_runs_nothing(no_execution, capsys):
    _, ran = no_execution
    with pytest.raises(SystemExit) as info:
        main(["reproduce", "x1_alpha", "no_such_notebook"])
    assert info.value.code == 2
    assert ran == []
    err = capsys.readouterr().err
    assert "no_such_notebook" in err
    assert "x1_alpha'" not in err


def test_main_needs_a_command(capsys):
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2


def test_main_selects_by_name_or_stem_in_reading_order(no_execution, capsys):
    fake, ran = no_execution
    assert main(["reproduce", "x3_gamma.ipynb", "x1_alpha"]) == 0
    assert ran == [fake[0], fake[2]]
    out = capsys.readouterr().out
    assert "[1/2]" in out and "[2/2]" in out
    assert out.index("x1_alpha") < out.index("x3_gamma")


def test_main_defaults_to_all(no_execution, capsys):
    fake, ran = no_execution
    assert main(["reproduce"]) == 0
    assert ran == fake
    assert "[3/3]" in capsys.readouterr().out
