"""The figures every chapter draws: training curves, heatmaps over a sequence, and
gradient norm against time lag. Each function draws on ``ax`` (a new figure when None)
and returns it, so a chapter can add to or combine plots.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from lstm_course.checks import check_int

__all__ = [
    "plot_history",
    "plot_curves",
    "plot_heatmap",
    "plot_gradient_norms",
]


def _axes(ax):
    if ax is None:
        _, ax = plt.subplots()
    return ax


def _as_mapping(history) -> Mapping[str, Sequence[float]]:
    if hasattr(history, "as_dict"):
        history = history.as_dict()
    if not isinstance(history, Mapping):
        raise TypeError(
            f"history must be a mapping of name -> list of values, or a History, "
            f"got {type(history).__name__}"
        )
    return history


def plot_history(
    history,
    keys: Sequence[str] = ("train_loss", "val_loss"),
    ax=None,
    xlabel: str = "epoch",
    ylabel: str | None = None,
    logy: bool = False,
):
    """Training curves, one line per key, against epochs 1, 2, ...

    Args:
        history: a ``lstm_course.training.History`` or a mapping name -> per-epoch values.
        keys: which entries to draw; missing or empty ones are skipped.
    """
    history = _as_mapping(history)
    drawn = [k for k in keys if k in history and len(history[k]) > 0]
    if not drawn:
        raise ValueError(f"none of {list(keys)} is in the history (it has {sorted(history)})")
    ax = _axes(ax)
    for key in drawn:
        values = np.asarray(history[key], dtype=float)
        ax.plot(
            np.arange(1, len(values) + 1), values, marker="o", ms=3, label=key.replace("_", " ")
        )
    ax.set(xlabel=xlabel, ylabel=ylabel or ", ".join(k.replace("_", " ") for k in drawn))
    if logy:
        ax.set_yscale("log")
    ax.legend()
    return ax


def plot_curves(
    curves: Mapping[str, Sequence[float]],
    x: Sequence[float] | None = None,
    ax=None,
    xlabel: str = "step",
    ylabel: str = "",
    logy: bool = False,
    smooth: int = 1,
):
    """Several named curves on one axis (losses per step, accuracies per lag, ...).

    ``smooth`` > 1 draws a running mean over that many points, for noisy per-step losses.
    """
    if not curves:
        raise ValueError("curves is empty: pass a mapping of label -> values")
    check_int("smooth", smooth)
    ax = _axes(ax)
    for label, values in curves.items():
        values = np.asarray(values, dtype=float)
        xs = np.arange(len(values)) if x is None else np.asarray(x)
        if smooth > 1 and len(values) >= smooth:
            values = np.convolve(values, np.ones(smooth) / smooth, mode="valid")
            xs = xs[smooth - 1 :]
        ax.plot(xs, values, label=label)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if logy:
        ax.set_yscale("log")
    ax.legend()
    return ax


def plot_heatmap(
    values,
    ax=None,
    row_labels: Sequence[str] | None = None,
    tokens: Sequence[str] | None = None,
    cmap: str = "RdBu_r",
    vmin: float | None = None,
    vmax: float | None = None,
    colorbar: bool = True,
    title: str | None = None,
):
    """A (rows, T) array drawn over time: gate values or cell activations along a sequence.

    Args:
        values: array of shape (rows, T), e.g. one row per unit or per gate.
        row_labels: one label per row.
        tokens: one label per step, written under the columns (characters or words).
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"values must have shape (rows, T), got {values.shape}")
    rows, steps = values.shape
    if row_labels is not None and len(row_labels) != rows:
        raise ValueError(f"{len(row_labels)} row labels for {rows} rows")
    if tokens is not None and len(tokens) != steps:
        raise ValueError(f"{len(tokens)} tokens for {steps} steps")
    ax = _axes(ax)
    image = ax.imshow(
        values, aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest"
    )
    ax.grid(False)
    if row_labels is not None:
        ax.set_yticks(range(rows), labels=row_labels)
    if tokens is not None:
        ax.set_xticks(range(steps), labels=[repr(t)[1:-1] for t in tokens], fontsize=7)
    else:
        ax.set_xlabel("step")
    if colorbar:
        ax.figure.colorbar(image, ax=ax, fraction=0.03, pad=0.02)
    if title:
        ax.set_title(title)
    return ax


def plot_gradient_norms(
    norms: Mapping[str, Sequence[float]],
    ax=None,
    title: str | None = None,
    ylabel: str = r"$\|\partial L/\partial h_{T-k}\|$",
):
    """Gradient norm against time lag k, one curve per setting, on a log scale.

    Args:
        norms: label -> array whose entry k is the norm at lag k (as returned by
            ``lstm_course.experiments.vanishing_gradients.gradient_norms_by_lag``).
    """
    if not norms:
        raise ValueError("norms is empty: pass a mapping of label -> norms by lag")
    ax = _axes(ax)
    for label, values in norms.items():
        values = np.asarray(values, dtype=float)
        # Exact zeros (a gradient that underflowed) cannot go on a log axis.
        ax.semilogy(np.arange(len(values)), np.where(values > 0, values, np.nan), label=label)
    ax.set(xlabel="time lag $k$ (steps back from the loss)", ylabel=ylabel)
    if title:
        ax.set_title(title)
    ax.legend()
    return ax
