"""The one fit loop for language models: epochs of truncated BPTT, the validation
loss after each, the best epoch's weights kept. Chapters ``10_word_lm_ptb``, ``11_lstm_variants`` and ``12_regularization`` train through it.

    run = fit_lm(model, train_ids, valid_ids, epochs=10, lr=3e-3, clip=0.25)
    run.best_valid_ppl, run.best_epoch, run.valid_loss      # nats per token, per epoch

The optimizer and the learning-rate schedule are arguments, because the chapters use
two classic recipes on the same loop:

- Adam with the rate lowered along a half cosine to 0 over all updates (the default;
  chapters ``11_lstm_variants`` and ``12_regularization``): every run ends its budget annealed;
- SGD with a per-epoch step decay (Zaremba et al. 2014; chapter ``10_word_lm_ptb``):
  ``optimizer=torch.optim.SGD, lr=lambda epoch: ..., cosine=False``.

``train_ids`` and ``valid_ids`` are 1-D id tensors, cut into B streams (``batch``,
``valid_batch``) and T-step windows (``bptt``) by :mod:`lstm_course.data.batching`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from lstm_course.checks import check_bool, check_int, check_positive
from lstm_course.data.batching import batchify, bptt_batches
from lstm_course.training.language_model import evaluate, train_epoch
from lstm_course.training.model_tools import BestWeights, model_device
from lstm_course.training.schedules import cosine_schedule

__all__ = ["LMRun", "fit_lm"]


@dataclass
class LMRun:
    """What :func:`fit_lm` returns. Losses are mean nats per target token, one per epoch.

    ``model``: the trained model, in eval mode (the best epoch's weights if ``keep_best``).
    ``train_loss``: the mean loss of each epoch's updates (dropout on).
    ``valid_loss``: the validation loss after each epoch (dropout off).
    ``seconds``: the training time of each epoch, validation excluded.
    ``grad_norms``: every update's joint gradient norm, before clipping.
    ``best_epoch``: the epoch (from 1) with the lowest validation perplexity.
    ``updates``: optimizer steps taken. ``total_seconds``: the whole fit, validation included.
    """

    model: nn.Module
    train_loss: list[float] = field(default_factory=list)
    valid_loss: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)
    best_epoch: int = 0
    updates: int = 0
    total_seconds: float = 0.0

    @property
    def train_ppl(self) -> list[float]:
        return [math.exp(nats) for nats in self.train_loss]

    @property
    def valid_ppl(self) -> list[float]:
        return [math.exp(nats) for nats in self.valid_loss]

    @property
    def history(self) -> dict[str, list[float]]:
        """Per-epoch ``train_ppl``, ``valid_ppl`` and ``seconds``, the curves chapter ``12_regularization`` plots."""
        return {
            "train_ppl": self.train_ppl,
            "valid_ppl": self.valid_ppl,
            "seconds": list(self.seconds),
        }

    @property
    def best_valid_ppl(self) -> float:
        return self.valid_ppl[self.best_epoch - 1]

    @property
    def seconds_per_epoch(self) -> float:
        return sum(self.seconds) / len(self.seconds)


def fit_lm(
    model: nn.Module,
    train_ids: Tensor,
    valid_ids: Tensor,
    epochs: int,
    lr: float | Callable[[int], float],
    clip: float | None = None,
    batch: int = 20,
    bptt: int = 35,
    valid_batch: int = 10,
    cosine: bool = True,
    progress: bool = False,
    *,
    optimizer: Callable[..., torch.optim.Optimizer] = torch.optim.Adam,
    keep_best: bool = True,
    desc: str | None = None,
    on_epoch: Callable[[int, LMRun, bool], None] | None = None,
) -> LMRun:
    """Train ``model`` (tokens (T, B) -> logits (T, B, V), state) for ``epochs`` epochs.

    Args:
        lr: the learning rate; with ``cosine`` it falls along a half cosine to 0 at the
            last update (stepped every update). Or a function of the epoch (from 1)
            giving each epoch's rate, set before the epoch starts (a step decay); it
            needs ``cosine=False``, since the cosine would overwrite it.
        clip: rescale the joint gradient norm to at most this; None: no clipping.
        optimizer: ``optimizer(model.parameters(), lr=...)`` builds it (Adam by default).
        keep_best: load the weights of the best epoch (lowest validation perplexity;
            selection on validation, never on test) back at the end; else keep the last.
        on_epoch: called as ``on_epoch(epoch, run, improved)`` after each epoch, with
            the run so far and whether this epoch is the best yet (to save a
            checkpoint or print a line).

    The model stays where it is (move it to its device first) and is returned in eval
    mode inside the :class:`LMRun`.
    """
    epochs = check_int("epochs", epochs)
    keep_best, cosine = check_bool("keep_best", keep_best), check_bool("cosine", cosine)
    epoch_lr = lr if callable(lr) else None
    if epoch_lr is not None and cosine:
        raise ValueError(
            "lr is a per-epoch schedule and cosine=True would overwrite it: "
            "pass cosine=False, or a number as lr"
        )
    first_lr = check_positive("lr", epoch_lr(1) if epoch_lr is not None else lr)
    train_batches = bptt_batches(batchify(train_ids, batch), bptt)
    valid_batches = bptt_batches(batchify(valid_ids, valid_batch), bptt)
    run = LMRun(model, updates=epochs * len(train_batches))
    opt = optimizer(model.parameters(), lr=first_lr)
    scheduler = cosine_schedule(opt, run.updates) if cosine else None
    on_gpu = model_device(model).type == "cuda"
    best = BestWeights("min")
    fit_start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        if epoch_lr is not None:
            rate = check_positive("lr", epoch_lr(epoch), why=f" (epoch {epoch})")
            for group in opt.param_groups:
                group["lr"] = rate
        start = time.perf_counter()
        run.train_loss.append(
            train_epoch(
                model,
                train_batches,
                opt,
                clip=clip,
                scheduler=scheduler,
                progress=progress,
                desc=f"{desc}, epoch {epoch}" if desc else f"epoch {epoch}",
                grad_norms=run.grad_norms,
            )
        )
        if on_gpu:
            torch.cuda.synchronize()  # the GPU runs behind the Python loop
        run.seconds.append(time.perf_counter() - start)
        run.valid_loss.append(evaluate(model, valid_batches))
        # Copied even when keep_best is off: a state dict is small next to an epoch, and
        # best_epoch and on_epoch's ``improved`` mean the same thing either way.
        improved = best.update(model, math.exp(run.valid_loss[-1]), epoch)
        run.best_epoch = best.epoch
        if on_epoch is not None:
            on_epoch(epoch, run, improved)
    run.total_seconds = time.perf_counter() - fit_start
    if keep_best:
        best.restore(model)
    model.eval()
    return run
