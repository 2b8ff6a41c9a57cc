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

import copy
import math
import numbers
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

import torch
from torch import nn
from tqdm.auto import tqdm

__all__ = [
    "History",
    "binary_accuracy",
    "multiclass_accuracy",
    "accuracy",
    "to_device",
    "default_forward",
    "evaluate",
    "fit",
]

Metric = Callable[[torch.Tensor, torch.Tensor], "float | torch.Tensor"]


@dataclass
class History:
    """What :func:`fit` measured, one entry per epoch.

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
# Metrics: f(outputs, targets) -> a number, averaged over the data by fit and evaluate


def binary_accuracy(logits: torch.Tensor, targets: torch.Tensor) -> float:
    """Share of correct signs: one logit per example, targets 0/1 of the same size."""
    if logits.numel() != targets.numel():
        raise ValueError(f"{tuple(logits.shape)} logits do not match {tuple(targets.shape)} targets")
    predicted = (logits.reshape(-1) > 0).long()
    return (predicted == targets.reshape(-1).long()).float().mean().item()


def multiclass_accuracy(logits: torch.Tensor, targets: torch.Tensor) -> float:
    """Share of correct argmax: logits (..., C), class-index targets (...)."""
    if logits[..., 0].numel() != targets.numel():
        raise ValueError(f"{tuple(logits.shape)} logits do not match {tuple(targets.shape)} targets")
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
    raise ValueError(f"accuracy cannot match outputs {tuple(outputs.shape)} with targets "
                     f"{tuple(targets.shape)}: expected (..., C) logits with (...) class "
                     "indices, or one logit per 0/1 target")


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


def _model_device(model: nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


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


def evaluate(model: nn.Module, loader: Iterable, loss_fn: Callable,
             metrics: dict[str, Metric] | None = None, device: torch.device | str | None = None,
             *, forward: Callable = default_forward) -> dict[str, float]:
    """Mean loss and metrics over ``loader``: ``{"loss": ..., "<metric>": ...}``.

    Runs in eval mode (dropout off) without gradients, then puts the model back in
    the mode it was in.
    """
    metrics = metrics or {}
    device = torch.device(device) if device is not None else _model_device(model)
    was_training = model.training
    model.eval()
    totals = dict.fromkeys(["loss", *metrics], 0.0)
    seen = 0
    try:
        with torch.no_grad():
            for batch in loader:
                inputs, targets = to_device(_split(batch), device)
                outputs = forward(model, inputs)
                weight = _weight(targets)
                # Sums may stay tensors on the device: no GPU sync per batch.
                totals["loss"] += loss_fn(outputs, targets) * weight
                for name, metric in metrics.items():
                    totals[name] += metric(outputs, targets) * weight
                seen += weight
    finally:
        model.train(was_training)
    if seen == 0:
        raise ValueError("evaluate got an empty loader")
    return {name: float(total) / seen for name, total in totals.items()}


def _check_fit_args(epochs, clip_grad_norm, early_stopping, mode, monitor, metrics, val_loader):
    def is_count(x):
        return isinstance(x, numbers.Integral) and not isinstance(x, bool) and x >= 1

    if not is_count(epochs):
        raise ValueError(f"epochs must be an int >= 1, got {epochs!r}")
    if clip_grad_norm is not None and not (
        isinstance(clip_grad_norm, numbers.Real) and 0 < clip_grad_norm < math.inf
    ):
        raise ValueError(f"clip_grad_norm must be a positive number or None, got {clip_grad_norm!r}")
    if early_stopping is not None and not is_count(early_stopping):
        raise ValueError(f"early_stopping is a patience: an int >= 1 (epochs) or None, "
                         f"got {early_stopping!r}")
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    for name, metric in metrics.items():
        if name == "loss" or not callable(metric):
            raise ValueError(f"metrics maps names other than 'loss' to f(outputs, targets); "
                             f"bad entry {name!r}")
    if early_stopping is not None and val_loader is None:
        raise ValueError("early_stopping watches the validation set: pass val_loader too")
    allowed = ["val_loss", *(f"val_{name}" for name in metrics)]
    if val_loader is not None and monitor not in allowed:
        raise ValueError(f"monitor={monitor!r} is not measured: choose one of {allowed}")


# ----------------------------------------------------------------------------------
# The loop


def fit(model: nn.Module, train_loader: Iterable, loss_fn: Callable,
        optimizer: torch.optim.Optimizer, epochs: int, *, val_loader: Iterable | None = None,
        metrics: dict[str, Metric] | None = None, clip_grad_norm: float | None = None,
        device: torch.device | str | None = None, early_stopping: int | None = None,
        monitor: str = "val_loss", mode: str = "auto", restore_best: bool = True,
        scheduler=None, progress: bool = True, step_fn: Callable | None = None,
        forward: Callable = default_forward) -> History:
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
    _check_fit_args(epochs, clip_grad_norm, early_stopping, mode, monitor, metrics, val_loader)
    if device is not None:
        device = torch.device(device)
        model.to(device)
    else:
        device = _model_device(model)
    if mode == "auto":
        mode = "min" if monitor.endswith("loss") else "max"
    better = (lambda a, b: a < b) if mode == "min" else (lambda a, b: a > b)

    history = History()
    for name in metrics:
        history.metrics[f"train_{name}"] = []
        if val_loader is not None:
            history.metrics[f"val_{name}"] = []
    best_value, best_state, bad_epochs = None, None, 0
    start = time.perf_counter()

    for epoch in range(1, epochs + 1):
        epoch_start = time.perf_counter()
        history.lr.append(optimizer.param_groups[0]["lr"])
        model.train()
        # Sums stay on the device so the loop does not wait on the GPU every batch.
        loss_sum, metric_sums, seen = 0.0, dict.fromkeys(metrics, 0.0), 0
        # A manual bar (not tqdm(loader)) stays open, so the epoch summary can go on it.
        bar = tqdm(total=_length(train_loader), desc=f"epoch {epoch}/{epochs}",
                   disable=not progress, dynamic_ncols=True)
        for step, batch in enumerate(train_loader):
            inputs, targets = to_device(_split(batch), device)
            if step_fn is None:
                outputs = forward(model, inputs)
                loss = loss_fn(outputs, targets)
            else:
                loss = step_fn(model, inputs, targets)
                loss, outputs = loss if isinstance(loss, tuple) else (loss, None)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if clip_grad_norm is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
            optimizer.step()

            weight = _weight(targets)
            loss_sum += loss.detach() * weight
            seen += weight
            if metrics and outputs is not None:
                with torch.no_grad():
                    for name, metric in metrics.items():
                        metric_sums[name] += metric(outputs.detach(), targets) * weight
            bar.update()
            if progress and step % 10 == 0:
                bar.set_postfix(loss=f"{float(loss_sum) / seen:.4f}", refresh=False)
        if seen == 0:
            bar.close()
            raise ValueError("train_loader gave no batches")

        history.train_loss.append(float(loss_sum) / seen)
        for name in metrics:  # nan when step_fn returned no outputs to score
            score = float(metric_sums[name]) / seen if outputs is not None else math.nan
            history.metrics[f"train_{name}"].append(score)
        summary = {"loss": history.train_loss[-1]}
        if val_loader is not None:
            scores = evaluate(model, val_loader, loss_fn, metrics, device, forward=forward)
            history.val_loss.append(scores["loss"])
            for name in metrics:
                history.metrics[f"val_{name}"].append(scores[name])
            summary.update({f"val_{k}": v for k, v in scores.items()})
        history.epoch_time.append(time.perf_counter() - epoch_start)
        bar.set_postfix({k: f"{v:.4f}" for k, v in summary.items()})
        bar.close()

        monitored = summary.get(monitor, history.train_loss[-1])
        if scheduler is not None:
            if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                scheduler.step(monitored)
            else:
                scheduler.step()
        if val_loader is None:
            continue
        if best_value is None or better(monitored, best_value):
            best_value, history.best_epoch, bad_epochs = monitored, epoch, 0
            if early_stopping is not None and restore_best:
                best_state = copy.deepcopy(model.state_dict())
        else:
            bad_epochs += 1
            if early_stopping is not None and bad_epochs >= early_stopping:
                history.stopped_early = True
                if progress:
                    tqdm.write(f"early stopping: no better {monitor} for {bad_epochs} epochs, "
                               f"best was epoch {history.best_epoch}")
                break

    if best_state is not None:
        model.load_state_dict(best_state)
    history.elapsed = time.perf_counter() - start
    return history
