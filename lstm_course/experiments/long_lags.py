"""Synthetic tasks with a known time lag between cause and effect, the small models that
learn them, and :func:`train_on_stream`, which trains one on fresh batches."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from lstm_course.checks import check_bool, check_int, check_positive
from lstm_course.training.loop import evaluate, fit
from lstm_course.training.schedules import cosine_factor

__all__ = [
    "ADDING_BASELINE_MSE",
    "adding_problem",
    "remember_first",
    "fraction_within",
    "SequenceRegressor",
    "SequenceClassifier",
    "FreshBatches",
    "StreamRun",
    "train_on_stream",
]


def adding_problem(num_sequences: int, length: int, generator: torch.Generator | None = None):
    """The adding problem of Hochreiter & Schmidhuber (1997), in its common modern form.

    Each step carries a value drawn uniformly from [0, 1) and a marker. Exactly two steps
    are marked: one among the first tenth of the sequence, one in the second half. The
    target is the sum of the two marked values, so the network must keep the first one
    for at least ``length // 2`` steps while ignoring everything in between. Predicting
    the mean (1.0) gives a mean squared error of 1/6.

    Args:
        num_sequences: N, how many sequences.
        length: T >= 2, steps per sequence.
        generator: a seeded ``torch.Generator`` for reproducible draws.

    Returns:
        ``(x, y)``: inputs of shape (N, T, 2) (value, marker) and targets of shape (N,).
    """
    check_int("num_sequences", num_sequences)
    check_int("length", length, 2, why=" (two steps get marked)")
    values = torch.rand(num_sequences, length, generator=generator)
    first = torch.randint(0, max(1, length // 10), (num_sequences,), generator=generator)
    second = torch.randint(length // 2, length, (num_sequences,), generator=generator)
    # length // 10 < length // 2 for length >= 2, so the two marks never coincide.
    markers = torch.zeros(num_sequences, length)
    rows = torch.arange(num_sequences)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = torch.stack([values, markers], dim=-1)
    y = (values * markers).sum(dim=1)
    return x, y


#: Mean squared error of always predicting the mean target, 1.0 (the variance of a sum
#: of two independent U(0, 1) values): the bar a model must beat to have learned anything.
ADDING_BASELINE_MSE = 1.0 / 6.0


def remember_first(
    num_sequences: int,
    length: int,
    num_symbols: int,
    generator: torch.Generator | None = None,
    num_distractors: int = 4,
):
    """A memory task: name the symbol seen at the first step, after ``length - 1`` distractors.

    Step 0 shows one of ``num_symbols`` signal symbols; every later step shows one of
    ``num_distractors`` other symbols, drawn uniformly and independently (the noisy
    variant of task 2 in Hochreiter & Schmidhuber, 1997). All are one-hot over
    ``num_symbols + num_distractors`` positions. The target, read at the end, is the
    signal symbol, so the only way to beat chance (``1 / num_symbols``) is to store it
    and hold it, untouched by the distractors, for ``length - 1`` steps.

    Args:
        num_sequences: N, how many sequences.
        length: T >= 1, steps per sequence.
        num_symbols: K >= 2, signal symbols (and classes), one-hot positions 0..K-1.
        generator: a seeded ``torch.Generator`` for reproducible draws.
        num_distractors: M >= 1, distractor symbols, one-hot positions K..K+M-1.

    Returns:
        ``(x, y)``: one-hot inputs of shape (N, T, K + M) and class indices (N,) in 0..K-1.
    """
    check_int("num_sequences", num_sequences)
    check_int("length", length)
    check_int("num_symbols", num_symbols, 2, why=" (one symbol is no task)")
    check_int("num_distractors", num_distractors)
    first = torch.randint(0, num_symbols, (num_sequences, 1), generator=generator)
    later = torch.randint(
        num_symbols, num_symbols + num_distractors, (num_sequences, length - 1), generator=generator
    )
    x = torch.nn.functional.one_hot(
        torch.cat([first, later], dim=1), num_symbols + num_distractors
    ).float()
    return x, first[:, 0].clone()


def fraction_within(tolerance: float):
    """A metric for :func:`train_on_stream`: the share of predictions with
    ``|prediction - target| < tolerance`` (the adding problem's success criterion of
    Hochreiter & Schmidhuber (1997) uses 0.04)."""
    check_positive("tolerance", tolerance)

    def metric(outputs: torch.Tensor, targets: torch.Tensor) -> float:
        return ((outputs - targets).abs() < tolerance).float().mean().item()

    return metric


class _LastStepReadout(torch.nn.Module):
    """A one-layer ``torch.nn`` RNN, LSTM or GRU and a linear head on its last state."""

    def __init__(
        self,
        kind: str,
        input_size: int,
        hidden_size: int,
        out_features: int,
        forget_bias: float | None = None,
    ):
        super().__init__()
        layers = {"RNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}
        if kind not in layers:
            raise ValueError(f"kind must be one of {sorted(layers)}, got {kind!r}")
        if forget_bias is not None and kind != "LSTM":
            raise ValueError("forget_bias only applies to an LSTM")
        self.kind = kind
        self.rnn = layers[kind](input_size, hidden_size, batch_first=True)
        self.head = torch.nn.Linear(hidden_size, out_features)
        if forget_bias is not None:
            forget = slice(hidden_size, 2 * hidden_size)  # PyTorch's gate order: i, f, g, o
            with torch.no_grad():
                self.rnn.bias_ih_l0[forget] = forget_bias
                self.rnn.bias_hh_l0[forget] = 0.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        output, _ = self.rnn(x)  # (N, T, H); every sequence has the full length T
        return self.head(output[:, -1])


class SequenceRegressor(_LastStepReadout):
    """A recurrent layer read out at its last step: ``(N, T, D) -> (N,)``.

    Args:
        kind: ``"RNN"`` (tanh), ``"LSTM"`` or ``"GRU"``, the ``torch.nn`` layer used.
        input_size: D.
        hidden_size: H.
        forget_bias: for an LSTM, the value the forget-gate block of ``bias_ih`` starts at
            (``bias_hh``'s block is zeroed), so the forget gate starts near
            ``sigmoid(forget_bias)``; None keeps PyTorch's initialization.
    """

    def __init__(
        self, kind: str, input_size: int, hidden_size: int, forget_bias: float | None = None
    ):
        super().__init__(kind, input_size, hidden_size, 1, forget_bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x).squeeze(-1)


class SequenceClassifier(_LastStepReadout):
    """A recurrent layer whose last state gives class logits: ``(N, T, D) -> (N, C)``.

    Same arguments as :class:`SequenceRegressor`, plus ``num_classes`` (C >= 2).
    """

    def __init__(
        self,
        kind: str,
        input_size: int,
        hidden_size: int,
        num_classes: int,
        forget_bias: float | None = None,
    ):
        check_int("num_classes", num_classes, 2)
        super().__init__(kind, input_size, hidden_size, num_classes, forget_bias)


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
    the old spelling of a dict result, kept read-only until chapters 1, 7, 11 and 12,
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
            ``lambda n, g: adding_problem(n, 50, g)``.
        steps: number of Adam updates, each on a new batch.
        loss_fn: ``loss_fn(outputs, targets)``, trained on and reported.
        metrics: ``{"name": metric(outputs, targets)}`` scored on the validation set,
            e.g. ``{"within_0.04": fraction_within(0.04)}`` or
            ``{"accuracy": lstm_course.training.loop.accuracy}``.
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
