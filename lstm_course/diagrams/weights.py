"""The stacked gate blocks of an LSTM's weights: ``weight_ih`` (4H, D) or ``weight_hh``
(4H, H) drawn as a heatmap, its rows ``kH`` to ``(k+1)H - 1`` labelled as the gates i, f,
g, o in PyTorch's stacking order (``draw_stacked_weights``).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from lstm_course.diagrams.parts import COLORS, GATES

__all__ = ["draw_stacked_weights"]


_ROLES = {"i": "input gate", "f": "forget gate", "g": "candidate", "o": "output gate"}


def draw_stacked_weights(weight, ax=None, name: str = "weight_ih", title: str | None = None):
    """Draw ``weight`` as a heatmap with its four row blocks labelled; return the Axes.

    ``weight`` is an ``nn.LSTMCell``'s or ``nn.LSTM``'s ``weight_ih`` (4H, D) or
    ``weight_hh`` (4H, H), a tensor or an array, and ``name`` says which of the two it
    is (it picks the labels: rows ``kH`` to ``(k+1)H - 1`` are ``W_{ii}``, ``W_{if}``,
    ``W_{ig}``, ``W_{io}`` for ``weight_ih``, ``W_{hi}``, ... for ``weight_hh``).

    Raises:
        ValueError: for a weight that is not 2-D with a number of rows divisible by 4,
            or a name other than ``"weight_ih"`` and ``"weight_hh"``.
    """
    if name not in ("weight_ih", "weight_hh"):
        raise ValueError(f"name must be 'weight_ih' or 'weight_hh', got {name!r}")
    if hasattr(weight, "detach"):
        weight = weight.detach().cpu().numpy()
    w = np.asarray(weight, dtype=float)
    if w.ndim != 2 or w.shape[0] == 0 or w.shape[0] % 4:
        raise ValueError(
            f"{name} must be 2-D with 4H rows (the gates i, f, g, o stacked), got shape {w.shape}"
        )
    four_h, cols = w.shape
    H = four_h // 4
    if ax is None:
        _, ax = plt.subplots(figsize=(min(3.2 + 0.35 * cols, 9), 1.2 + 0.3 * four_h))
    m = float(np.abs(w).max()) or 1.0
    image = ax.imshow(w, cmap="RdBu_r", vmin=-m, vmax=m)
    for k in range(1, 4):
        ax.axhline(k * H - 0.5, color="black", lw=1.5)
    prefix = "i" if name == "weight_ih" else "h"
    for k, gate in enumerate("ifgo"):
        ax.text(
            cols - 0.5 + 0.3,
            (k + 0.5) * H - 0.5,
            f"${gate}_t$, {_ROLES[gate]}: $W_{{{prefix}{gate}}}$, rows {k * H}-{(k + 1) * H - 1}",
            ha="left",
            va="center",
            fontsize=9,
            color="white",
            bbox={"boxstyle": "round,pad=0.25", "facecolor": COLORS[GATES[gate][1]],
                  "edgecolor": "none"},
            clip_on=False,
        )  # fmt: skip
    ax.set_yticks(range(four_h))
    ax.set_xticks(range(cols))
    ax.tick_params(labelsize=7)
    what = "input feature $j$ of $x_t$" if prefix == "i" else "unit $j$ of $h_{t-1}$"
    ax.set(xlabel=f"column: {what}", ylabel="row")
    ax.figure.colorbar(image, ax=ax, location="left", shrink=0.7, pad=0.16, label="weight")
    dims = "D" if prefix == "i" else "H"
    ax.set_title(
        title or f"{name}, $4H \\times {dims}$ = ({four_h}, {cols}): rows stacked $i, f, g, o$",
        fontsize=10,
    )
    return ax
