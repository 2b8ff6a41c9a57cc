"""One pass over a loader, the unit :func:`~lstm_course.training.loop.fit` repeats: an
epoch of updates (:class:`TrainingSteps`) or a scoring pass without gradients
(:func:`evaluate`), and the batch plumbing both share.

Batches are ``(inputs, targets)`` pairs. ``inputs`` may be a tuple, which is unpacked
into the call: ``((tokens, lengths), labels)`` runs ``model(tokens, lengths)``
(:func:`default_forward`). Each batch counts by its number of targets, so an epoch's
mean is exact per example (classification, targets (B,)) or per token (language
models, targets (T, B)).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
from torch import nn

from lstm_course.training.metrics import Metric
from lstm_course.training.model_tools import eval_mode, model_device

__all__ = [
    "to_device",
    "default_forward",
    "evaluate",
    "TrainingSteps",
]


def to_device(obj, device: torch.device):
    """Move a tensor, or the tensors inside tuples, lists and dicts, to ``device``."""
    if isinstance(obj, torch.Tensor):
        return obj.to(device, non_blocking=True)
    if isinstance(obj, (tuple, list)):
        return type(obj)(to_device(x, device) for x in obj)
    if isinstance(obj, dict):
        return {k: to_device(v, device) for k, v in obj.items()}
    return obj


def default_forward(model: nn.Module, inputs):
    """``model(*inputs)`` for a tuple or list of inputs, else ``model(inputs)``."""
    return model(*inputs) if isinstance(inputs, (tuple, list)) else model(inputs)


def _split(batch) -> tuple:
    if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
        got = type(batch).__name__
        got += f" of length {len(batch)}" if isinstance(batch, (tuple, list)) else ""
        raise ValueError(f"each batch must be an (inputs, targets) pair, got a {got}")
    return batch[0], batch[1]


def _weight(targets) -> int:
    # Weighting each batch by its number of targets makes the epoch mean exact:
    # per example for classification, per token for (T, B) language-model targets.
    return targets.numel() if isinstance(targets, torch.Tensor) else len(targets)


def evaluate(
    model: nn.Module,
    loader: Iterable,
    loss_fn: Callable,
    metrics: dict[str, Metric] | None = None,
    device: torch.device | str | None = None,
    *,
    forward: Callable = default_forward,
) -> dict[str, float]:
    """Mean loss and metrics over ``loader``: ``{"loss": ..., "<metric>": ...}``.

    Runs in eval mode (dropout off) without gradients, then puts the model back in
    the mode it was in.
    """
    metrics = metrics or {}
    device = torch.device(device) if device is not None else model_device(model)
    totals = dict.fromkeys(["loss", *metrics], 0.0)
    seen = 0
    with eval_mode(model), torch.no_grad():
        for batch in loader:
            inputs, targets = to_device(_split(batch), device)
            outputs = forward(model, inputs)
            weight = _weight(targets)
            # Sums may stay tensors on the device: no GPU sync per batch.
            totals["loss"] += loss_fn(outputs, targets) * weight
            for name, metric in metrics.items():
                totals[name] += metric(outputs, targets) * weight
            seen += weight
    if seen == 0:
        raise ValueError("evaluate got an empty loader")
    return {name: float(total) / seen for name, total in totals.items()}


@dataclass
class TrainingSteps:
    """What every training step of one :func:`~lstm_course.training.loop.fit` call uses,
    gathered once."""

    model: nn.Module
    loss_fn: Callable
    optimizer: torch.optim.Optimizer
    device: torch.device
    metrics: dict[str, Metric]
    clip_grad_norm: float | None
    step_fn: Callable | None
    forward: Callable

    def loss(self, inputs, targets) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The training loss of a batch and the outputs to score (None from a step_fn
        that returns the loss alone)."""
        if self.step_fn is None:
            outputs = self.forward(self.model, inputs)
            return self.loss_fn(outputs, targets), outputs
        loss = self.step_fn(self.model, inputs, targets)
        return loss if isinstance(loss, tuple) else (loss, None)

    def step(self, loss: torch.Tensor) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.clip_grad_norm is not None:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.clip_grad_norm)
        self.optimizer.step()

    def epoch(self, loader: Iterable, bar) -> dict[str, float]:
        """One pass of updates over ``loader``, in train mode: ``{"loss": mean, "<metric>":
        running mean}`` (nan for a metric when the step_fn gave no outputs). ``bar`` is a
        tqdm bar, advanced once per batch."""
        self.model.train()
        # Sums stay on the device so the loop does not wait on the GPU every batch.
        loss_sum, metric_sums, seen = 0.0, dict.fromkeys(self.metrics, 0.0), 0
        outputs = None
        for step, batch in enumerate(loader):
            inputs, targets = to_device(_split(batch), self.device)
            loss, outputs = self.loss(inputs, targets)
            self.step(loss)
            weight = _weight(targets)
            loss_sum += loss.detach() * weight
            seen += weight
            if self.metrics and outputs is not None:
                with torch.no_grad():
                    for name, metric in self.metrics.items():
                        metric_sums[name] += metric(outputs.detach(), targets) * weight
            bar.update()
            if not bar.disable and step % 10 == 0:
                bar.set_postfix(loss=f"{float(loss_sum) / seen:.4f}", refresh=False)
        if seen == 0:
            bar.close()
            raise ValueError("train_loader gave no batches")
        scores = {"loss": float(loss_sum) / seen}
        for name in self.metrics:  # the last batch tells whether the step_fn gives outputs
            scores[name] = float(metric_sums[name]) / seen if outputs is not None else math.nan
        return scores
