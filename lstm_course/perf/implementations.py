"""How fast is an LSTM? The measurements of chapter ``06_lstm_speed`` (and of
``make bench``).

One forward + backward pass of one LSTM layer over (T, B, D) inputs, float32, the input's
gradient included, timed for several implementations (``lstm_course.perf.steps``). The
PyTorch ones run side by side with :func:`lstm_course.perf.timing.time_interleaved`:
every round runs each of them once, so they all see the same background load. The NumPy
LSTM runs afterwards in a process of its own, so that the two libraries' thread pools
cannot compete; its ratio is therefore not a side-by-side one.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import torch

from lstm_course.perf.ceilings import Ceilings, time_at_rates, training_flops
from lstm_course.perf.numpy_vs_torch import measure_in_subprocess
from lstm_course.perf.steps import IMPLEMENTATIONS, onednn_enabled, torch_step
from lstm_course.perf.timing import time_interleaved
from lstm_course.runtime import progress_bar

__all__ = [
    "PointResult",
    "measure_point",
    "sweep",
    "PackedVsPadded",
    "packed_vs_padded",
    "format_point",
]


@dataclass(frozen=True)
class PointResult:
    """The implementations timed at one ``shape`` (T, B, D, H).

    ``times``: median seconds per implementation name; ``spread``: the fastest and
    slowest timed run of each, (min, max) seconds. ``compile_seconds``: the first
    call of the compiled module, when it was timed. ``compile_error``: why
    ``torch.compile`` failed here, when it did (that implementation is then missing from
    ``times``).
    """

    shape: tuple[int, int, int, int]
    times: dict[str, float] = field(default_factory=dict)
    spread: dict[str, tuple[float, float]] = field(default_factory=dict)
    compile_seconds: float | None = None
    compile_error: str | None = None

    def ratio(self, name: str, reference: str = "nn.LSTM") -> float:
        """``name``'s time as a multiple of ``reference``'s."""
        return self.times[name] / self.times[reference]


def measure_point(
    T: int,
    B: int,
    D: int,
    H: int,
    names: Iterable[str],
    device: str | torch.device = "cpu",
    repeat: int = 9,
    warmup: int = 3,
) -> PointResult:
    """Median seconds of each implementation in ``names`` at one shape, the PyTorch ones
    interleaved, the NumPy one in a process of its own.

    The compiled module's first call is timed on its own, as ``compile_seconds``. If
    ``torch.compile`` fails here (it needs a C++ compiler on the CPU), that
    implementation is left out and the reason kept as ``compile_error``.
    """
    names = list(names)
    steps = {n: torch_step(n, T, B, D, H, device) for n in names if n != "NumPy (scratch)"}
    compile_seconds = compile_error = None
    if "module, torch.compile" in steps:
        start = time.perf_counter()
        try:
            steps["module, torch.compile"]()
            compile_seconds = time.perf_counter() - start
        except Exception as err:  # a reader's machine without a compiler, say
            del steps["module, torch.compile"]
            compile_error = f"{type(err).__name__}: {str(err)[:200]}"
    timed = time_interleaved(steps, repeat=repeat, warmup=warmup)
    if "NumPy (scratch)" in names:
        timed["NumPy (scratch)"] = measure_in_subprocess("numpy", (T, B, D, H), repeat, warmup)
    times = {n: t.median for n, t in timed.items()}
    spread = {n: (t.min, t.max) for n, t in timed.items()}
    return PointResult((T, B, D, H), times, spread, compile_seconds, compile_error)


def sweep(
    shapes: Iterable[tuple[int, int, int, int]],
    names: Iterable[str],
    device: str | torch.device = "cpu",
    repeat: int = 9,
    warmup: int = 3,
    progress: bool = True,
) -> list[PointResult]:
    """:func:`measure_point` at every (T, B, D, H) of ``shapes``, in order."""
    names = list(names)
    return [
        measure_point(*shape, names, device, repeat, warmup)
        for shape in progress_bar(list(shapes), progress=progress, desc="shapes")
    ]


@dataclass(frozen=True)
class PackedVsPadded:
    """Median seconds of nn.LSTM on one batch run ``padded`` and ``packed``, and
    ``real_fraction``, the share of the padded (T, B) grid that holds real steps. On the
    CPU also both with oneDNN switched off (``padded_onednn_off``, ``packed_onednn_off``;
    None on a GPU): PyTorch's ``RNN.cpp`` hands a packed batch to oneDNN only when all its
    steps have the same batch size, so these show which path a packed batch takes."""

    padded: float
    packed: float
    real_fraction: float
    padded_onednn_off: float | None = None
    packed_onednn_off: float | None = None


def packed_vs_padded(
    T: int,
    B: int,
    D: int,
    H: int,
    device: str | torch.device = "cpu",
    repeat: int = 9,
    warmup: int = 3,
    seed: int = 0,
) -> PackedVsPadded:
    """nn.LSTM on a batch of sequences with lengths uniform in [T/4, T]: padded (every
    sequence run for T steps) against packed (each only for its own length), all four
    timed side by side; on the CPU each with oneDNN on and off."""
    from torch.nn.utils.rnn import pack_padded_sequence

    g = np.random.default_rng(seed)
    lengths = torch.as_tensor(g.integers(max(1, T // 4), T + 1, size=B))
    torch.manual_seed(seed)
    layer = torch.nn.LSTM(D, H).to(device)
    x = torch.randn(T, B, D, device=device, requires_grad=True)

    def step(packed: bool, onednn: bool):
        def run():
            layer.zero_grad(set_to_none=True)
            x.grad = None
            with onednn_enabled(onednn):
                if packed:
                    out = layer(pack_padded_sequence(x, lengths, enforce_sorted=False))[0].data
                else:
                    out = layer(x)[0]
                out.sum().backward()

        return run

    steps = {"padded": step(False, True), "packed": step(True, True)}
    on_cpu = torch.device(device).type == "cpu"
    if on_cpu:
        steps.update(padded_onednn_off=step(False, False), packed_onednn_off=step(True, False))
    timed = time_interleaved(steps, repeat, warmup)
    return PackedVsPadded(
        timed["padded"].median,
        timed["packed"].median,
        float(lengths.sum()) / (T * B),
        timed["padded_onednn_off"].median if on_cpu else None,
        timed["packed_onednn_off"].median if on_cpu else None,
    )


def format_point(point: PointResult, limits: Ceilings) -> str:
    """One shape's medians as a table, fastest first: ms with the range of the timed runs
    (min-max, where ``point.spread`` has it), multiple of nn.LSTM's time, GFLOP/s
    (:func:`~lstm_course.perf.ceilings.training_flops` over the time) and that as a share
    of the measured sgemm rate; then the pass's time at the measured rates
    (:func:`~lstm_course.perf.ceilings.time_at_rates`), a reference, not a bound."""
    times = {n: point.times[n] for n in IMPLEMENTATIONS if n in point.times}
    reference = times.get("nn.LSTM", min(times.values()))
    flops = training_flops(*point.shape)
    lines = [
        f"{'implementation':<30} {'ms':>8} {'range (ms)':>13} {'x nn.LSTM':>10} "
        f"{'GFLOP/s':>8} {'of sgemm':>9}"
    ]
    for name, seconds in sorted(times.items(), key=lambda item: item[1]):
        gflops = flops / seconds / 1e9
        low, high = point.spread.get(name, (None, None))
        span = "" if low is None else f"{1e3 * low:.2f}-{1e3 * high:.2f}"
        lines.append(
            f"{name:<30} {1e3 * seconds:>8.2f} {span:>13} {seconds / reference:>10.2f} "
            f"{gflops:>8.0f} {gflops / limits.sgemm_gflops:>9.0%}"
        )
    at_rates = time_at_rates(*point.shape, limits)
    lines.append(
        f"at the measured rates (references, not bounds): {at_rates.compute_ms:.2f} ms of "
        f"arithmetic at {limits.sgemm_gflops:.0f} GFLOP/s (sgemm), "
        f"{at_rates.memory_ms:.2f} ms of memory traffic at {limits.bandwidth_gbs:.0f} GB/s"
    )
    if point.compile_seconds is not None:
        lines.append(f"torch.compile took {point.compile_seconds:.1f} s before its first step")
    if point.compile_error is not None:
        lines.append(f"torch.compile failed here, left out: {point.compile_error}")
    return "\n".join(lines)
