"""The book's notebooks: find them in reading order and re-execute them in full mode.

``python -m lstm_course.book_tools.reproduce reproduce [NAME ...]`` (what ``make reproduce`` runs)
executes each chapter top to bottom on a fresh kernel, in place, one after another,
with a progress bar over its cells.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from lstm_course.runtime import BARS_ENV

__all__ = [
    "ROOT",
    "toc_files",
    "chapter_notebooks",
    "execute",
    "main",
]

ROOT = Path(__file__).resolve().parents[2]


def toc_files(root: Path = ROOT) -> list[str]:
    """Every file named in ``_toc.yml``, in reading order (without extensions)."""
    import yaml

    def strip(name: str) -> str:
        # _toc.yml entries may carry an extension; Jupyter Book accepts both forms.
        path = Path(name)
        return str(path.with_suffix("")) if path.suffix in {".ipynb", ".md", ".rst"} else name

    def walk(node):
        if isinstance(node, dict):
            if "root" in node:
                yield strip(node["root"])
            if "file" in node:
                yield strip(node["file"])
            for key in ("parts", "chapters", "sections"):
                for child in node.get(key, []):
                    yield from walk(child)

    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    return list(walk(toc))


def chapter_notebooks(root: Path = ROOT) -> list[Path]:
    """The chapter notebooks, in reading order."""
    paths = [root / f"{name}.ipynb" for name in toc_files(root)]
    return [p for p in paths if p.exists()]


def execute(path: Path, timeout: int = 7200) -> float:
    """Run one notebook top to bottom in full mode on a fresh kernel; save it in place.

    Returns the wall time in seconds. Raises on the first failing cell (the partly run
    notebook is not saved, so a committed notebook is never half-run).
    """
    import nbformat
    from nbclient import NotebookClient
    from tqdm.auto import tqdm

    nb = nbformat.read(path, as_version=4)
    code_cells = sum(1 for c in nb.cells if c.cell_type == "code")
    bar = tqdm(total=code_cells, desc=path.name, unit="cell")

    def advance(cell, **_):
        if cell.cell_type == "code":
            bar.update(1)

    env_fast = os.environ.pop("LSTM_COURSE_FAST", None)
    # No progress widgets in the published pages (lstm_course.runtime.show_bars).
    env_bars = os.environ.get(BARS_ENV)
    os.environ[BARS_ENV] = "0"
    start = time.perf_counter()
    try:
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
            record_timing=False,
            store_widget_state=False,
            on_cell_complete=advance,
        )
        client.execute()
    finally:
        bar.close()
        if env_fast is not None:
            os.environ["LSTM_COURSE_FAST"] = env_fast
        if env_bars is None:
            del os.environ[BARS_ENV]
        else:
            os.environ[BARS_ENV] = env_bars
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("reproduce", help="re-execute notebooks in full mode, in place")
    run.add_argument("names", nargs="*", help="notebook file names (default: all, in order)")
    args = parser.parse_args(argv)

    notebooks = chapter_notebooks()
    if args.names:
        wanted = set(args.names)
        notebooks = [p for p in notebooks if p.name in wanted or p.stem in wanted]
        missing = wanted - {p.name for p in notebooks} - {p.stem for p in notebooks}
        if missing:
            parser.error(f"no chapter notebook named {sorted(missing)}; see _toc.yml")
    for i, path in enumerate(notebooks, 1):
        print(f"[{i}/{len(notebooks)}] {path.relative_to(ROOT)}", flush=True)
        seconds = execute(path)
        print(f"    done in {seconds:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
