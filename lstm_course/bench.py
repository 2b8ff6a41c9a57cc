"""Benchmarks measured the way the course reports them: side by side in one run, with
warm-up, as medians, compared as ratios. ``make bench`` runs :func:`main`.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch


def time_it(fn: Callable[[], object], repeat: int = 10, warmup: int = 3) -> dict:
    """Median wall time of ``fn()`` over ``repeat`` runs after ``warmup`` runs.

    Returns a dict with ``median``, ``min`` and ``max`` in seconds and the raw ``times``.
    CUDA work is synchronized so that the time is the work's, not the launch's.
    """
    if repeat < 1 or warmup < 0:
        raise ValueError(f"need repeat >= 1 and warmup >= 0, got {repeat} and {warmup}")

    def sync():
        if torch.cuda.is_available():
            torch.cuda.synchronize()

    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return {"median": statistics.median(times), "min": min(times), "max": max(times),
            "times": times}


def recurrent_training_step(kind: str, T: int = 80, B: int = 32, D: int = 128, H: int = 128,
                            device: str = "cpu") -> Callable[[], None]:
    """A forward + backward pass of one layer over (T, B, D) inputs, ready to time.

    ``kind`` is ``"nn.RNN"``, ``"nn.LSTM"`` or ``"nn.LSTMCell loop"`` (a Python loop over
    time, the way many tutorials write it).
    """
    torch.manual_seed(0)
    x = torch.randn(T, B, D, device=device)
    if kind == "nn.RNN":
        layer = torch.nn.RNN(D, H).to(device)
        forward = lambda: layer(x)[0]  # noqa: E731
    elif kind == "nn.LSTM":
        layer = torch.nn.LSTM(D, H).to(device)
        forward = lambda: layer(x)[0]  # noqa: E731
    elif kind == "nn.LSTMCell loop":
        layer = torch.nn.LSTMCell(D, H).to(device)

        def forward():
            h = c = torch.zeros(B, H, device=device)
            outs = []
            for x_t in x:
                h, c = layer(x_t, (h, c))
                outs.append(h)
            return torch.stack(outs)
    else:
        raise ValueError(f"unknown kind {kind!r}: use nn.RNN, nn.LSTM or nn.LSTMCell loop")

    def step():
        layer.zero_grad(set_to_none=True)
        forward().sum().backward()

    return step


def main() -> None:
    from lstm_course.runtime import get_device

    device = str(get_device())
    shape = dict(T=80, B=32, D=128, H=128)
    print(f"forward+backward of one layer, (T, B, D, H) = {tuple(shape.values())}, "
          f"device {device}, {torch.get_num_threads()} threads; median of 10 after 3 warm-ups")
    results = {}
    for kind in ("nn.LSTM", "nn.LSTMCell loop", "nn.RNN"):
        results[kind] = time_it(recurrent_training_step(kind, device=device, **shape))
    reference = results["nn.LSTM"]["median"]
    print(f"{'implementation':<20} {'median ms':>10} {'vs nn.LSTM':>11}")
    for kind, r in results.items():
        print(f"{kind:<20} {1e3 * r['median']:>10.2f} {r['median'] / reference:>10.2f}x")


if __name__ == "__main__":
    main()
