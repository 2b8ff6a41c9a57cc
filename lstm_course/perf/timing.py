"""Benchmarks measured the way the course reports them: side by side in one run, with
warm-up, as medians, compared as ratios. ``make bench`` runs :func:`main`.

Two tables: the LSTM implementations of chapter 6 against each other
(``lstm_course.perf.implementations``), and the NumPy LSTM of ``lstm_course.scratch`` against
``torch.nn.LSTM`` (chapter 4), each side in a process of its own so that neither
library's thread pools or allocator caches disturb the other.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np
import torch

__all__ = [
    "SHAPES",
    "time_it",
    "time_interleaved",
    "training_flops",
    "numpy_lstm_step",
    "torch_lstm_step",
    "sgemm_gflops",
    "measure",
    "measure_in_subprocess",
    "compare_numpy_torch",
    "format_comparison",
    "numpy_time_breakdown",
    "main",
    "speed_tables",
]

#: (T, B, D, H) of the NumPy-against-PyTorch table.
SHAPES = [(80, 32, 128, 128), (35, 32, 256, 256), (100, 64, 256, 256)]


def _sync():
    # CUDA work is asynchronous: wait for it, so that a time is the work's, not the launch's.
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _summary(times: list[float]) -> dict:
    return {"median": statistics.median(times), "min": min(times), "max": max(times),
            "times": times}


def time_it(fn: Callable[[], object], repeat: int = 10, warmup: int = 3) -> dict:
    """Median wall time of ``fn()`` over ``repeat`` runs after ``warmup`` runs.

    Returns a dict with ``median``, ``min`` and ``max`` in seconds and the raw ``times``.
    CUDA work is synchronized so that the time is the work's, not the launch's.
    """
    return time_interleaved({"fn": fn}, repeat, warmup)["fn"]


def time_interleaved(fns: dict[str, Callable[[], object]], repeat: int = 10,
                     warmup: int = 3) -> dict[str, dict]:
    """Time several functions side by side: each round runs every one of them once.

    Interleaving exposes every function to the same background load, so their ratios
    hold even on a busy machine. Returns, per name, what :func:`time_it` returns.
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
    return {name: _summary(ts) for name, ts in times.items()}


def training_flops(T: int, B: int, D: int, H: int) -> int:
    """Floating-point operations of one forward + backward pass of an LSTM layer.

    Six matrix products of 2 * (rows) * (4H) * (D or H) operations each: the input and
    recurrent products forward, and backward the gradients of the inputs, of h, and of
    both weight matrices: 24 T B H (D + H) in all. The elementwise work is left out.
    """
    return 24 * T * B * H * (D + H)


def numpy_lstm_step(T: int, B: int, D: int, H: int, dtype=np.float32) -> Callable[[], None]:
    """Forward + backward of ``lstm_course.scratch`` over (T, B, D) inputs, ready to time."""
    from lstm_course import scratch

    rng = np.random.default_rng(0)
    params = scratch.init_params(D, H, rng=rng, dtype=dtype)
    x = rng.standard_normal((T, B, D)).astype(dtype)
    dy = np.ones((T, B, H), dtype)  # the gradient of y.sum(), as on the PyTorch side

    def step():
        _, _, cache = scratch.lstm_forward(x, params)
        scratch.lstm_backward(dy, cache)

    return step


def torch_lstm_step(T: int, B: int, D: int, H: int) -> Callable[[], None]:
    """Forward + backward of ``torch.nn.LSTM`` (float32, CPU), doing the NumPy side's work.

    The input requires a gradient because ``scratch.lstm_backward`` always returns dx.
    """
    from lstm_course.perf.implementations import torch_step  # speed builds on this module

    return torch_step("nn.LSTM", T, B, D, H)


def sgemm_gflops(side: str, n: int = 2048, repeat: int = 5) -> float:
    """GFLOP/s of an n x n float32 matrix product with ``side``'s library (numpy or torch)."""
    if side == "numpy":
        a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    elif side == "torch":
        a = torch.randn(n, n)
    else:
        raise ValueError(f"unknown side {side!r}: use numpy or torch")
    return 2 * n**3 / time_it(lambda: a @ a, repeat=repeat, warmup=2)["median"] / 1e9


def measure(side: str, T: int, B: int, D: int, H: int, repeat: int = 9,
            warmup: int = 3) -> dict:
    """Median forward + backward time of one side in this process, and its sgemm rate."""
    if side not in ("numpy", "torch"):
        raise ValueError(f"unknown side {side!r}: use numpy or torch")
    step = (numpy_lstm_step if side == "numpy" else torch_lstm_step)(T, B, D, H)
    result = time_it(step, repeat=repeat, warmup=warmup)
    return {"side": side, "shape": [T, B, D, H], "median": result["median"],
            "min": result["min"], "max": result["max"], "sgemm_gflops": sgemm_gflops(side),
            "threads": torch.get_num_threads()}


def measure_in_subprocess(side: str, shape, repeat: int = 9, warmup: int = 3) -> dict:
    """:func:`measure` in a fresh Python process (``python -m lstm_course.perf.timing --worker``)."""
    cmd = [sys.executable, "-m", "lstm_course.perf.timing", "--worker", side,
           *map(str, shape), "--repeat", str(repeat), "--warmup", str(warmup)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    if done.returncode != 0:
        raise RuntimeError(f"the {side} benchmark process failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare_numpy_torch(shapes=SHAPES, repeat: int = 9, warmup: int = 3,
                        rounds: int = 3) -> list[dict]:
    """NumPy LSTM against nn.LSTM, forward + backward, each side in its own process.

    Each shape is measured in ``rounds`` rounds, NumPy then PyTorch, a fresh process each
    time: a shared machine's speed drifts by tens of percent over minutes, so one pair of
    processes can mislead. Returns one row per shape: each side's median over the rounds
    of its per-process medians (ms), ``ratio`` (NumPy / PyTorch) and ``ratio_range`` (the
    lowest and highest ratio of a single round), each side's GFLOP/s
    (:func:`training_flops` over its median) and that as a fraction of the machine's
    sgemm rate (the fastest 2048^3 product NumPy or PyTorch reached).
    """
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    rows = []
    for shape in shapes:
        runs = [{side: measure_in_subprocess(side, shape, repeat, warmup)
                 for side in ("numpy", "torch")} for _ in range(rounds)]
        sgemm = max(r[side]["sgemm_gflops"] for r in runs for side in r)
        medians = {side: statistics.median(r[side]["median"] for r in runs)
                   for side in ("numpy", "torch")}
        per_round = [r["numpy"]["median"] / r["torch"]["median"] for r in runs]
        row = {"shape": tuple(shape), "sgemm_gflops": sgemm,
               "ratio": medians["numpy"] / medians["torch"],
               "ratio_range": (min(per_round), max(per_round))}
        for side, median in medians.items():
            gflops = training_flops(*shape) / median / 1e9
            row.update({f"{side}_ms": 1e3 * median, f"{side}_gflops": gflops,
                        f"{side}_of_sgemm": gflops / sgemm})
        rows.append(row)
    return rows


def format_comparison(rows: list[dict]) -> str:
    """The rows of :func:`compare_numpy_torch` as a plain-text table."""
    lines = [f"{'(T, B, D, H)':<20} {'NumPy ms':>9} {'torch ms':>9} {'ratio':>6} "
             f"{'(per round)':>12} {'NumPy GFLOP/s':>14} {'torch GFLOP/s':>14}"]
    for r in rows:
        low, high = r["ratio_range"]
        lines.append(f"{str(r['shape']):<20} {r['numpy_ms']:>9.2f} {r['torch_ms']:>9.2f} "
                     f"{r['ratio']:>6.2f} {f'{low:.2f}-{high:.2f}':>12} "
                     f"{r['numpy_gflops']:>7.0f} ({r['numpy_of_sgemm']:>3.0%})"
                     f" {r['torch_gflops']:>7.0f} ({r['torch_of_sgemm']:>3.0%})")
    sgemm = max(r["sgemm_gflops"] for r in rows)
    lines.append(f"percentages: of the machine's measured sgemm rate, {sgemm:.0f} GFLOP/s")
    return "\n".join(lines)


def numpy_time_breakdown(T: int, B: int, D: int, H: int, repeat: int = 9) -> dict:
    """Where the NumPy LSTM's forward + backward time goes, in seconds (medians).

    ``total`` is the whole pass; the other entries time the same matrix products on
    their own (``input projection``, ``recurrent, forward``, ``recurrent, backward``,
    ``weight gradients``, ``input gradient``); ``everything else`` (elementwise work,
    memory, Python) is the difference.
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
            np.matmul(da[t * B:(t + 1) * B], w_hh, out=out_bwd)

    parts = {
        "input projection": lambda: x @ w_ih.T,
        "recurrent, forward": recurrent_forward,
        "recurrent, backward": recurrent_backward,
        "weight gradients": lambda: (da.T @ x, da.T @ hs),
        "input gradient": lambda: da @ w_ih,
    }
    times = {name: time_it(fn, repeat=repeat)["median"] for name, fn in parts.items()}
    total = time_it(numpy_lstm_step(T, B, D, H), repeat=repeat)["median"]
    return {"total": total, **times, "everything else": total - sum(times.values())}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The course's benchmarks (make bench).")
    parser.add_argument("--worker", nargs=5, metavar=("SIDE", "T", "B", "D", "H"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=9, help="timed runs (default 9)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up runs (default 3)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="fresh process pairs per shape (default 3)")
    args = parser.parse_args(argv)
    if args.worker:
        side, *shape = args.worker
        print(json.dumps(measure(side, *map(int, shape), args.repeat, args.warmup)))
        return
    speed_tables(args.repeat, args.warmup)
    print()
    print(f"NumPy LSTM (lstm_course.scratch) against torch.nn.LSTM, float32, forward + "
          f"backward including dx; {args.rounds} rounds of one fresh process per side, "
          f"each the median of {args.repeat} after {args.warmup} warm-ups, "
          f"{torch.get_num_threads()} threads")
    print(format_comparison(compare_numpy_torch(SHAPES, args.repeat, args.warmup,
                                                args.rounds)))


def speed_tables(repeat: int = 9, warmup: int = 3) -> None:
    """Chapter 6's table at (T, B, D, H) = (80, 32, 128, 128), and packed against padded."""
    from lstm_course.perf import implementations as speed
    from lstm_course.runtime import get_device

    device = get_device()
    shape = (80, 32, 128, 128)
    limits = speed.ceilings(device)
    row = speed.measure_point(*shape, speed.available(device), device, repeat, warmup)
    print(f"forward + backward of one LSTM layer, float32, dx included, (T, B, D, H) = "
          f"{shape}, device {device}, {torch.get_num_threads()} threads; medians of "
          f"{repeat} after {warmup} warm-ups, interleaved")
    print(speed.format_point(row, shape, limits))
    packed = speed.packed_vs_padded(*shape, device=device, repeat=repeat, warmup=warmup)
    print(f"\nnn.LSTM on lengths uniform in [T/4, T] ({packed['real fraction']:.0%} real "
          f"steps): padded {1e3 * packed['padded']:.2f} ms, packed "
          f"{1e3 * packed['packed']:.2f} ms")


if __name__ == "__main__":
    main()
