"""``python -m lstm_course.perf`` (``make bench``): the course's benchmarks as tables.

The table of chapter ``06_lstm_speed`` at (T, B, D, H) = (80, 32, 128, 128) with packed
against padded, then the NumPy-against-PyTorch table of chapter ``04_numpy_lstm``. With
``--worker SIDE T B D H`` it is instead one side's measuring process of that table
(:func:`lstm_course.perf.numpy_vs_torch.measure`), printing its result as one line of
JSON.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

import torch

from lstm_course.perf import implementations
from lstm_course.perf.ceilings import ceilings
from lstm_course.perf.numpy_vs_torch import SHAPES, compare_numpy_torch, format_comparison, measure
from lstm_course.perf.steps import available
from lstm_course.runtime import get_device

__all__ = ["main", "speed_tables"]


def main(argv: list[str] | None = None) -> None:
    """Parse ``argv`` (the command line by default) and print the benchmarks' tables."""
    parser = argparse.ArgumentParser(description="The course's benchmarks (make bench).")
    parser.add_argument(
        "--worker", nargs=5, metavar=("SIDE", "T", "B", "D", "H"), help=argparse.SUPPRESS
    )
    parser.add_argument("--repeat", type=int, default=9, help="timed runs (default 9)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up runs (default 3)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds per shape (default 3): each side measured once per round",
    )
    args = parser.parse_args(argv)
    if args.worker:
        side, *shape = args.worker
        print(json.dumps(asdict(measure(side, *map(int, shape), args.repeat, args.warmup))))
        return
    speed_tables(args.repeat, args.warmup, args.rounds)
    print()
    print(
        f"NumPy LSTM (lstm_course.scratch) against torch.nn.LSTM, float32, forward + "
        f"backward including dx; {args.rounds} rounds of one fresh process per side, "
        f"each the median of {args.repeat} after {args.warmup} warm-ups, "
        f"{torch.get_num_threads()} threads"
    )
    print(format_comparison(compare_numpy_torch(SHAPES, args.repeat, args.warmup, args.rounds)))


def speed_tables(repeat: int = 9, warmup: int = 3, rounds: int = 3) -> None:
    """Print the table of chapter ``06_lstm_speed`` at (T, B, D, H) = (80, 32, 128, 128),
    and packed against padded, on this machine's best device; the table in ``rounds``
    rounds (:func:`~lstm_course.perf.implementations.measure_point`)."""
    device = get_device()
    shape = (80, 32, 128, 128)
    limits = ceilings(device)
    names = available(device)
    # nn.LSTM timed alone as well: the control that tells contention from a slow kernel.
    point = implementations.measure_point(
        *shape, names, device, repeat, warmup, rounds, controls="nn.LSTM" in names
    )
    print(
        f"forward + backward of one LSTM layer, float32, dx included, (T, B, D, H) = "
        f"{shape}, device {device}, {torch.get_num_threads()} threads; medians of "
        f"{repeat} after {warmup} warm-ups, interleaved, in {rounds} rounds"
    )
    print(implementations.format_point(point, limits))
    packed = implementations.packed_vs_padded(
        *shape, device=device, repeat=repeat, warmup=warmup, rounds=rounds
    )
    print(
        f"\nnn.LSTM on lengths uniform in [T/4, T] ({packed.real_fraction:.0%} real "
        f"steps): padded {1e3 * packed.padded:.2f} ms, packed "
        f"{1e3 * packed.packed:.2f} ms"
    )
    if packed.padded_onednn_off is not None:
        print(
            f"with oneDNN off: padded {1e3 * packed.padded_onednn_off:.2f} ms, packed "
            f"{1e3 * packed.packed_onednn_off:.2f} ms"
        )
