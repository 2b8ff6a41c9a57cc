"""Small tools for catching common LSTM mistakes: autograd graph size, honest splits.

Chapter ``14_common_mistakes`` uses them to show mistakes numerically; any chapter that forecasts a series
or carries a state across truncated-BPTT windows can use them too.

- ``graph_size(t)``: how many autograd nodes a backward pass from ``t`` would visit.
  It grows window after window when a carried LSTM state is not detached.
- ``chronological_split(series, train, val)``: train, validation and test parts of a
  series in time order (never shuffled: the future must not leak into the past).
- ``Standardizer``: z-scoring whose mean and standard deviation come from the training
  part only, then applied unchanged to validation and test.
- ``sliding_windows(series, length, horizon)``: (inputs, targets) pairs for forecasting.

Shapes: a series is a 1-D array or tensor of N values, or (N, F) for F features.
"""

from __future__ import annotations

import numpy as np
import torch

from lstm_course.checks import check_fraction, check_int

__all__ = [
    "graph_size",
    "chronological_split",
    "Standardizer",
    "sliding_windows",
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
