"""Training on a stream of fresh batches, for synthetic tasks that can draw as many new
sequences as they like (the adding problem, the memory task of
``lstm_course.experiments.long_lags``): :func:`train_on_stream` runs one epoch of
:func:`~lstm_course.training.loop.fit` over ``steps`` new batches and reports a
:class:`StreamRun`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from lstm_course.checks import check_bool, check_int
from lstm_course.training.epoch import evaluate
from lstm_course.training.loop import fit
from lstm_course.training.schedules import cosine_factor

__all__ = [
    "FreshBatches",
    "StreamRun",
    "train_on_stream",
]


class FreshBatches:
    """A loader that draws ``steps`` new batches from ``sample``: training never sees
    the same sequence twice, so the training loss is an honest estimate of the error."""

    def __init__(self, sample, steps: int, batch_size: int, generator: torch.Generator):
        self.sample, self.steps, self.batch_size, self.generator = (
            sample,
            steps,
            batch_size,
            generator,
        )

    def __len__(self) -> int:
        return self.steps

    def __iter__(self):
        for _ in range(self.steps):
            yield self.sample(self.batch_size, self.generator)


@dataclass(frozen=True)
class StreamRun:
    """What :func:`train_on_stream` measured.

    Attributes:
        losses: the training loss of every step, in order (one per Adam update).
        val_loss: ``loss_fn`` on the held-out sequences after training.
        val_metrics: ``{name: value}``, each metric passed, on the same sequences.
        seconds: wall time of the training (not of the validation).
        loss_is_mse: whether ``loss_fn`` was the mean squared error, so that
            ``val_loss`` is the validation MSE.

    ``run["losses"]``, ``run["seconds"]``, ``run["val_loss"]``, ``run["val_<metric>"]``
    and, for a run trained on the MSE only, ``run["val_mse"]`` read the same values:
    the old spelling of a dict result, kept read-only until chapters ``01_rnn_gradients``, ``11_lstm_variants`` and ``12_regularization``,
    which index it so, are re-executed. New code uses the attributes.
    """

    losses: list[float]
    val_loss: float
    val_metrics: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    loss_is_mse: bool = False

    def __getitem__(self, key: str):
        if key in ("losses", "seconds", "val_loss"):
            return getattr(self, key)
        if key == "val_mse" and self.loss_is_mse:
            return self.val_loss
        if key.startswith("val_") and key[4:] in self.val_metrics:
            return self.val_metrics[key[4:]]
        keys = [
            "losses",
            "seconds",
            "val_loss",
            *(["val_mse"] if self.loss_is_mse else []),
            *(f"val_{name}" for name in self.val_metrics),
        ]
        why = " (val_mse only for a run trained on the MSE)" if key == "val_mse" else ""
        raise KeyError(f"{key!r} is not in this run{why}: it has {keys}")


def _is_mse(loss_fn: Callable) -> bool:
    return loss_fn is torch.nn.functional.mse_loss or (
        isinstance(loss_fn, torch.nn.MSELoss) and loss_fn.reduction == "mean"
    )


def train_on_stream(
    model: torch.nn.Module,
    sample,
    steps: int,
    batch_size: int = 64,
    lr: float = 3e-3,
    clip_grad_norm: float | None = 1.0,
    num_val: int = 1000,
    seed: int = 0,
    progress: bool = True,
    loss_fn=torch.nn.functional.mse_loss,
    metrics: dict | None = None,
    decay_lr: bool = False,
) -> StreamRun:
    """Train a model with Adam on fresh synthetic batches; report its validation loss.

    One pass of :func:`lstm_course.training.loop.fit` over ``steps`` new batches, recording the
    loss of every step (a synthetic task has no epochs worth the name).

    Args:
        model: maps (N, T, D) inputs to outputs that ``loss_fn`` compares with targets:
            (N,) predictions for the default mean squared error, (N, C) logits for
            ``torch.nn.functional.cross_entropy``.
        sample: ``sample(n, generator) -> (x, y)``, e.g.
            ``lambda n, g: adding_problem(n, 50, g)`` (``experiments.long_lags``).
        steps: number of Adam updates, each on a new batch.
        loss_fn: ``loss_fn(outputs, targets)``, trained on and reported.
        metrics: ``{"name": metric(outputs, targets)}`` scored on the validation set,
            e.g. ``{"within_0.04": fraction_within(0.04)}`` (``experiments.long_lags``) or
            ``{"accuracy": lstm_course.training.accuracy}``.
        decay_lr: lower the learning rate from ``lr`` to 0 along a half cosine over the
            steps: large steps to leave the plateau, small ones to settle precisely.

    Returns:
        a :class:`StreamRun`: the training loss of every step, and the validation loss
        and metrics on ``num_val`` held-out sequences (drawn first, from the same seed).
        The model is left in eval mode, as it was scored.
    """
    check_int("steps", steps)
    check_int("batch_size", batch_size)
    check_int("num_val", num_val)
    check_bool("decay_lr", decay_lr)
    generator = torch.Generator().manual_seed(seed)
    validation = [sample(num_val, generator)]
    losses = []
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    def step(model, x, y):
        if decay_lr:  # set per step: fit's scheduler hook is stepped once per epoch
            for group in optimizer.param_groups:
                group["lr"] = lr * cosine_factor(len(losses), steps)
        loss = loss_fn(model(x), y)
        losses.append(loss.item())
        return loss

    history = fit(
        model,
        FreshBatches(sample, steps, batch_size, generator),
        loss_fn,
        optimizer,
        epochs=1,
        clip_grad_norm=clip_grad_norm,
        step_fn=step,
        progress=progress,
    )
    scores = evaluate(model, validation, loss_fn, metrics)
    model.eval()  # handed back ready for inference, as it was scored
    return StreamRun(
        losses,
        scores["loss"],
        {name: scores[name] for name in metrics or {}},
        history.elapsed,
        _is_mse(loss_fn),
    )
