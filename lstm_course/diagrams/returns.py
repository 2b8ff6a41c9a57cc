"""What ``nn.LSTM`` returns (chapter ``05_torch_lstm``): the states of a stacked, possibly
bidirectional LSTM as a grid of layers x time, with ``output`` (T, B, d*H) and ``h_n``,
``c_n`` (L*d, B, H) marked (``draw_lstm_returns``).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch
from matplotlib.patheffects import Normal, Stroke

from lstm_course.checks import check_bool, check_int
from lstm_course.diagrams.parts import (
    CELL_COLOR,
    LINE_COLOR,
    READ_OUT_COLOR,
    arrow,
    finish_axes,
)

__all__ = ["draw_lstm_returns"]


_STATE_FILL = "#dfe6f2"  # a state box


def _state_box(ax, xy, text, gid, fill=_STATE_FILL, edge="#9aa5b8", lw=1.0, text_gid=None):
    w, h = 0.9, 0.5
    ax.add_patch(
        FancyBboxPatch(
            (xy[0] - w / 2, xy[1] - h / 2),
            w,
            h,
            boxstyle="round,pad=0,rounding_size=0.08",
            facecolor=fill,
            edgecolor=edge,
            lw=lw,
            zorder=3,
            gid=gid,
        )
    )
    ax.text(*xy, text, ha="center", va="center", fontsize=9, zorder=4, gid=text_gid)


def _path(ax, points, gid, cross=False):
    """An arrow along ``points`` (``parts.arrow``) whose artists carry ``gid``; with
    ``cross``, a white halo shows it passing over the recurrence arrows it crosses."""
    n_lines, n_texts = len(ax.lines), len(ax.texts)
    arrow(ax, points, 1.0, lw=1.0, zorder=2 if cross else 1)
    halo = [Stroke(linewidth=4, foreground="white"), Normal()]
    for artist in ax.lines[n_lines:] + ax.texts[n_texts:]:
        artist.set_gid(gid)
        if cross:
            getattr(artist, "arrow_patch", artist).set_path_effects(halo)


def draw_lstm_returns(
    num_layers: int = 2,
    steps: int = 4,
    bidirectional: bool = False,
    ax=None,
    title: str | None = None,
):
    """Draw the states of a stacked ``nn.LSTM`` as a grid of layers x time, with the two
    read-outs marked; return the Axes.

    The labels follow the course's notation (the intro's table): the inputs are x_1 ...
    x_T and every box is one state h_t, the state of one layer (and, when bidirectional,
    one direction: the forward row above the backward one, shifted right of it) just
    after it has read step t's input, in either direction. The initial states h_0 (and
    c_0), ``nn.LSTM``'s second argument, are not drawn; a note under the figure says so.
    ``output`` (T, B, d*H), d = 2 if bidirectional else 1, is the top layer's h_t at
    every step, framed with a dashed line; ``h_n`` and ``c_n`` (L*d, B, H) are the state
    after the last step of every layer and direction, filled in orange and labelled with
    their row ``h_n[k*d + j]`` (layer k, direction j): h_T for the forward direction, and
    h_1 for the backward one, which reads x_T first and x_1 last. The vertical arrows are
    what each state reads besides its own previous state: x_t in layer 0, layer k-1's h_t
    in layer k. When bidirectional, x_t feeds both rows of layer 0, and both directions
    of layer k-1 at step t meet in a node (their concatenation) that feeds both rows of
    layer k; an arrow to a row beyond the nearer one passes between two of the nearer
    row's boxes.

    Gids for tests, with the column c = t - 1 counted from 0 as the code indexes it:
    ``state k j c`` for every box and ``state_label k j c`` for its text ($h_{c+1}$),
    ``x c`` for the text $x_{c+1}$ under column c, ``h_n i`` for the text of row i's
    label, ``input k j c`` for the arrow into box (k, j, c) from x_t or the layer below;
    when bidirectional, ``concat k c`` for the node after layer k (k < L-1) at column c
    and ``to_concat k j c`` for the arrow from box (k, j, c) into it.

    Args:
        num_layers: L, at least 1.
        steps: T, how many steps to draw, at least 2.
        bidirectional: draw two directions per layer.
        ax: where to draw; a new figure when None.
        title: an optional title.

    Raises:
        TypeError, ValueError: for a non-int or too small ``num_layers`` or ``steps``, or
            a non-bool ``bidirectional``.
    """
    L = check_int("num_layers", num_layers, minimum=1)
    T = check_int("steps", steps, minimum=2)
    bidirectional = check_bool("bidirectional", bidirectional)
    d = 2 if bidirectional else 1
    dx, row, gap = 1.45, 0.75, 0.75  # step width, direction row height, gap between layers
    layer_h = d * row
    # When bidirectional, forward boxes sit s right of x_t and backward ones s left, so
    # that the two rails of step t, at x_t -/+ rail, each meet one row's box and pass
    # between two boxes of the other row.
    s = 0.3 if d == 2 else 0.0
    rail = dx / 2 - s
    if ax is None:
        _, ax = plt.subplots(figsize=(1.05 * T + 3.6, 1.0 * L * layer_h + 2.2))

    def y_of(k, j):  # centre of layer k, direction j (the forward row on top)
        return 0.9 + k * (layer_h + gap) + (d - 1 - j) * row

    for t in range(T):
        x = t * dx
        ax.text(x, -0.15, f"$x_{{{t + 1}}}$", ha="center", va="top", fontsize=10, gid=f"x {t}")
        for k in range(L):
            for j in range(d):
                xj, y = x + (s if j == 0 else -s), y_of(k, j)
                last = T - 1 if j == 0 else 0  # the column of h_T forward, h_1 backward
                read_out = t == last
                _state_box(
                    ax,
                    (xj, y),
                    f"$h_{{{t + 1}}}$",
                    gid=f"state {k} {j} {t}",
                    text_gid=f"state_label {k} {j} {t}",
                    fill="#fbd5bd" if read_out else _STATE_FILL,
                    edge=READ_OUT_COLOR if read_out else "#9aa5b8",
                    lw=1.8 if read_out else 1.0,
                )
                if t < T - 1:  # the recurrence: forward to the right, backward to the left
                    a, b = (xj + 0.47, xj + dx - 0.47)
                    arrow(ax, [(a, y), (b, y)] if j == 0 else [(b, y), (a, y)], 1.0, lw=1.0)
                if read_out:  # outside the output frame: right of forward, left of backward
                    ax.text(
                        xj + (0.66 if j == 0 else -0.66),
                        y,
                        f"h_n[{k * d + j}]",
                        ha="left" if j == 0 else "right",
                        va="center",
                        fontsize=8,
                        color=READ_OUT_COLOR,
                        fontweight="bold",
                        zorder=5,
                        gid=f"h_n {k * d + j}",
                    )
            if d == 1:  # layer k reads x_t or layer k-1's h_t
                start = (x, -0.05) if k == 0 else (x, y_of(k - 1, 0) + 0.27)
                _path(ax, [start, (x, y_of(k, 0) - 0.27)], f"input {k} 0 {t}")
                continue
            # Both rows of layer k read x_t (split below the layer) or the node joining
            # layer k-1's directions; the forward row's rail passes the backward row.
            yf, yb = y_of(k, 0), y_of(k, 1)
            if k == 0:
                split = yb - 0.6
                ax.plot(x, split, "o", ms=3.5, color=LINE_COLOR, zorder=3)
                for j, xr, y_end in ((1, x - rail, yb), (0, x + rail, yf)):
                    route = [(x, -0.05), (x, split), (xr, split), (xr, y_end - 0.27)]
                    _path(ax, route, f"input 0 {j} {t}", cross=j == 0)
            else:
                top = y_of(k - 1, 0) + 0.75 + 0.08  # the top of the node below
                for j, xr, y_end in ((1, x - rail, yb), (0, x + rail, yf)):
                    _path(ax, [(xr, top), (xr, y_end - 0.27)], f"input {k} {j} {t}",
                          cross=j == 0)  # fmt: skip
            if k < L - 1:  # the node above layer k: [forward h_t; backward h_t]
                y_node = yf + 0.75
                ax.add_patch(
                    FancyBboxPatch(
                        (x - rail - 0.12, y_node - 0.08),
                        2 * rail + 0.24,
                        0.16,
                        boxstyle="round,pad=0,rounding_size=0.06",
                        facecolor="white",
                        edgecolor=LINE_COLOR,
                        lw=1.0,
                        zorder=3,
                        gid=f"concat {k} {t}",
                    )
                )
                for j, xr, y_start in ((0, x + rail, yf), (1, x - rail, yb)):
                    _path(ax, [(xr, y_start + 0.27), (xr, y_node - 0.08)],
                          f"to_concat {k} {j} {t}", cross=j == 1)  # fmt: skip
    for k in range(L):
        for j in range(d):
            name = f"layer {k}" + ("" if d == 1 else (", forward" if j == 0 else ", backward"))
            ax.text(-2.05, y_of(k, j), name, ha="right", va="center", fontsize=9)
        if d == 2 and k < L - 1:
            ax.text(-2.05, y_of(k, 0) + 0.75, "concatenated", ha="right", va="center",
                    fontsize=8, color=LINE_COLOR, style="italic")  # fmt: skip
    top, bottom = y_of(L - 1, 0) + 0.34, y_of(L - 1, d - 1) - 0.34
    ax.add_patch(
        FancyBboxPatch(
            (-0.56 - s, bottom),
            (T - 1) * dx + 1.12 + 2 * s,
            top - bottom,
            boxstyle="round,pad=0,rounding_size=0.15",
            facecolor="none",
            edgecolor=CELL_COLOR,
            lw=1.6,
            ls="--",
            zorder=2,
            gid="output",
        )
    )
    features = ", forward features, then backward" if d == 2 else ""
    ax.text(
        (T - 1) * dx / 2,
        top + 0.25,
        f"output ($T, B, {'2' if d == 2 else ''}H$): the top layer's $h_t$ at every step{features}",
        ha="center",
        va="bottom",
        fontsize=9,
        color=CELL_COLOR,
    )
    if d == 1:
        lines = [f"h_n, c_n ($L = {L}, B, H$): every layer's state after its last step, "
                 f"$h_T = h_{{{T}}}$"]  # fmt: skip
    else:
        lines = [
            rf"h_n, c_n ($L \cdot d = {L * d}, B, H$): every layer's and direction's state "
            "after its last step:",
            f"$h_T = h_{{{T}}}$ forward; $h_1$ backward, which reads $x_T$ first and $x_1$ last",
        ]
    ax.text((T - 1) * dx / 2, -0.75, "\n".join(lines), ha="center", va="top", fontsize=9,
            color=READ_OUT_COLOR, linespacing=1.5)  # fmt: skip
    y_note = -0.75 - 0.42 * len(lines)
    ax.text(
        (T - 1) * dx / 2,
        y_note,
        "$h_t$: the state after reading $x_t$; the initial states $h_0$, $c_0$ "
        "(nn.LSTM's argument) are not drawn",
        ha="center",
        va="top",
        fontsize=8,
        color=LINE_COLOR,
        style="italic",
    )
    return finish_axes(
        ax, (-4.8, (T - 1) * dx + 1.5 + s), (y_note - 0.6, top + 0.8), title, fontsize=10
    )
