"""Each chapter's set-up cell installs ``lstm_course`` where it is missing (Colab).

The cell imports the package and, only when that fails, pip-installs it from the
repository and branch named in ``_config.yml``. The install is mocked here: the
snippet runs through IPython's own input transformer (which turns ``%pip`` into a
``get_ipython().run_line_magic`` call) against a fake shell.
"""

from __future__ import annotations

import json
import re
import sys

import pytest
import yaml
from IPython.core.inputtransformer2 import TransformerManager

from lstm_course.book_tools.reproduce import ROOT, chapter_notebooks

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
CHAPTERS = chapter_notebooks()
SETUP = re.compile(
    r"^try:\n"
    r"    import lstm_course as lc\n"
    r"except ModuleNotFoundError:.*\n"
    r"    %pip install --quiet \"lstm_course @ git\+(?P<url>[^\"@]+)@(?P<branch>[^\"]+)\"\n"
    r"    import lstm_course as lc\n",
    re.M,
)


def setup_cell(path) -> str:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return "".join(next(c for c in nb["cells"] if c["cell_type"] == "code")["source"])


def install_snippet(path) -> str:
    match = SETUP.search(setup_cell(path))
    assert match, (
        f"{path.name}: the first code cell must import lstm_course inside the "
        "try/except that installs it on Colab (copy it from any other chapter)"
    )
    return match.group(0)


class FakeShell:
    """Stands in for IPython: records ``%pip`` calls; "installing" makes the import work."""

    def __init__(self, monkeypatch):
        self.calls: list[tuple[str, str]] = []
        self.monkeypatch = monkeypatch

    def run_line_magic(self, name: str, line: str) -> None:
        self.calls.append((name, line))
        self.monkeypatch.delitem(sys.modules, "lstm_course")  # the real one is importable again


def run_snippet(snippet: str, shell: FakeShell) -> dict:
    code = TransformerManager().transform_cell(snippet)
    namespace = {"get_ipython": lambda: shell}
    exec(compile(code, "<setup cell>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_the_setup_cell_installs_from_the_configured_repository(path):
    match = SETUP.search(install_snippet(path))
    repository = CONFIG["repository"]
    assert match["url"] == repository["url"], f"{path.name} installs from {match['url']}"
    assert match["branch"] == repository["branch"], f"{path.name} installs {match['branch']}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_the_setup_cell_pip_installs_only_when_the_package_is_missing(path, monkeypatch):
    snippet = install_snippet(path)
    shell = FakeShell(monkeypatch)
    assert run_snippet(snippet, shell)["lc"].__name__ == "lstm_course"
    assert shell.calls == [], "the package is importable here: nothing may be installed"

    monkeypatch.setitem(sys.modules, "lstm_course", None)  # as on Colab: import fails
    namespace = run_snippet(snippet, shell)
    repository = CONFIG["repository"]
    assert shell.calls == [
        ("pip", f'install --quiet "lstm_course @ git+{repository["url"]}@{repository["branch"]}"')
    ]
    assert namespace["lc"].__name__ == "lstm_course"


def test_a_hidden_package_really_fails_to_import(monkeypatch):
    # The mock above relies on this: a None entry in sys.modules makes the import raise
    # ModuleNotFoundError, the exception the set-up cell catches.
    monkeypatch.setitem(sys.modules, "lstm_course", None)
    with pytest.raises(ModuleNotFoundError):
        exec("import lstm_course")


def test_the_installed_distribution_name_is_the_one_the_cells_install():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^name = "lstm_course"$', pyproject, re.M)
