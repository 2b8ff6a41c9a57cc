"""One-call notebook setup: mode (full/fast), seeds, device, plot defaults, banner; and
independent jobs run side by side in one-thread worker processes (:func:`map_in_workers`).

Every notebook's first code cell is ``setup()``. Sizes that differ between a reader's
full run and CI's fast run come from :func:`pick` or :func:`config`, so a notebook
never branches on the mode itself.
"""

from __future__ import annotations

import os
import platform
import random
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from functools import partial
from multiprocessing import get_context
from types import SimpleNamespace

import numpy as np
import torch
from tqdm.auto import tqdm

from lstm_course.checks import check_int

__all__ = [
    "FAST_ENV",
    "is_fast",
    "mode",
    "pick",
    "config",
    "get_device",
    "seed_everything",
    "set_plot_defaults",
    "Runtime",
    "setup",
    "default_workers",
    "map_in_workers",
    "BARS_ENV",
    "show_bars",
    "progress_bar",
]

FAST_ENV = "LSTM_COURSE_FAST"
BARS_ENV = "LSTM_COURSE_BARS"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def show_bars() -> bool:
    """False when ``$LSTM_COURSE_BARS`` is 0. ``make reproduce`` sets it while it runs the
    book's notebooks: a progress widget stored in a notebook shows only its first state
    ("0%") on the published page, so the pages get the printed summaries alone."""
    return os.environ.get(BARS_ENV, "1").strip().lower() not in _FALSE


def progress_bar(iterable=None, *, progress: bool = True, **kwargs):
    """A ``tqdm.auto`` bar over ``iterable`` (or a manual one, with ``total=``), shown when
    ``progress`` is true and :func:`show_bars` allows it; ``kwargs`` go to ``tqdm``."""
    return tqdm(iterable, disable=not (progress and show_bars()), **kwargs)


def is_fast() -> bool:
    """True when ``$LSTM_COURSE_FAST`` asks for the fast (CI) mode."""
    value = os.environ.get(FAST_ENV, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"{FAST_ENV}={os.environ[FAST_ENV]!r} is not understood: "
        "set it to 1 for the fast mode, or unset it (or 0) for the full mode"
    )


def mode() -> str:
    """``"fast"`` or ``"full"``."""
    return "fast" if is_fast() else "full"


def pick(full, fast):
    """Return ``full`` in the full mode and ``fast`` in the fast mode."""
    return fast if is_fast() else full


def config(**sizes) -> SimpleNamespace:
    """Pick every size at once: ``config(epochs=(20, 2))`` -> ``namespace(epochs=20)``.

    Each keyword takes a ``(full, fast)`` pair.
    """
    picked = {}
    for name, pair in sizes.items():
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise ValueError(f"config({name}=...) needs a (full, fast) pair, got {pair!r}")
        picked[name] = pick(*pair)
    return SimpleNamespace(**picked)


def get_device(prefer: str | None = None) -> torch.device:
    """The best device here: CUDA, then Apple MPS, then the CPU.

    ``prefer="cpu"`` (or ``$LSTM_COURSE_DEVICE``) forces a device.
    """
    prefer = prefer or os.environ.get("LSTM_COURSE_DEVICE")
    if prefer:
        device = torch.device(prefer)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError("CUDA was asked for but is not available: use 'cpu' or unset it")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices)."""
    seed = check_int("seed", seed, minimum=0)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 -- seeds the global generator readers' code uses
    torch.manual_seed(seed)


def set_plot_defaults() -> None:
    """Readable, consistent figures across chapters, shown inline in a notebook."""
    import matplotlib as mpl

    _use_inline_backend_in_notebooks()

    mpl.rcParams.update(
        {
            "figure.figsize": (7.0, 3.6),
            "figure.dpi": 110,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
            "font.size": 10,
        }
    )


def _use_inline_backend_in_notebooks() -> None:
    # A kernel started with MPLBACKEND=Agg (as headless runners often are) would show no
    # figures and store none in the notebook; inside IPython, figures must go inline.
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and shell.__class__.__name__ == "ZMQInteractiveShell":
        shell.run_line_magic("matplotlib", "inline")


@dataclass(frozen=True)
class Runtime:
    """What :func:`setup` chose; notebooks read ``device`` from it."""

    mode: str
    device: torch.device
    seed: int
    threads: int

    def banner(self) -> str:
        device = str(self.device)
        if self.device.type == "cuda":
            device += f" ({torch.cuda.get_device_name(self.device)})"
        return (
            f"mode: {self.mode} | Python {platform.python_version()} | "
            f"NumPy {np.__version__} | torch {torch.__version__} | "
            f"device: {device} | threads: {self.threads}"
        )


def setup(
    seed: int = 0, device: str | None = None, quiet: bool = False, threads: int | None = None
) -> Runtime:
    """Seed everything, pick the device, set plot defaults and print one banner line.

    ``threads`` sets PyTorch's CPU thread count first (None keeps the default), so the
    banner reports the count the notebook really runs with.
    """
    if threads is not None:
        torch.set_num_threads(check_int("threads", threads, why=" or None"))
    seed_everything(seed)
    set_plot_defaults()
    runtime = Runtime(
        mode=mode(), device=get_device(device), seed=seed, threads=torch.get_num_threads()
    )
    if not quiet:
        print(runtime.banner())
    return runtime


def default_workers(device: torch.device | str = "cpu") -> int:
    """How many one-thread workers :func:`map_in_workers` should use: one per CPU core on
    a CPU, one on a GPU (jobs would only queue for it)."""
    return 1 if torch.device(device).type != "cpu" else max(1, os.cpu_count() or 1)


def _one_thread(fn: Callable, item):
    torch.set_num_threads(1)
    return fn(item)


def map_in_workers(
    fn: Callable,
    items: Sequence,
    workers: int = 1,
    *,
    initializer: Callable | None = None,
    initargs: tuple = (),
    progress: bool = True,
    desc: str = "jobs",
) -> list:
    """``[fn(item) for item in items]``, computed in ``workers`` processes of one thread.

    Independent small-network trainings are expected to run faster this way on a CPU
    than one after another with every thread each, since their matrices are too small
    to keep two threads busy (not timed in the book; measure before relying on it). Workers start fresh ("spawn"), so a
    result does not depend on the parent's state, and ``initializer(*initargs)`` runs
    once in each (to receive large shared data once, not with every item). ``fn``,
    ``initializer`` and the items must be picklable (module-level functions).
    ``workers=1`` runs everything here, in order, with the current thread count.

    Returns the results in the order of ``items``.
    """
    workers = check_int("workers", workers)
    items = list(items)
    bar = progress_bar(total=len(items), desc=desc, progress=progress)
    if workers == 1:
        if initializer is not None:
            initializer(*initargs)
        results = []
        for item in items:
            results.append(fn(item))
            bar.update()
    else:
        results = [None] * len(items)
        context = get_context("spawn")
        with ProcessPoolExecutor(
            min(workers, len(items)) or 1, context, initializer, initargs
        ) as pool:
            futures = {
                pool.submit(partial(_one_thread, fn), item): i for i, item in enumerate(items)
            }
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                bar.update()
    bar.close()
    return results
