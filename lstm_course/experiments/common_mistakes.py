"""Small tools for catching common LSTM mistakes: graph size, honest splits, clipping runs.

Chapter ``14_common_mistakes`` uses them to show mistakes numerically; any chapter that
forecasts a series or carries a state across truncated-BPTT windows can use them too.

- ``graph_size(t)``: how many autograd nodes a backward pass from ``t`` would visit.
  It grows window after window when a carried LSTM state is not detached.
- ``chronological_split(series, train, val)``: train, validation and test parts of a
  series in time order (never shuffled: the future must not leak into the past).
- ``Standardizer``: z-scoring whose mean and standard deviation come from the training
  part only, then applied unchanged to validation and test.
- ``sliding_windows(series, length, horizon)``: (inputs, targets) pairs for forecasting.
- ``clipping_run`` and ``clipping_grid``: plain SGD on the adding problem with and
  without gradient-norm clipping, over learning rates and seeds (``ClippingArm`` per
  learning rate and arm: final losses, how many seeds diverged).

Shapes: a series is a 1-D array or tensor of N values, or (N, F) for F features.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from lstm_course.checks import check_fraction, check_int, check_positive
from lstm_course.experiments.long_lags import SequenceRegressor, adding_problem

__all__ = [
    "graph_size",
    "chronological_split",
    "Standardizer",
    "sliding_windows",
    "clipping_run",
    "ClippingArm",
    "clipping_grid",
]


def graph_size(tensor: torch.Tensor) -> int:
    """Number of distinct autograd nodes reachable from ``tensor.grad_fn`` (0 for a leaf).

    This is the work ``tensor.backward()`` would do, and roughly the memory the graph
    holds: for an LSTM it is proportional to the number of steps the graph spans.
    """
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"graph_size needs a tensor, got {type(tensor).__name__}")
    seen, stack = set(), [tensor.grad_fn] if tensor.grad_fn is not None else []
    while stack:  # iterative: a graph thousands of steps deep would overflow recursion
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack.extend(nxt for nxt, _ in node.next_functions if nxt is not None)
    return len(seen)


def chronological_split(series, train: float = 0.7, val: float = 0.15):
    """Cut a series into ``(train, val, test)`` in time order.

    ``train`` and ``val`` are fractions of the length; the test part is the rest and
    must not be empty. Works on NumPy arrays and tensors (slices, no copies).
    """
    train, val = check_fraction("train", train), check_fraction("val", val)
    n = len(series)
    n_train, n_val = int(round(n * train)), int(round(n * val))
    if n_train < 1 or n_val < 1 or n_train + n_val >= n:
        raise ValueError(
            f"train={train} and val={val} of {n} values leave an empty part "
            f"({n_train} train, {n_val} val, {n - n_train - n_val} test): "
            "use a longer series or smaller fractions"
        )
    return series[:n_train], series[n_train : n_train + n_val], series[n_train + n_val :]


class Standardizer:
    """z = (x - mean) / std, with mean and std fitted on the training part only.

    ``fit(train)`` then ``transform(anything)`` and ``inverse_transform(z)``. Per
    feature for an (N, F) series. Fitting on the whole series, before the split, lets
    the test period's level and spread into the training inputs (leakage).
    """

    def __init__(self):
        self.mean = None
        self.std = None

    def fit(self, train) -> Standardizer:
        values = np.asarray(train, dtype=np.float64)
        if values.ndim not in (1, 2) or len(values) < 2:
            raise ValueError(
                f"fit needs a (N,) or (N, F) series with N >= 2, got shape {values.shape}"
            )
        std = values.std(axis=0)
        if np.any(std == 0):
            raise ValueError(
                "a feature is constant on the training part (std 0): drop it "
                "or use a longer training part"
            )
        self.mean, self.std = values.mean(axis=0), std
        return self

    def _check(self):
        if self.mean is None:
            raise ValueError("Standardizer is not fitted: call fit(train) first")

    def transform(self, x) -> np.ndarray:
        self._check()
        return (np.asarray(x, dtype=np.float64) - self.mean) / self.std

    def inverse_transform(self, z) -> np.ndarray:
        self._check()
        return np.asarray(z, dtype=np.float64) * self.std + self.mean


def sliding_windows(series, length: int, horizon: int = 1):
    """Forecasting pairs: inputs ``series[s:s+length]``, target ``series[s+length+horizon-1]``.

    Returns ``(inputs, targets)``: for a (N,) series, (M, length) and (M,); for (N, F),
    (M, length, F) and (M, F), with M = N - length - horizon + 1 windows. Same type as
    the input (NumPy array or tensor). Make windows *after* splitting, within each part,
    so that no window's target lies in the next part.
    """
    length, horizon = check_int("length", length), check_int("horizon", horizon)
    n = len(series)
    count = n - length - horizon + 1
    if count < 1:
        raise ValueError(
            f"a series of {n} values has no window of length {length} with "
            f"horizon {horizon}: it needs at least {length + horizon} values"
        )
    starts = np.arange(count)
    idx = starts[:, None] + np.arange(length)[None, :]
    targets = starts + length + horizon - 1
    if isinstance(series, torch.Tensor):
        idx, targets = torch.as_tensor(idx), torch.as_tensor(targets)
    return series[idx], series[targets]


# --- gradient clipping ----------------------------------------------------------------------


def clipping_run(
    lr: float,
    max_norm: float | None,
    seed: int,
    steps: int,
    length: int = 100,
    batch_size: int = 32,
    hidden_size: int = 32,
) -> tuple[np.ndarray, np.ndarray]:
    """Plain SGD on the adding problem, clipping the gradient norm at ``max_norm`` (None: never).

    The model is ``SequenceRegressor("LSTM", 2, hidden_size)`` initialized from
    ``torch.manual_seed(seed)``; batches of ``batch_size`` sequences of ``length`` steps come
    from a generator seeded with ``seed`` too, so the clipped and the unclipped run of a seed
    start from the same weights and see the same batches. Returns ``(norms, losses)``, each of
    shape (S,): the gradient norm before clipping and the batch's MSE at every step. The run
    stops at its first non-finite loss (then S < ``steps``): nothing is left to learn.
    """
    check_positive("lr", lr)
    if max_norm is not None:
        check_positive("max_norm", max_norm)
    check_int("seed", seed, 0)
    check_int("steps", steps)
    torch.manual_seed(seed)
    model = SequenceRegressor("LSTM", 2, hidden_size)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    norms, losses = [], []
    for _ in range(steps):
        x, y = adding_problem(batch_size, length, gen)
        loss = F.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        clip = math.inf if max_norm is None else max_norm  # inf: only measure the norm
        norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), clip).item())
        losses.append(loss.item())
        if not math.isfinite(losses[-1]):
            break
        opt.step()
    return np.array(norms), np.array(losses)


@dataclass(frozen=True)
class ClippingArm:
    """The runs of one (learning rate, clipping) arm, one per seed.

    ``runs[k]`` is ``clipping_run``'s ``(norms, losses)`` for the k-th seed. A run has
    *diverged* when its loss became non-finite or its final loss is more than
    ``blowup`` times its first; the *final loss* is the mean over its last ``last`` steps.
    """

    lr: float
    max_norm: float | None
    seeds: tuple[int, ...]
    runs: tuple[tuple[np.ndarray, np.ndarray], ...]
    last: int = 20
    blowup: float = 10.0

    @property
    def final_losses(self) -> np.ndarray:
        """(seeds,) mean loss of each run's last ``last`` steps (inf for a stopped run)."""
        return np.array([losses[-self.last :].mean() for _, losses in self.runs])

    @property
    def diverged_mask(self) -> np.ndarray:
        """(seeds,) True where the run diverged (see the class docstring)."""
        return np.array(
            [
                not np.all(np.isfinite(losses)) or final > self.blowup * losses[0]
                for (_, losses), final in zip(self.runs, self.final_losses, strict=True)
            ]
        )

    @property
    def diverged(self) -> int:
        """How many seeds diverged."""
        return int(self.diverged_mask.sum())

    def summary(self) -> tuple[float, float]:
        """Mean and standard deviation (ddof 1) of the final loss over the seeds that did not
        diverge; NaN where none is left (and the deviation NaN for a single one)."""
        kept = self.final_losses[~self.diverged_mask]
        if len(kept) == 0:
            return math.nan, math.nan
        return float(kept.mean()), float(kept.std(ddof=1)) if len(kept) > 1 else math.nan


def clipping_grid(
    lrs: Iterable[float],
    max_norm: float,
    seeds: int,
    steps: int,
    last: int = 20,
    **run_kwargs,
) -> list[ClippingArm]:
    """Every learning rate in ``lrs``, unclipped and clipped at ``max_norm``, over seeds
    ``0 .. seeds - 1``, each run ``steps`` SGD steps (``clipping_run``; ``run_kwargs`` go
    to it). Returns the arms in the order (lr, unclipped), (lr, clipped) per learning rate.
    """
    lrs = [check_positive("lr", lr) for lr in lrs]
    if not lrs:
        raise ValueError("lrs must hold at least one learning rate")
    check_positive("max_norm", max_norm)
    check_int("seeds", seeds)
    check_int("last", last)
    if last > check_int("steps", steps):
        raise ValueError(f"last={last} must not exceed steps={steps}")
    arms = []
    for lr in lrs:
        for clip in (None, max_norm):
            runs = tuple(clipping_run(lr, clip, s, steps, **run_kwargs) for s in range(seeds))
            arms.append(ClippingArm(lr, clip, tuple(range(seeds)), runs, last))
    return arms
