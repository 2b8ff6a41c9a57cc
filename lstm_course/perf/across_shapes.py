"""Several shapes timed in the same rounds, so that a change of time between two shapes
is the shapes', not the machine's drift between two measurements taken minutes apart.

Chapter ``06_lstm_speed``'s sweeps time each shape in rounds of its own; where a time
jumps between neighbouring shapes, :func:`measure_shapes` times those shapes again, side
by side, every pass of a round running each (implementation, shape) once.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

import torch

from lstm_course.checks import check_int
from lstm_course.perf.steps import torch_step
from lstm_course.perf.timing import RoundMedians, time_interleaved

__all__ = ["ShapesSideBySide", "measure_shapes"]

Shape = tuple[int, int, int, int]


@dataclass(frozen=True)
class ShapesSideBySide(RoundMedians):
    """Implementations at several (T, B, D, H) ``shapes``, all timed in the same rounds.

    ``per_round``: ``(name, shape)`` -> that pair's round medians (seconds), in round
    order; read them with ``round_range``, ``per_round_ratios`` and ``verdict``, whose
    names are such pairs.
    """

    shapes: tuple[Shape, ...]
    names: tuple[str, ...]
    rounds: int = 1
    per_round: dict[tuple[str, Shape], list[float]] = field(default_factory=dict)

    def time(self, name: str, shape: Shape) -> float:
        """Seconds: the median over the rounds of ``name``'s round medians at ``shape``."""
        return statistics.median(self.per_round[name, tuple(shape)])

    def growth_per_row(self, name: str, before: Shape, after: Shape) -> list[float]:
        """Round by round, ``name``'s time per row of the (T, B) grid at ``after`` over
        that at ``before`` (1: the time grew in proportion to T * B)."""
        rows = (after[0] * after[1]) / (before[0] * before[1])
        ratios = self.per_round_ratios((name, tuple(after)), (name, tuple(before)))
        return [r / rows for r in ratios]


def measure_shapes(
    shapes: Iterable[Shape],
    names: Iterable[str],
    device: str | torch.device = "cpu",
    repeat: int = 9,
    warmup: int = 3,
    rounds: int = 3,
) -> ShapesSideBySide:
    """Every PyTorch implementation in ``names`` at every shape, interleaved in
    ``rounds`` rounds (:func:`~lstm_course.perf.timing.time_interleaved`: ``warmup``
    passes, then ``repeat`` timed ones of each pair per round).

    The NumPy LSTM runs in a process of its own and torch.compile compiles anew for
    every shape, so neither can be timed this way: pass the other implementations.
    """
    check_int("rounds", rounds)
    shapes, names = tuple(tuple(s) for s in shapes), tuple(names)
    if not shapes or not names:
        raise ValueError("measure_shapes needs at least one shape and one implementation")
    unsupported = {"NumPy (scratch)", "module, torch.compile"} & set(names)
    if unsupported:
        raise ValueError(
            f"{sorted(unsupported)} cannot be interleaved across shapes (a process of its "
            "own; a compile per shape): time them with measure_point instead"
        )
    steps = {(n, s): torch_step(n, *s, device) for s in shapes for n in names}
    per_round = {key: [] for key in steps}
    for _ in range(rounds):
        for key, timing in time_interleaved(steps, repeat, warmup).items():
            per_round[key].append(timing.median)
    return ShapesSideBySide(shapes, names, rounds, per_round)
