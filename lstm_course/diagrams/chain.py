"""The LSTM unrolled over time (``draw_lstm_chain``): a few cells drawn small, one box for
the four gates each, with the cell path c_{t-1} -> c_t marked as the one line that meets no
weight matrix and no squashing.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

from lstm_course.checks import check_int
from lstm_course.diagrams.parts import (
    CELL_COLOR,
    COLORS,
    NODE_R,
    arrow,
    finish_axes,
    halo_line,
    pointwise_node,
    tanh_node,
)

__all__ = ["draw_lstm_chain"]


def _step_label(k: int, steps: int) -> str:
    """The time index of cell k of ``steps`` drawn, so that the last but one is t."""
    off = k - (steps - 2)
    return "t" if off == 0 else f"t{off:+d}"


def draw_lstm_chain(steps: int = 3, ax=None, title: str | None = None):
    """Draw ``steps`` LSTM cells unrolled over time, with the cell path marked; return the Axes.

    Each cell is drawn small: one box for the four gates, which read x and the previous h,
    the x and + on the cell line, and the output o * tanh(c). The cell line runs straight
    through every cell on a yellow halo: from c_{t-1} to c_t it meets only an elementwise
    product with f_t and a sum with i_t * g_t, while h passes through the gates' weights.
    The cells are labelled so that the last but one is step t.

    Args:
        steps: how many cells to draw, at least 2.
        ax: where to draw; a new figure when None.
        title: an optional title.

    Raises:
        TypeError, ValueError: for ``steps`` not an int >= 2.
    """
    steps = check_int("steps", steps, minimum=2)
    width = 5.0
    if ax is None:
        _, ax = plt.subplots(figsize=(2.3 * steps + 1.6, 3.3))
    y_cell, y_gates, y_h = 3.2, 1.45, 0.55
    right = steps * width + 0.6
    halo_line(ax, [(-1.0, y_cell), (right, y_cell)], 1.0)
    arrow(ax, [(-1.0, y_cell), (right, y_cell)], 1.0, color=CELL_COLOR, lw=3)
    first = _step_label(-1, steps)
    ax.text(-1.1, y_cell, f"$c_{{{first}}}$", ha="right", va="center", fontsize=11)
    ax.text(-1.1, y_h, f"$h_{{{first}}}$", ha="right", va="center", fontsize=11)
    arrow(ax, [(-1.0, y_h), (1.3, y_h), (1.3, y_gates - 0.45)], 1.0)
    for k in range(steps):
        x0, t = k * width, _step_label(k, steps)
        ax.add_patch(
            FancyBboxPatch(
                (x0 + 0.35, 0.05),
                width - 0.7,
                3.75,
                boxstyle="round,pad=0,rounding_size=0.3",
                facecolor="#f4f6fa",
                edgecolor="#9aa5b8",
                lw=1.0,
                zorder=0,
            )
        )
        ax.add_patch(
            FancyBboxPatch(
                (x0 + 1.0, y_gates - 0.45),
                2.1,
                0.9,
                boxstyle="round,pad=0,rounding_size=0.12",
                facecolor=COLORS["sigmoid"],
                edgecolor="none",
                zorder=3,
            )
        )
        ax.text(x0 + 2.05, y_gates, "$i, f, g, o$", ha="center", va="center", fontsize=10,
                color="white", zorder=4)  # fmt: skip
        # f_t into the x, i_t * g_t into the +, on the cell line.
        arrow(ax, [(x0 + 1.5, y_gates + 0.45), (x0 + 1.5, y_cell - NODE_R)], 1.0)
        pointwise_node(ax, (x0 + 1.5, y_cell), r"$\times$", 0.85)
        arrow(ax, [(x0 + 2.6, y_gates + 0.45), (x0 + 2.6, y_cell - NODE_R)], 1.0)
        pointwise_node(ax, (x0 + 2.6, y_cell), "+", 0.85)
        ax.text(x0 + 1.4, 2.35, f"$f_{{{t}}}$", ha="right", fontsize=9)
        ax.text(x0 + 2.7, 2.35, f"$i_{{{t}}} g_{{{t}}}$", ha="left", fontsize=8)
        # The output o_t * tanh(c_t), which is h_t: to the next cell and up out of this one.
        xo = x0 + 3.85
        arrow(ax, [(xo, y_cell), (xo, y_gates + 0.25)], 1.0)
        tanh_node(ax, (xo, y_gates), 0.85)
        ax.text(xo + 0.55, y_gates, "$\\times o$", ha="left", va="center", fontsize=8)
        nxt = (x0 + width + 1.3, y_gates - 0.45) if k < steps - 1 else (right, y_h)
        path = [(xo, y_gates - 0.25), (xo, y_h), (nxt[0], y_h)]
        arrow(ax, path + ([nxt] if k < steps - 1 else []), 1.0)
        ax.text(x0 + width - 0.05, y_h + 0.1, f"$h_{{{t}}}$", ha="center", va="bottom",
                fontsize=10)  # fmt: skip
        ax.text(x0 + width - 0.05, y_cell + 0.15, f"$c_{{{t}}}$", ha="center", va="bottom",
                fontsize=10)  # fmt: skip
        arrow(ax, [(x0 + 2.05, -0.85), (x0 + 2.05, y_gates - 0.45)], 1.0)
        ax.text(x0 + 2.05, -0.95, f"$x_{{{t}}}$", ha="center", va="top", fontsize=11)
    ax.text(
        right / 2,
        y_cell + 0.75,
        "cell path $c_{t-1} \\to c_t$: only $\\times f_t$ and $+\\, i_t g_t$ per step, "
        "no weight matrix, no squashing",
        ha="center",
        va="bottom",
        fontsize=9,
        color=CELL_COLOR,
    )
    return finish_axes(ax, (-2.0, right + 0.9), (-1.6, y_cell + 1.4), title, fontsize=11)
