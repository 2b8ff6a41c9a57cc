"""The NumPy LSTM of ``lstm_course.scratch`` against ``torch.nn.LSTM``, forward + backward
(the table of chapter ``04_numpy_lstm``, and the last table of ``make bench``).

Each side runs in a process of its own (``python -m lstm_course.perf --worker SIDE T B D
H``), so that neither library's thread pools or allocator caches disturb the other.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import numpy as np
import torch

from lstm_course.checks import check_int
from lstm_course.perf.ceilings import training_flops
from lstm_course.perf.steps import numpy_lstm_step, torch_lstm_step
from lstm_course.perf.timing import (
    ItemAccess,
    Timing,
    run_worker,
    sgemm_gflops,
    time_interleaved,
    time_it,
)

__all__ = [
    "SHAPES",
    "SIDES",
    "SideTiming",
    "measure",
    "worker_args",
    "measure_in_subprocess",
    "Comparison",
    "compare_numpy_torch",
    "format_comparison",
    "numpy_time_breakdown",
]

#: (T, B, D, H) of the NumPy-against-PyTorch table.
SHAPES = [(80, 32, 128, 128), (35, 32, 256, 256), (100, 64, 256, 256)]
SIDES = ("numpy", "torch")


@dataclass(frozen=True)
class SideTiming:
    """One side's forward + backward pass at ``shape`` (T, B, D, H), timed in one process:
    ``median``, ``min`` and ``max`` seconds, that process's ``sgemm_gflops`` with the
    same library (NumPy's ``@`` or ``torch.mm``), on the torch side also oneDNN's
    (``onednn_gflops``, None where the build has no oneDNN), and its ``threads``."""

    side: str
    shape: tuple[int, int, int, int]
    median: float
    min: float
    max: float
    sgemm_gflops: float
    threads: int
    onednn_gflops: float | None = None

    def __post_init__(self):
        object.__setattr__(self, "shape", tuple(self.shape))  # JSON gives back a list


def measure(
    side: str, T: int, B: int, D: int, H: int, repeat: int = 9, warmup: int = 3
) -> SideTiming:
    """Time one side (``"numpy"`` or ``"torch"``) in this process, and its sgemm rate."""
    if side not in SIDES:
        raise ValueError(f"unknown side {side!r}: use numpy or torch")
    step = (numpy_lstm_step if side == "numpy" else torch_lstm_step)(T, B, D, H)
    timing = time_it(step, repeat=repeat, warmup=warmup)
    with_onednn = side == "torch" and torch.backends.mkldnn.is_available()
    return SideTiming(
        side,
        (T, B, D, H),
        timing.median,
        timing.min,
        timing.max,
        sgemm_gflops(side),
        torch.get_num_threads(),
        sgemm_gflops("onednn") if with_onednn else None,
    )


def worker_args(side: str, shape, repeat: int, warmup: int) -> list[str]:
    """The arguments of ``python -m lstm_course.perf`` that make it a :func:`measure`
    worker: ``lstm_course.perf.cli`` reads them and prints the :class:`SideTiming` as
    one line of JSON."""
    return ["--worker", side, *map(str, shape), "--repeat", str(repeat), "--warmup", str(warmup)]


def measure_in_subprocess(side: str, shape, repeat: int = 9, warmup: int = 3) -> SideTiming:
    """:func:`measure` in a fresh Python process."""
    return SideTiming(**run_worker("lstm_course.perf", worker_args(side, shape, repeat, warmup)))


@dataclass(frozen=True)
class Comparison(ItemAccess):
    """One shape (T, B, D, H) of :func:`compare_numpy_torch`: each side's time (ms) and
    GFLOP/s; ``ratio``, NumPy's time over PyTorch's, and ``ratio_range``, the lowest and
    highest ratio of a single round.

    The 2048^3 float32 product rates measured in the same processes, medians over the
    rounds: ``numpy_sgemm`` (NumPy's ``@``), ``torch_sgemm`` (``torch.mm``) and
    ``onednn_sgemm`` (oneDNN's, or None). ``numpy_of_sgemm`` is NumPy's GFLOP/s as a
    share of NumPy's own product rate, ``torch_of_sgemm`` and ``torch_of_onednn``
    PyTorch's as a share of ``torch.mm``'s and of oneDNN's.
    """

    shape: tuple[int, int, int, int]
    numpy_ms: float
    torch_ms: float
    ratio: float
    ratio_range: tuple[float, float]
    numpy_gflops: float
    torch_gflops: float
    numpy_sgemm: float
    torch_sgemm: float
    onednn_sgemm: float | None
    numpy_of_sgemm: float
    torch_of_sgemm: float
    torch_of_onednn: float | None


def compare_numpy_torch(
    shapes=SHAPES, repeat: int = 9, warmup: int = 3, rounds: int = 3
) -> list[Comparison]:
    """NumPy LSTM against nn.LSTM, forward + backward, each side in its own process.

    Each shape is measured in ``rounds`` rounds, NumPy then PyTorch, a fresh process each
    time: a shared machine's speed drifts by tens of percent over minutes, so one pair of
    processes can mislead. Each side's time is the median over the rounds of its
    per-process medians; its GFLOP/s is :func:`~lstm_course.perf.ceilings.training_flops`
    over that, also as a share of its own library's 2048^3 product rate (and, for
    PyTorch, of oneDNN's). One :class:`Comparison` per shape.
    """
    check_int("rounds", rounds)
    rows = []
    for shape in shapes:
        runs = [
            {side: measure_in_subprocess(side, shape, repeat, warmup) for side in SIDES}
            for _ in range(rounds)
        ]
        sgemm = {side: statistics.median(r[side].sgemm_gflops for r in runs) for side in SIDES}
        onednn = [r["torch"].onednn_gflops for r in runs]
        onednn_sgemm = None if None in onednn else statistics.median(onednn)
        ms = {side: 1e3 * statistics.median(r[side].median for r in runs) for side in SIDES}
        gflops = {side: training_flops(*shape) / ms[side] / 1e6 for side in SIDES}
        per_round = [r["numpy"].median / r["torch"].median for r in runs]
        rows.append(
            Comparison(
                shape=tuple(shape),
                numpy_ms=ms["numpy"],
                torch_ms=ms["torch"],
                ratio=ms["numpy"] / ms["torch"],
                ratio_range=(min(per_round), max(per_round)),
                numpy_gflops=gflops["numpy"],
                torch_gflops=gflops["torch"],
                numpy_sgemm=sgemm["numpy"],
                torch_sgemm=sgemm["torch"],
                onednn_sgemm=onednn_sgemm,
                numpy_of_sgemm=gflops["numpy"] / sgemm["numpy"],
                torch_of_sgemm=gflops["torch"] / sgemm["torch"],
                torch_of_onednn=None if onednn_sgemm is None else gflops["torch"] / onednn_sgemm,
            )
        )
    return rows


def format_comparison(rows: list[Comparison]) -> str:
    """The rows of :func:`compare_numpy_torch` as a plain-text table, 88 columns wide."""
    lines = [
        f"{'(T, B, D, H)':<19} {'NumPy ms':>8} {'torch ms':>8} {'ratio':>5} "
        f"{'(per round)':>11} {'NumPy GFLOP/s':>15} {'torch GFLOP/s':>16}"
    ]
    for r in rows:
        low, high = r.ratio_range
        onednn = "" if r.torch_of_onednn is None else f" {r.torch_of_onednn:>4.0%}"
        lines.append(
            f"{str(r.shape):<19} {r.numpy_ms:>8.2f} {r.torch_ms:>8.2f} "
            f"{r.ratio:>5.2f} {f'{low:.2f}-{high:.2f}':>11} "
            f"{r.numpy_gflops:>8.0f} ({r.numpy_of_sgemm:>4.0%})"
            f" {r.torch_gflops:>5.0f} {r.torch_of_sgemm:>4.0%}{onednn}"
        )
    rate = {
        name: statistics.median(getattr(r, attr) for r in rows)
        for name, attr in (("NumPy's @", "numpy_sgemm"), ("torch.mm", "torch_sgemm"))
    }
    if all(r.onednn_sgemm is not None for r in rows):
        rate["oneDNN"] = statistics.median(r.onednn_sgemm for r in rows)
    lines.append(
        "percentages: of each library's own 2048^3 float32 product, measured in the same\n"
        "processes; for torch, of torch.mm's"
        + (", then of oneDNN's" if "oneDNN" in rate else "")
        + ". Those products, in GFLOP/s:\n"
        + ", ".join(f"{name} {v:.0f}" for name, v in rate.items())
    )
    return "\n".join(lines)


def numpy_time_breakdown(T: int, B: int, D: int, H: int, repeat: int = 9) -> dict[str, Timing]:
    """Where the NumPy LSTM's forward + backward time goes: a :class:`Timing` per part.

    ``total`` is the whole pass; the other entries time the same matrix products on
    their own (``input projection``, ``recurrent, forward``, ``recurrent, backward``,
    ``weight gradients``, ``input gradient``); ``everything else`` (elementwise work,
    memory, Python) is the difference, round by round. All parts and the whole pass are
    timed side by side (each round runs every one once), so a round's difference is
    taken under one background load, and each part comes with its range over rounds.
    A dict, because its keys are the labels a plot of the parts shows, in order.
    """
    rng = np.random.default_rng(0)
    f32 = np.float32
    x = rng.standard_normal((T * B, D)).astype(f32)
    w_ih, w_hh = (rng.standard_normal(s).astype(f32) for s in [(4 * H, D), (4 * H, H)])
    h, out_fwd = np.zeros((B, H), f32), np.empty((B, 4 * H), f32)
    da, out_bwd = rng.standard_normal((T * B, 4 * H)).astype(f32), np.empty((B, H), f32)
    hs = rng.standard_normal((T * B, H)).astype(f32)

    def recurrent_forward():
        for _ in range(T):
            np.matmul(h, w_hh.T, out=out_fwd)

    def recurrent_backward():
        for t in range(T):
            np.matmul(da[t * B : (t + 1) * B], w_hh, out=out_bwd)

    parts = {
        "input projection": lambda: x @ w_ih.T,
        "recurrent, forward": recurrent_forward,
        "recurrent, backward": recurrent_backward,
        "weight gradients": lambda: (da.T @ x, da.T @ hs),
        "input gradient": lambda: da @ w_ih,
    }
    timed = time_interleaved({"total": numpy_lstm_step(T, B, D, H), **parts}, repeat=repeat)
    rest = [
        whole - sum(timed[name].times[k] for name in parts)
        for k, whole in enumerate(timed["total"].times)
    ]
    return {**timed, "everything else": Timing.of(rest)}
