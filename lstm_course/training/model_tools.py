"""Small things every training loop needs, written once: the model's device, eval mode
for a block, the number of trainable values, and keeping the best weights seen so far.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

__all__ = ["BestWeights", "count_parameters", "eval_mode", "model_device"]


def model_device(model: nn.Module) -> torch.device:
    """The device of ``model``'s first parameter (the CPU for a model without any)."""
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Run a block in eval mode (dropout off), then put ``model`` back in the mode it was
    in, also when the block raises. Gradients are untouched: add ``torch.no_grad()``."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable values (``requires_grad``); a Parameter shared by two modules
    (tied weights) counts once, as ``model.parameters()`` yields it once."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


class BestWeights:
    """A copy of the model's weights at its best score so far (early stopping's memory).

    ``update(model, score, epoch)`` keeps a copy when ``score`` beats the best one
    (lower is better with ``mode="min"``, higher with ``"max"``; NaN never beats
    anything) and says whether it did; ``restore(model)`` loads the copy back.
    """

    def __init__(self, mode: str = "min") -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        self.mode = mode
        self.score: float | None = None
        self.epoch = 0
        self.state: dict[str, torch.Tensor] | None = None

    def improves(self, score: float) -> bool:
        """Whether ``score`` beats the best so far (any finite score beats none)."""
        if math.isnan(score):
            return False
        if self.score is None:
            return True
        return score < self.score if self.mode == "min" else score > self.score

    def update(self, model: nn.Module, score: float, epoch: int) -> bool:
        if not self.improves(score):
            return False
        self.score, self.epoch = score, epoch
        self.state = copy.deepcopy(model.state_dict())
        return True

    def restore(self, model: nn.Module) -> None:
        """Load the best weights into ``model``; an error if none was ever kept."""
        if self.state is None:
            raise ValueError(
                "no weights were kept: no score was ever finite (the run "
                "diverged; lower the learning rate or clip the gradient norm)"
            )
        model.load_state_dict(self.state)
