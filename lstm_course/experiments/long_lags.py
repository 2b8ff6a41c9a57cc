"""Synthetic tasks with a known time lag between cause and effect, and the small models that
learn them. :func:`lstm_course.training.train_on_stream` trains one on fresh batches for a
fixed number of updates, :func:`lstm_course.training.train_until_solved` until the 1997
paper's stopping rule fires.

Two adding problems: :func:`adding_problem_1997`, exactly as Hochreiter & Schmidhuber
(1997) define it, and :func:`adding_problem`, the later variant most papers and tutorials
use (values in [0, 1], target the plain sum). The paper's tolerance, 0.04 on a target
that is the sum scaled by 1/4, is :data:`MODERN_TOLERANCE` = 0.08 on the variant's sum:
the variant's values span half the range.
"""

from __future__ import annotations

import torch

from lstm_course.checks import check_int, check_positive
from lstm_course.layers.initialization import set_forget_bias_

__all__ = [
    "ADDING_BASELINE_MSE",
    "ADDING_1997_BASELINE_MSE",
    "TOLERANCE_1997",
    "MODERN_TOLERANCE",
    "adding_problem",
    "adding_problem_1997",
    "remember_first",
    "fraction_within",
    "SequenceRegressor",
    "SequenceClassifier",
]


#: The 1997 paper's criterion: a sequence is processed correctly when the absolute error
#: at its end is below 0.04.
TOLERANCE_1997 = 0.04
#: The same tolerance on :func:`adding_problem`'s scale: the 1997 target is
#: 0.5 + (X1 + X2) / 4 with values in [-1, 1], so 0.04 there is 0.16 on X1 + X2, and
#: values in [0, 1] span half that range.
MODERN_TOLERANCE = 0.08


def adding_problem_1997(
    num_sequences: int,
    lag: int,
    generator: torch.Generator | None = None,
    length: int | None = None,
):
    """The adding problem exactly as Hochreiter & Schmidhuber (1997, sec. 5.4) define it.

    Each step is a pair (value, marker). Values are uniform in [-1, 1]. One of the first
    ten pairs is marked 1 (its value is X1), then one of the first ``lag // 2 - 1`` pairs
    not already marked (X2). The first and the last pair carry the marker -1 unless
    marked; every other marker is 0. X2 may come before X1 in time. "X1 is set to zero
    in the rare case where the first pair of the sequence got marked": we read it as X1
    falling on the first pair (X2 may land there too, rarely, and keeps its value).
    The target is 0.5 + (X1 + X2) / 4, in [0, 1]; a sequence counts as processed
    correctly when the absolute error is below :data:`TOLERANCE_1997`.

    The paper draws each sequence's length uniformly from the integers in
    [T, T + T/10]. Here one length is drawn per call, so that a batch is one
    rectangular tensor: the lengths' distribution over batches is the paper's.

    Args:
        num_sequences: N, how many sequences.
        lag: T >= 20 (so that the ten candidates for X1 lie before the last pair and
            the first T/2 - 1 pairs hold a second mark).
        generator: a seeded ``torch.Generator`` for reproducible draws.
        length: fix the length (T <= length <= T + T // 10) instead of drawing it.

    Returns:
        ``(x, y)``: inputs of shape (N, L, 2) (value, marker) and targets of shape (N,),
        with L the length.
    """
    check_int("num_sequences", num_sequences)
    check_int("lag", lag, 20, why=" (the 1997 task marks one of the first ten pairs)")
    longest = lag + lag // 10
    if length is None:
        length = int(torch.randint(lag, longest + 1, (), generator=generator))
    else:
        check_int("length", length, lag)
        if length > longest:
            raise ValueError(f"length must lie in [{lag}, {longest}] for lag {lag}, got {length}")
    values = 2 * torch.rand(num_sequences, length, generator=generator) - 1
    first = torch.randint(0, 10, (num_sequences,), generator=generator)
    # X2 among the first lag/2 - 1 pairs other than the first mark: draw from one
    # fewer slots and step over the first mark.
    second = torch.randint(0, lag // 2 - 2, (num_sequences,), generator=generator)
    second = second + (second >= first).long()
    rows = torch.arange(num_sequences)
    values[rows[first == 0], 0] = 0.0
    markers = torch.zeros(num_sequences, length)
    markers[:, 0] = markers[:, -1] = -1.0
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    y = 0.5 + (values[rows, first] + values[rows, second]) / 4
    return torch.stack([values, markers], dim=-1), y


#: Mean squared error of always predicting the mean target, 0.5: the target's variance,
#: (Var X1 + Var X2) / 16 = (0.9 / 3 + 1 / 3) / 16 (X1 is 0 when the first pair is marked,
#: one time in ten).
ADDING_1997_BASELINE_MSE = (0.9 / 3 + 1 / 3) / 16


def adding_problem(num_sequences: int, length: int, generator: torch.Generator | None = None):
    """The adding problem in its common modern form, a variant of Hochreiter &
    Schmidhuber's (1997); :func:`adding_problem_1997` is the paper's own.

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
    """A metric for :func:`lstm_course.training.train_on_stream`: the share of predictions with
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
            set_forget_bias_(self.rnn, forget_bias)

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
