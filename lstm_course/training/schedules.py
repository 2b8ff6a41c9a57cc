"""Learning-rate schedules: the half cosine from the initial rate down to 0.

Lowering the rate to 0 over the whole budget ends every run annealed: the last updates
take small steps, which lowers the seed-to-seed spread of the final loss (the noise
every comparison between models must beat).
"""

from __future__ import annotations

import math

import torch

from lstm_course.checks import check_int

__all__ = ["cosine_factor", "cosine_schedule"]


def cosine_factor(step: int, total: int) -> float:
    """The multiplier of the initial rate after ``step`` of ``total`` updates:
    0.5 (1 + cos(pi step / total)), from 1 at step 0 to 0 at step ``total``."""
    return 0.5 * (1 + math.cos(math.pi * step / total))


def cosine_schedule(
    optimizer: torch.optim.Optimizer, total: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """A scheduler stepped once per update that follows :func:`cosine_factor` over
    ``total`` updates."""
    total = check_int("total", total, why=" (updates in the whole run)")
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: cosine_factor(step, total))
