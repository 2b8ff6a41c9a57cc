"""A small training loop: what every chapter would otherwise write again.

    history = fit(model, train_loader, nn.CrossEntropyLoss(), optimizer, epochs=10,
                  val_loader=val_loader, metrics={"accuracy": accuracy},
                  clip_grad_norm=1.0, early_stopping=3)

Batches are ``(inputs, targets)`` pairs. ``inputs`` may be a tuple, which is unpacked
into the call: ``((tokens, lengths), labels)`` runs ``model(tokens, lengths)``. Pass
``forward(model, inputs)`` for any other way of calling the model, or ``step_fn`` to
compute the training loss yourself.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
from torch import nn
from tqdm.auto import tqdm

from lstm_course.checks import check_bool, check_int, check_positive
from lstm_course.training.metrics import History, Metric, accuracy
from lstm_course.training.model_tools import BestWeights, eval_mode, model_device

__all__ = [
    "History",  # re-exported from metrics: the chapters import it, and accuracy, from here
    "accuracy",
    "to_device",
    "default_forward",
    "evaluate",
    "fit",
]

# ----------------------------------------------------------------------------------
# Helpers


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


def _length(loader) -> int | None:
    try:
        return len(loader)
    except TypeError:  # a generator or an iterable dataset: the bar just counts
        return None


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


def _check_fit_args(
    epochs,
    clip_grad_norm,
    early_stopping,
    mode,
    monitor,
    metrics,
    val_loader,
    restore_best,
    progress,
) -> None:
    check_int("epochs", epochs)
    if clip_grad_norm is not None:
        check_positive("clip_grad_norm", clip_grad_norm)
    if early_stopping is not None:
        check_int("early_stopping", early_stopping, why=" (a patience, in epochs) or None")
    check_bool("restore_best", restore_best)
    check_bool("progress", progress)
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
# The loop, in parts: one epoch of updates, then the validation bookkeeping


@dataclass
class _Updates:
    """What every training step of one :func:`fit` call uses, gathered once."""

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
        running mean}`` (nan for a metric when the step_fn gave no outputs)."""
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
    _check_fit_args(
        epochs,
        clip_grad_norm,
        early_stopping,
        mode,
        monitor,
        metrics,
        val_loader,
        restore_best,
        progress,
    )
    if device is not None:
        device = torch.device(device)
        model.to(device)
    else:
        device = model_device(model)
    if mode == "auto":
        mode = "min" if monitor.endswith("loss") else "max"
    updates = _Updates(model, loss_fn, optimizer, device, metrics, clip_grad_norm, step_fn, forward)
    history = _new_history(metrics, val_loader is not None)
    patience = _Patience(mode, early_stopping)
    start = time.perf_counter()

    for epoch in range(1, epochs + 1):
        epoch_start = time.perf_counter()
        history.lr.append(optimizer.param_groups[0]["lr"])
        # A manual bar (not tqdm(loader)) stays open, so the epoch summary can go on it.
        bar = tqdm(
            total=_length(train_loader),
            desc=f"epoch {epoch}/{epochs}",
            disable=not progress,
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
