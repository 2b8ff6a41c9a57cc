"""What :func:`~lstm_course.training.loop.fit` and ``evaluate`` measure: the metrics
they average over the data, ``f(outputs, targets) -> a number``, and the
:class:`History` that ``fit`` fills, one entry per epoch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch

__all__ = [
    "History",
    "Metric",
    "accuracy",
    "binary_accuracy",
    "multiclass_accuracy",
]

Metric = Callable[[torch.Tensor, torch.Tensor], "float | torch.Tensor"]


@dataclass
class History:
    """What :func:`~lstm_course.training.loop.fit` measured, one entry per epoch.

    ``metrics`` holds ``"train_<name>"`` and ``"val_<name>"`` lists for each metric;
    read them as ``history["val_accuracy"]`` or ``history.val_accuracy``.
    ``best_epoch`` is 1-based (``history.val_loss[history.best_epoch - 1]`` is the
    best value), None without a validation set. ``elapsed`` is total wall seconds.
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    epoch_time: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False
    elapsed: float = 0.0

    @property
    def epochs(self) -> list[int]:
        """1, 2, ..., one per finished epoch: the x axis of a learning curve."""
        return list(range(1, len(self.train_loss) + 1))

    def __getitem__(self, name: str) -> list[float]:
        if name in self.metrics:
            return self.metrics[name]
        if name in ("train_loss", "val_loss", "epoch_time", "lr"):
            return getattr(self, name)
        raise KeyError(f"no {name!r} in this history: it has {sorted(self.as_dict())}")

    def __getattr__(self, name: str):
        # Only reached for names that are not fields, e.g. history.val_accuracy.
        metrics = self.__dict__.get("metrics", {})
        if name in metrics:
            return metrics[name]
        raise AttributeError(f"History has no attribute or metric {name!r}")

    def as_dict(self) -> dict:
        """A flat, JSON-friendly dict: the metric lists sit beside ``train_loss``."""
        out = asdict(self)
        out.update(out.pop("metrics"))
        return out


# ----------------------------------------------------------------------------------
# Metrics: f(outputs, targets) -> a number, averaged over the data, weighted by targets


def binary_accuracy(logits: torch.Tensor, targets: torch.Tensor) -> float:
    """Share of correct signs: one logit per example, targets 0/1 of the same size."""
    if logits.numel() != targets.numel():
        raise ValueError(
            f"{tuple(logits.shape)} logits do not match {tuple(targets.shape)} targets"
        )
    predicted = (logits.reshape(-1) > 0).long()
    return (predicted == targets.reshape(-1).long()).float().mean().item()


def multiclass_accuracy(logits: torch.Tensor, targets: torch.Tensor) -> float:
    """Share of correct argmax: logits (..., C), class-index targets (...)."""
    if logits[..., 0].numel() != targets.numel():
        raise ValueError(
            f"{tuple(logits.shape)} logits do not match {tuple(targets.shape)} targets"
        )
    predicted = logits.argmax(dim=-1).reshape(-1)
    return (predicted == targets.reshape(-1)).float().mean().item()


def accuracy(outputs: torch.Tensor, targets: torch.Tensor) -> float:
    """Multiclass when ``outputs`` has a class axis (..., C>1) matching ``targets``;
    binary (logit > 0 means class 1) when ``outputs`` and ``targets`` have equal size.
    """
    if outputs.dim() >= 2 and outputs.shape[-1] > 1 and outputs[..., 0].numel() == targets.numel():
        return multiclass_accuracy(outputs, targets)
    if outputs.numel() == targets.numel():
        return binary_accuracy(outputs, targets)
    raise ValueError(
        f"accuracy cannot match outputs {tuple(outputs.shape)} with targets "
        f"{tuple(targets.shape)}: expected (..., C) logits with (...) class "
        "indices, or one logit per 0/1 target"
    )
