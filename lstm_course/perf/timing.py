"""Timers the way the course reports times: side by side in one run, with warm-up, as
medians; and the two ceilings of a machine, its matrix-product rate and its memory
bandwidth. This module imports nothing else of the course (only the standard library,
NumPy and PyTorch), so that anything may time itself with it.

- :func:`time_it`, :func:`time_interleaved`: wall times of functions, as :class:`Timing`;
- :class:`RoundMedians`: reading the round medians of several functions timed in rounds;
- :func:`product_timing`, :func:`sgemm_gflops`: one large float32 matrix product by one
  library, its times and its rate;
- :func:`memory_bandwidth_gbs`: the rate of a large copy;
- :func:`run_worker`: one measurement in a fresh Python process, returned as JSON.
"""

from __future__ import annotations

import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch

__all__ = [
    "ItemAccess",
    "RoundMedians",
    "Timing",
    "time_it",
    "time_interleaved",
    "product_timing",
    "sgemm_gflops",
    "memory_bandwidth_gbs",
    "run_worker",
]


class ItemAccess:
    """Lets a dataclass's fields be read as items too: ``record["median"]``.

    Chapters ``04_numpy_lstm`` and ``05_torch_lstm`` were executed when these records were
    dicts, and their stored code indexes them; new code reads the attributes (``record.median``).
    """

    def __getitem__(self, key: str):
        if key not in {f.name for f in dataclasses.fields(self)}:
            raise KeyError(key)
        return getattr(self, key)


@dataclasses.dataclass(frozen=True)
class Timing(ItemAccess):
    """Wall times of one function, in seconds: ``times`` of every timed run, in order,
    and their ``median``, ``min`` and ``max``."""

    median: float
    min: float
    max: float
    times: list[float]

    @classmethod
    def of(cls, times: list[float]) -> Timing:
        return cls(statistics.median(times), min(times), max(times), times)


class RoundMedians:
    """Readings of ``self.per_round``: name -> that way's round medians (seconds), in
    round order, every name timed in the same rounds (a round being one call of
    :func:`time_interleaved`). Results that time in rounds inherit from it."""

    per_round: dict[str, list[float]]

    def round_range(self, name: str) -> tuple[float, float]:
        """The fastest and slowest of ``name``'s round medians, seconds."""
        return min(self.per_round[name]), max(self.per_round[name])

    def per_round_ratios(self, name: str, reference: str) -> list[float]:
        """``name``'s round median over ``reference``'s in the same round, round by round."""
        pairs = zip(self.per_round[name], self.per_round[reference], strict=True)
        return [a / b for a, b in pairs]

    def always_faster(self, a: str, b: str) -> bool:
        """Whether every round median of ``a`` is below every round median of ``b``: their
        ranges over the rounds are apart, with ``a``'s below."""
        return self.round_range(a)[1] < self.round_range(b)[0]

    def verdict(self, a: str, b: str) -> str:
        """``a`` against ``b`` by :meth:`always_faster`: ``"faster"``, ``"slower"``, or
        ``"not told apart"`` where their ranges over the rounds overlap."""
        if self.always_faster(a, b):
            return "faster"
        return "slower" if self.always_faster(b, a) else "not told apart"


def _sync():
    # CUDA work is asynchronous: wait for it, so that a time is the work's, not the launch's.
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def time_it(fn: Callable[[], object], repeat: int = 10, warmup: int = 3) -> Timing:
    """The :class:`Timing` of ``fn()`` over ``repeat`` runs after ``warmup`` runs.

    CUDA work is synchronized so that the time is the work's, not the launch's.
    """
    return time_interleaved({"fn": fn}, repeat, warmup)["fn"]


def time_interleaved(
    fns: dict[str, Callable[[], object]], repeat: int = 10, warmup: int = 3
) -> dict[str, Timing]:
    """Time several functions side by side: each round runs every one of them once.

    Interleaving exposes every function to the same background load, so their ratios
    hold even on a busy machine. Returns a :class:`Timing` per name.
    """
    if repeat < 1 or warmup < 0:
        raise ValueError(f"need repeat >= 1 and warmup >= 0, got {repeat} and {warmup}")
    if not fns:
        raise ValueError("fns is empty: pass a dict of name -> function to time")
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    _sync()
    times = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            _sync()
            times[name].append(time.perf_counter() - start)
    return {name: Timing.of(ts) for name, ts in times.items()}


def product_timing(
    side: str, n: int = 2048, repeat: int = 5, device: str | torch.device = "cpu"
) -> Timing:
    """Wall times of an (n x n) @ (n x n) float32 matrix product, 2 n^3 operations, with
    ``side``'s library: ``"numpy"`` (NumPy's ``@``, CPU only), ``"torch"`` (``torch.mm``
    on ``device``) or ``"onednn"`` (oneDNN's inner product, the kernels ``nn.LSTM`` uses
    on the CPU, through PyTorch's ``mkldnn_linear``; CPU only): ``repeat`` products after
    two warm-ups.
    """
    device = torch.device(device)
    if side not in ("numpy", "torch", "onednn"):
        raise ValueError(f"unknown side {side!r}: use numpy, torch or onednn")
    if side != "torch" and device.type != "cpu":
        raise ValueError(f"{side} runs on the CPU only, not on {device}")
    if side == "numpy":
        a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
        product = lambda: a @ a  # noqa: E731
    elif side == "torch":
        a = torch.randn(n, n, device=device)
        product = lambda: a @ a  # noqa: E731
    else:
        if not torch.backends.mkldnn.is_available():
            raise RuntimeError("this PyTorch build has no oneDNN (mkldnn): measure numpy or torch")
        a = torch.randn(n, n).to_mkldnn()
        product = lambda: torch._C._nn.mkldnn_linear(a, a, None)  # noqa: E731  a @ a.T
    return time_it(product, repeat=repeat, warmup=2)


def sgemm_gflops(
    side: str, n: int = 2048, repeat: int = 5, device: str | torch.device = "cpu"
) -> float:
    """GFLOP/s of an (n x n) @ (n x n) float32 matrix product by ``side``'s library (see
    :func:`product_timing`): the median of ``repeat`` products after two warm-ups."""
    return 2 * n**3 / product_timing(side, n, repeat, device).median / 1e9


def memory_bandwidth_gbs(n: int = 1 << 25, device: str | torch.device = "cpu") -> float:
    """Measured copy bandwidth in GB/s: bytes read plus bytes written by ``b.copy_(a)``.

    ``n`` float32 numbers (128 MiB by default), far larger than any cache.
    """
    a = torch.ones(n, device=device)
    b = torch.empty_like(a)
    return 2 * 4 * n / time_it(lambda: b.copy_(a), repeat=5, warmup=2).median / 1e9


def run_worker(module: str, args: Sequence[str], env: dict[str, str] | None = None) -> dict:
    """Run ``python -m module *args`` in a fresh process and return the JSON object
    printed on its last line of output. ``env``: variables set for that process on top
    of this one's environment.

    A fresh process starts with cold thread pools and allocator caches of its own, so
    that one library's measurement cannot disturb another's.
    """
    cmd = [sys.executable, "-m", module, *map(str, args)]
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if done.returncode != 0:
        raise RuntimeError(
            f"the measuring process {' '.join(cmd[1:])} failed:\n{done.stderr[-2000:]}"
        )
    return json.loads(done.stdout.strip().splitlines()[-1])
