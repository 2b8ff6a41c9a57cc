"""Synthetic tasks with a known time lag between cause and effect."""

from __future__ import annotations

import torch


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
    if num_sequences < 1:
        raise ValueError(f"num_sequences must be >= 1, got {num_sequences}")
    if length < 2:
        raise ValueError(f"length must be >= 2 (two steps get marked), got {length}")
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


class SequenceRegressor(torch.nn.Module):
    """A recurrent layer read out at its last step: ``(N, T, D) -> (N,)``.

    Args:
        kind: ``"RNN"`` (tanh), ``"LSTM"`` or ``"GRU"``, the ``torch.nn`` layer used.
        input_size: D.
        hidden_size: H.
        forget_bias: for an LSTM, the value the forget-gate block of ``bias_ih`` starts at
            (``bias_hh``'s block is zeroed), so the forget gate starts near
            ``sigmoid(forget_bias)``; None keeps PyTorch's initialization.
    """

    def __init__(self, kind: str, input_size: int, hidden_size: int,
                 forget_bias: float | None = None):
        super().__init__()
        layers = {"RNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}
        if kind not in layers:
            raise ValueError(f"kind must be one of {sorted(layers)}, got {kind!r}")
        if forget_bias is not None and kind != "LSTM":
            raise ValueError("forget_bias only applies to an LSTM")
        self.kind = kind
        self.rnn = layers[kind](input_size, hidden_size, batch_first=True)
        self.head = torch.nn.Linear(hidden_size, 1)
        if forget_bias is not None:
            forget = slice(hidden_size, 2 * hidden_size)  # PyTorch's gate order: i, f, g, o
            with torch.no_grad():
                self.rnn.bias_ih_l0[forget] = forget_bias
                self.rnn.bias_hh_l0[forget] = 0.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        output, _ = self.rnn(x)  # (N, T, H); every sequence has the full length T
        return self.head(output[:, -1]).squeeze(-1)


class FreshBatches:
    """A loader that draws ``steps`` new batches from ``sample``: training never sees
    the same sequence twice, so the training loss is an honest estimate of the error."""

    def __init__(self, sample, steps: int, batch_size: int, generator: torch.Generator):
        self.sample, self.steps, self.batch_size, self.generator = sample, steps, batch_size, generator

    def __len__(self) -> int:
        return self.steps

    def __iter__(self):
        for _ in range(self.steps):
            yield self.sample(self.batch_size, self.generator)


def train_on_stream(model: torch.nn.Module, sample, steps: int, batch_size: int = 64,
                    lr: float = 3e-3, clip_grad_norm: float | None = 1.0,
                    num_val: int = 1000, seed: int = 0, progress: bool = True) -> dict:
    """Train a regressor with Adam on fresh synthetic batches; report the validation MSE.

    One pass of :func:`lstm_course.train.fit` over ``steps`` new batches, recording the
    loss of every step (a synthetic task has no epochs worth the name).

    Args:
        model: maps (N, T, D) inputs to (N,) predictions.
        sample: ``sample(n, generator) -> (x, y)``, e.g.
            ``lambda n, g: adding_problem(n, 50, g)``.
        steps: number of Adam updates, each on a new batch.

    Returns:
        dict with ``losses`` (training MSE per step), ``val_mse`` (on ``num_val`` held-out
        sequences drawn first, from the same seed) and ``seconds`` (wall time).
    """
    from lstm_course.train import evaluate, fit

    if steps < 1 or batch_size < 1:
        raise ValueError(f"steps and batch_size must be >= 1, got {steps} and {batch_size}")
    generator = torch.Generator().manual_seed(seed)
    validation = [sample(num_val, generator)]
    losses = []

    def step(model, x, y):
        loss = torch.nn.functional.mse_loss(model(x), y)
        losses.append(loss.item())
        return loss

    history = fit(model, FreshBatches(sample, steps, batch_size, generator),
                  torch.nn.functional.mse_loss, torch.optim.Adam(model.parameters(), lr=lr),
                  epochs=1, clip_grad_norm=clip_grad_norm, step_fn=step, progress=progress)
    val_mse = evaluate(model, validation, torch.nn.functional.mse_loss)["loss"]
    model.eval()  # handed back ready for inference, as it was scored
    return {"losses": losses, "val_mse": val_mse, "seconds": history.elapsed}
