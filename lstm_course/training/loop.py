"""A small training loop: what every chapter would otherwise write again.

    history = fit(model, train_loader, nn.CrossEntropyLoss(), optimizer, epochs=10,
                  val_loader=val_loader, metrics={"accuracy": accuracy},
                  clip_grad_norm=1.0, early_stopping=3)

Batches are ``(inputs, targets)`` pairs. ``inputs`` may be a tuple, which is unpacked
into the call: ``((tokens, lengths), labels)`` runs ``model(tokens, lengths)``. Pass
``forward(model, inputs)`` for any other way of calling the model, or ``step_fn`` to
compute the training loss yourself. One epoch of updates, and the scoring pass, are
``epoch``'s; this module repeats them and keeps the books (history, early stopping).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import torch
from torch import nn
from tqdm.auto import tqdm

from lstm_course.checks import check_bool, check_int, check_positive
from lstm_course.runtime import progress_bar
from lstm_course.training.epoch import TrainingSteps, default_forward, evaluate
from lstm_course.training.metrics import History, Metric
from lstm_course.training.model_tools import BestWeights, model_device

__all__ = ["fit"]

# ----------------------------------------------------------------------------------
# Helpers


def _length(loader) -> int | None:
    try:
        return len(loader)
    except TypeError:  # a generator or an iterable dataset: the bar just counts
        return None


def _check_fit_args(epochs, clip_grad_norm, early_stopping, restore_best, progress) -> None:
    """fit's numbers and switches."""
    check_int("epochs", epochs)
    if clip_grad_norm is not None:
        check_positive("clip_grad_norm", clip_grad_norm)
    if early_stopping is not None:
        check_int("early_stopping", early_stopping, why=" (a patience, in epochs) or None")
    check_bool("restore_best", restore_best)
    check_bool("progress", progress)


def _check_monitoring(mode, monitor, metrics, val_loader, early_stopping) -> None:
    """fit's metrics, and what early stopping and the best weights watch."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    for name, metric in metrics.items():
        need = f"metrics maps names other than 'loss' to f(outputs, targets); bad entry {name!r}"
        if not callable(metric):
            raise TypeError(f"{need}: {metric!r} cannot be called")
        if name == "loss":
            raise ValueError(f"{need}: the loss is always measured, under 'loss'")
    if early_stopping is not None and val_loader is None:
        raise ValueError("early_stopping watches the validation set: pass val_loader too")
    allowed = ["val_loss", *(f"val_{name}" for name in metrics)]
    if val_loader is not None and monitor not in allowed:
        raise ValueError(f"monitor={monitor!r} is not measured: choose one of {allowed}")


# ----------------------------------------------------------------------------------
# The books kept around the epochs: early stopping, history, the scheduler


class _Patience:
    """Early stopping's bookkeeping: the best monitored value so far, with its weights
    (:class:`~lstm_course.training.model_tools.BestWeights`), and the epochs since."""

    def __init__(self, mode: str, patience: int | None) -> None:
        self.best = BestWeights(mode)
        self.patience, self.bad_epochs = patience, 0

    def should_stop(self, model: nn.Module, value: float, epoch: int) -> bool:
        """Record this epoch's monitored ``value``; True once ``patience`` epochs in a row
        have brought nothing better."""
        if self.best.update(model, value, epoch):
            self.bad_epochs = 0
            return False
        self.bad_epochs += 1
        return self.patience is not None and self.bad_epochs >= self.patience


def _new_history(metrics: dict, validated: bool) -> History:
    history = History()
    for name in metrics:
        history.metrics[f"train_{name}"] = []
        if validated:
            history.metrics[f"val_{name}"] = []
    return history


def _record(history: History, train: dict[str, float], val: dict[str, float] | None) -> dict:
    """Append one epoch's scores to ``history``; returns them flat, as the bar shows them
    (``loss``, ``val_loss``, ``val_<metric>``)."""
    history.train_loss.append(train["loss"])
    for name, value in train.items():
        if name != "loss":
            history.metrics[f"train_{name}"].append(value)
    summary = {"loss": train["loss"]}
    if val is not None:
        history.val_loss.append(val["loss"])
        for name, value in val.items():
            if name != "loss":
                history.metrics[f"val_{name}"].append(value)
        summary.update({f"val_{k}": v for k, v in val.items()})
    return summary


def _step_scheduler(scheduler, monitored: float) -> None:
    if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
        scheduler.step(monitored)
    elif scheduler is not None:
        scheduler.step()


def fit(
    model: nn.Module,
    train_loader: Iterable,
    loss_fn: Callable,
    optimizer: torch.optim.Optimizer,
    epochs: int,
    *,
    val_loader: Iterable | None = None,
    metrics: dict[str, Metric] | None = None,
    clip_grad_norm: float | None = None,
    device: torch.device | str | None = None,
    early_stopping: int | None = None,
    monitor: str = "val_loss",
    mode: str = "auto",
    restore_best: bool = True,
    scheduler=None,
    progress: bool = True,
    step_fn: Callable | None = None,
    forward: Callable = default_forward,
) -> History:
    """Train ``model`` for up to ``epochs`` passes over ``train_loader``.

    Each step: ``loss_fn(forward(model, inputs), targets)``, backward, gradient
    clipping to total norm ``clip_grad_norm`` if given, ``optimizer.step()``. After
    each epoch, ``val_loader`` (if any) is scored by :func:`evaluate`.

    metrics: ``{"accuracy": accuracy}`` records ``train_accuracy`` (running, on the
        training batches as they are learned) and ``val_accuracy``.
    device: where batches (and the model) go; default: where the model already is.
    early_stopping: patience: stop after this many epochs without a better
        ``monitor`` (``"val_loss"`` or ``"val_<metric>"``). ``mode`` ``"min"`` or
        ``"max"``; ``"auto"`` means min for losses, max for anything else. With
        ``restore_best`` the model ends with the weights of its best epoch.
    scheduler: stepped once per epoch, after validation; ``ReduceLROnPlateau`` gets
        the monitored value (the train loss when there is no ``val_loader``).
    step_fn: ``step_fn(model, inputs, targets) -> loss`` or ``(loss, outputs)``,
        replaces forward + loss_fn on training batches (e.g. to carry an LSTM's
        state between language-model batches); fit still does backward, clip, step.
    forward: ``forward(model, inputs) -> outputs``, used for training and evaluation.
    """
    metrics = metrics or {}
    _check_fit_args(epochs, clip_grad_norm, early_stopping, restore_best, progress)
    _check_monitoring(mode, monitor, metrics, val_loader, early_stopping)
    if device is not None:
        device = torch.device(device)
        model.to(device)
    else:
        device = model_device(model)
    if mode == "auto":
        mode = "min" if monitor.endswith("loss") else "max"
    updates = TrainingSteps(
        model, loss_fn, optimizer, device, metrics, clip_grad_norm, step_fn, forward
    )
    history = _new_history(metrics, val_loader is not None)
    patience = _Patience(mode, early_stopping)
    start = time.perf_counter()

    for epoch in range(1, epochs + 1):
        epoch_start = time.perf_counter()
        history.lr.append(optimizer.param_groups[0]["lr"])
        # A manual bar (not tqdm(loader)) stays open, so the epoch summary can go on it.
        bar = progress_bar(
            total=_length(train_loader),
            progress=progress,
            desc=f"epoch {epoch}/{epochs}",
            dynamic_ncols=True,
        )
        train = updates.epoch(train_loader, bar)
        val = None
        if val_loader is not None:
            val = evaluate(model, val_loader, loss_fn, metrics, device, forward=forward)
        summary = _record(history, train, val)
        history.epoch_time.append(time.perf_counter() - epoch_start)
        bar.set_postfix({k: f"{v:.4f}" for k, v in summary.items()})
        bar.close()

        monitored = summary.get(monitor, train["loss"])
        _step_scheduler(scheduler, monitored)
        if val_loader is None:
            continue
        stop = patience.should_stop(model, monitored, epoch)
        history.best_epoch = patience.best.epoch if patience.best.score is not None else None
        if stop:
            history.stopped_early = True
            if progress:
                tqdm.write(
                    f"early stopping: no better {monitor} for {patience.bad_epochs} "
                    f"epochs, best was epoch {history.best_epoch}"
                )
            break

    if early_stopping is not None and restore_best and patience.best.state is not None:
        patience.best.restore(model)
    history.elapsed = time.perf_counter() - start
    return history
