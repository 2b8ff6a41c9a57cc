"""How fast is an LSTM? The measurements of chapter ``06_lstm_speed`` (and of
``make bench``).

One forward + backward pass of one LSTM layer over (T, B, D) inputs, float32, the input's
gradient included, timed for several implementations (``lstm_course.perf.steps``), in
rounds. Each round times the PyTorch ones side by side with
:func:`lstm_course.perf.timing.time_interleaved` (every pass of a round runs each of them
once, so they all see the same background load), then the NumPy LSTM in a fresh process
of its own (so that the two libraries' thread pools never run at the same time). Rounds
alternate the two sides, so both share the machine's drifting load, and each round gives
a ratio of its own. As a control, a round can also time nn.LSTM alone: in this process,
right after the side-by-side passes, and on the CPU in a fresh process (as chapter
``04_numpy_lstm``'s benchmark does).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import torch

from lstm_course.checks import check_int
from lstm_course.perf.ceilings import Ceilings, time_at_rates, training_flops
from lstm_course.perf.numpy_vs_torch import measure_in_subprocess
from lstm_course.perf.steps import IMPLEMENTATIONS, onednn_enabled, torch_step
from lstm_course.perf.timing import RoundMedians, time_interleaved, time_it
from lstm_course.runtime import progress_bar

__all__ = [
    "ALONE",
    "FRESH_PROCESS",
    "PointResult",
    "measure_point",
    "sweep",
    "PackedVsPadded",
    "packed_vs_padded",
    "format_point",
]

#: The names of the two controls of :func:`measure_point` (``controls=True``).
ALONE = "nn.LSTM, alone"
FRESH_PROCESS = "nn.LSTM, alone, fresh process"


@dataclass(frozen=True)
class PointResult(RoundMedians):
    """The implementations timed at one ``shape`` (T, B, D, H).

    ``times``: seconds per implementation name, the median over ``rounds`` rounds of each
    round's median; ``per_round``: those round medians, in round order; ``spread``: the
    fastest and slowest timed pass of each over all rounds, (min, max) seconds;
    ``ratio_range``: the lowest and highest ratio of one round's median to nn.LSTM's
    median in the same round. ``compile_seconds``: the first call of the compiled module,
    when it was timed. ``compile_error``: why ``torch.compile`` failed here, when it did
    (that implementation is then missing from ``times``). ``controls``: the median over
    the rounds of nn.LSTM timed alone (:data:`ALONE`, :data:`FRESH_PROCESS`), when it
    was; their round medians and ranges are in ``per_round`` and ``spread`` too. Read the
    rounds with ``round_range``, ``per_round_ratios`` and ``always_faster``.
    """

    shape: tuple[int, int, int, int]
    times: dict[str, float] = field(default_factory=dict)
    spread: dict[str, tuple[float, float]] = field(default_factory=dict)
    compile_seconds: float | None = None
    compile_error: str | None = None
    ratio_range: dict[str, tuple[float, float]] = field(default_factory=dict)
    rounds: int = 1
    per_round: dict[str, list[float]] = field(default_factory=dict)
    controls: dict[str, float] = field(default_factory=dict)

    def ratio(self, name: str, reference: str = "nn.LSTM") -> float:
        """``name``'s time as a multiple of ``reference``'s."""
        return self.times[name] / self.times[reference]

    def per_round_ratios(self, name: str, reference: str = "nn.LSTM") -> list[float]:
        """``name``'s round median over ``reference``'s in the same round, round by round
        (controls included: ``point.per_round_ratios(ALONE)``)."""
        return super().per_round_ratios(name, reference)


def measure_point(
    T: int,
    B: int,
    D: int,
    H: int,
    names: Iterable[str],
    device: str | torch.device = "cpu",
    repeat: int = 9,
    warmup: int = 3,
    rounds: int = 3,
    controls: bool = False,
) -> PointResult:
    """Each implementation in ``names`` at one shape, timed in ``rounds`` rounds.

    A round times the PyTorch implementations interleaved in this process (``warmup``
    passes, then ``repeat`` timed ones each), then the NumPy one in a fresh process
    (:func:`~lstm_course.perf.numpy_vs_torch.measure_in_subprocess`, as many passes).
    The rounds alternate the two sides, so both see the machine's background load as it
    drifts, without one library's threads running beside the other's. See
    :class:`PointResult` for what is kept.

    ``controls=True`` (``names`` must hold nn.LSTM) adds two timings of nn.LSTM alone to
    every round: :data:`ALONE`, the same step object timed by itself with
    :func:`~lstm_course.perf.timing.time_it` right after the side-by-side passes (same
    warm-up and timed passes), so that only what runs between its passes changes; and,
    on the CPU, :data:`FRESH_PROCESS`, in a fresh process as chapter ``04_numpy_lstm``'s
    benchmark times it (that process's worker runs on the CPU only).

    The compiled module's first call is timed on its own, as ``compile_seconds``. If
    ``torch.compile`` fails here (it needs a C++ compiler on the CPU), that
    implementation is left out and the reason kept as ``compile_error``.
    """
    check_int("rounds", rounds)
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
    if controls and "nn.LSTM" not in steps:
        raise ValueError("controls=True times nn.LSTM alone: names must hold 'nn.LSTM'")
    sides = [("NumPy (scratch)", "numpy")] if "NumPy (scratch)" in names else []
    if controls and torch.device(device).type == "cpu":
        sides.append((FRESH_PROCESS, "torch"))
    runs = []  # per round: name -> (median, min, max) seconds
    for _ in range(rounds):
        run = {}
        if steps:
            timed = time_interleaved(steps, repeat=repeat, warmup=warmup)
            if controls:  # right after the side-by-side passes: the same load, nearly
                timed[ALONE] = time_it(steps["nn.LSTM"], repeat=repeat, warmup=warmup)
            run = {n: (t.median, t.min, t.max) for n, t in timed.items()}
        for name, side in sides:
            timing = measure_in_subprocess(side, (T, B, D, H), repeat, warmup)
            run[name] = (timing.median, timing.min, timing.max)
        runs.append(run)
    per_round = {n: [r[n][0] for r in runs] for n in runs[0]}
    medians = {n: statistics.median(ts) for n, ts in per_round.items()}
    spread = {n: (min(r[n][1] for r in runs), max(r[n][2] for r in runs)) for n in per_round}
    control_names = (ALONE, FRESH_PROCESS)
    times = {n: t for n, t in medians.items() if n not in control_names}
    ratio_range = {}
    if "nn.LSTM" in times:
        for n in times:
            ratios = [r[n][0] / r["nn.LSTM"][0] for r in runs]
            ratio_range[n] = (min(ratios), max(ratios))
    return PointResult(
        (T, B, D, H),
        times,
        spread,
        compile_seconds,
        compile_error,
        ratio_range,
        rounds,
        per_round,
        {n: t for n, t in medians.items() if n in control_names},
    )


def sweep(
    shapes: Iterable[tuple[int, int, int, int]],
    names: Iterable[str],
    device: str | torch.device = "cpu",
    repeat: int = 9,
    warmup: int = 3,
    progress: bool = True,
    rounds: int = 3,
) -> list[PointResult]:
    """:func:`measure_point` at every (T, B, D, H) of ``shapes``, in order."""
    names = list(names)
    return [
        measure_point(*shape, names, device, repeat, warmup, rounds)
        for shape in progress_bar(list(shapes), progress=progress, desc="shapes")
    ]


@dataclass(frozen=True)
class PackedVsPadded(RoundMedians):
    """Seconds of nn.LSTM on one batch run ``padded`` and ``packed``, each the median over
    ``rounds`` rounds of a round's median, and ``real_fraction``, the share of the padded
    (T, B) grid that holds real steps. On the CPU also both with oneDNN switched off
    (``padded_onednn_off``, ``packed_onednn_off``; None on a GPU): PyTorch's ``RNN.cpp``
    hands a packed batch to oneDNN only when all its steps have the same batch size, so
    these show which path a packed batch takes. ``per_round``: each way's round medians,
    in round order, under those four names; read them with ``round_range``,
    ``per_round_ratios`` and ``always_faster``."""

    padded: float
    packed: float
    real_fraction: float
    padded_onednn_off: float | None = None
    packed_onednn_off: float | None = None
    rounds: int = 1
    per_round: dict[str, list[float]] = field(default_factory=dict)


def packed_vs_padded(
    T: int,
    B: int,
    D: int,
    H: int,
    device: str | torch.device = "cpu",
    repeat: int = 9,
    warmup: int = 3,
    seed: int = 0,
    rounds: int = 3,
) -> PackedVsPadded:
    """nn.LSTM on a batch of sequences with lengths uniform in [T/4, T]: padded (every
    sequence run for T steps) against packed (each only for its own length), on the CPU
    each with oneDNN on and off; all of them timed side by side
    (:func:`~lstm_course.perf.timing.time_interleaved`: ``warmup`` passes, then
    ``repeat`` timed ones each), in ``rounds`` rounds, each round a ratio of its own."""
    check_int("rounds", rounds)
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
    per_round = {name: [] for name in steps}
    for _ in range(rounds):
        for name, timing in time_interleaved(steps, repeat, warmup).items():
            per_round[name].append(timing.median)
    times = {name: statistics.median(ts) for name, ts in per_round.items()}
    return PackedVsPadded(
        times["padded"],
        times["packed"],
        float(lengths.sum()) / (T * B),
        times.get("padded_onednn_off"),
        times.get("packed_onednn_off"),
        rounds,
        per_round,
    )


def format_point(point: PointResult, limits: Ceilings) -> str:
    """One shape's times as a table at most 88 columns wide, fastest first: ms (the median
    over rounds of each round's median) with the range of all timed passes (min-max,
    where ``point.spread`` has it), multiple of nn.LSTM's time with the lowest and
    highest ratio of one round (where ``point.ratio_range`` has them), GFLOP/s
    (:func:`~lstm_course.perf.ceilings.training_flops` over the time) and that as a share
    of the measured sgemm rate; then nn.LSTM timed alone (``point.controls``, where
    measured) against its time side by side; then the pass's time at the measured rates
    (:func:`~lstm_course.perf.ceilings.time_at_rates`), a reference, not a bound."""
    times = {n: point.times[n] for n in IMPLEMENTATIONS if n in point.times}
    reference = times.get("nn.LSTM", min(times.values()))
    flops = training_flops(*point.shape)
    lines = [
        f"{'implementation':<28} {'ms':>6} {'range (ms)':>13} {'x nn.LSTM':>9} "
        f"{'per round':>11} {'GFLOP/s':>7} {'of sgemm':>8}"
    ]
    for name, seconds in sorted(times.items(), key=lambda item: item[1]):
        gflops = flops / seconds / 1e9
        low, high = point.spread.get(name, (None, None))
        span = "" if low is None else f"{1e3 * low:.2f}-{1e3 * high:.2f}"
        r_low, r_high = point.ratio_range.get(name, (None, None))
        per_round = "" if r_low is None else f"{r_low:.2f}-{r_high:.2f}"
        lines.append(
            f"{name:<28} {1e3 * seconds:>6.2f} {span:>13} {seconds / reference:>9.2f} "
            f"{per_round:>11} {gflops:>7.0f} {gflops / limits.sgemm_gflops:>8.0%}"
        )
    if point.ratio_range and point.controls:
        lines.append(
            f"{point.rounds} rounds, each the PyTorch passes side by side, nn.LSTM alone, then "
            "NumPy and\nnn.LSTM each in a fresh process; ms: median over the rounds of each "
            "round's\nmedian; range: of all timed passes"
        )
    elif point.ratio_range:
        lines.append(
            f"{point.rounds} rounds, each the PyTorch passes side by side, then NumPy in a "
            "fresh process;\nms: median over the rounds of each round's median; range: "
            "of all timed passes"
        )
    if point.controls:  # nn.LSTM timed alone, against its time side by side
        lines.append("nn.LSTM, ms: median (lowest-highest round), x side by side (per round)")
        medians = {"nn.LSTM": point.times["nn.LSTM"], **point.controls}
        labels = {"nn.LSTM": "side by side", ALONE: "alone", FRESH_PROCESS: "alone, fresh process"}
        for name, seconds in medians.items():
            low, high = (1e3 * s for s in point.round_range(name))
            line = f"  {labels[name]:<20} {1e3 * seconds:6.2f} ({low:.2f}-{high:.2f})"
            if name != "nn.LSTM":
                ratios = point.per_round_ratios(name)
                line += (
                    f"  x{seconds / medians['nn.LSTM']:.2f} ({min(ratios):.2f}-{max(ratios):.2f})"
                )
            lines.append(line)
    at_rates = time_at_rates(*point.shape, limits)
    lines.append(
        f"at the measured rates (references, not bounds): {at_rates.compute_ms:.2f} ms of "
        f"arithmetic at\n{limits.sgemm_gflops:.0f} GFLOP/s (sgemm), "
        f"{at_rates.memory_ms:.2f} ms of memory traffic at {limits.bandwidth_gbs:.0f} GB/s"
    )
    if point.compile_seconds is not None:
        lines.append(
            f"torch.compile took {point.compile_seconds:.1f} s before its first step "
            "(in this process)"
        )
    if point.compile_error is not None:
        lines.append(f"torch.compile failed here, left out: {point.compile_error}")
    return "\n".join(lines)
