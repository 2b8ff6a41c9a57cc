"""What ``pip install "lstm_course @ git+..."`` gives a reader (on Colab, say): a wheel
with every module and the data files the package ships, importable away from the repository."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

import pytest

from lstm_course.book_tools.reproduce import ROOT

pytest.importorskip("setuptools")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    # Build from a copy of what the build reads, so that no build/ folder lands in the repository.
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(
        ROOT / "lstm_course", src / "lstm_course", ignore=shutil.ignore_patterns("__pycache__")
    )
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "--wheel-dir",
            str(out),
            str(src),
        ],
        check=True,
        cwd=src,
    )
    (path,) = out.glob("lstm_course-*.whl")
    return path


def test_the_wheel_holds_every_module_and_data_file(wheel):
    shipped = set(zipfile.ZipFile(wheel).namelist())
    package = ROOT / "lstm_course"
    expected = {
        p.relative_to(ROOT).as_posix()
        for p in package.rglob("*")
        if p.suffix in {".py", ".csv", ".md"} and "__pycache__" not in p.parts
    }
    assert expected <= shipped, f"missing from the wheel: {sorted(expected - shipped)}"


def test_the_installed_package_works_away_from_the_repository(wheel, tmp_path):
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--quiet",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
    )
    code = (
        "import lstm_course as lc, lstm_course.data as d; "
        "print(lc.__file__); print(len(d.load_co2()[1]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(site), "PATH": ""},
    )
    assert result.returncode == 0, result.stderr
    where, rows = result.stdout.split()
    assert where.startswith(str(site)), f"imported {where}, not the installed copy"
    assert int(rows) == 452  # May 1964 to December 2001, as load_co2 documents
