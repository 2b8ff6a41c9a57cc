"""What an LSTM's tensors look like: the stacked gate blocks of ``weight_ih`` (4H, D) or
``weight_hh`` (4H, H) (``draw_stacked_weights``), what ``nn.LSTM`` returns over layers,
time and directions (``draw_lstm_returns``), and a padded batch next to its packed form
with ``batch_sizes`` (``draw_padded_packed``).
"""

from __future__ import annotations

from collections.abc import Iterable

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyBboxPatch
from matplotlib.patheffects import Normal, Stroke

from lstm_course.checks import check_bool, check_int
from lstm_course.diagrams.parts import CELL_COLOR, COLORS, GATES, LINE_COLOR, arrow, finish_axes

__all__ = ["draw_stacked_weights", "draw_lstm_returns", "draw_padded_packed"]


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


# --- What nn.LSTM returns; padded against packed batches (chapter ``05_torch_lstm``) ---


_STATE_FILL, _READ_OUT = "#dfe6f2", "#c2410c"  # a state box; the h_n read-out's colour
_SEQ_COLORS = ("#4c78a8", "#59a14f", "#e15759", "#b07aa1", "#f28e2b", "#76b7b2")


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
                    edge=_READ_OUT if read_out else "#9aa5b8",
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
                        color=_READ_OUT,
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
            color=_READ_OUT, linespacing=1.5)  # fmt: skip
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


def draw_padded_packed(lengths, ax=None, title: str | None = None):
    """Draw a batch of sequences of the given lengths padded (B x T, padding hatched) above
    the ``data`` of its ``PackedSequence``, grouped by time step with ``batch_sizes``;
    return the Axes.

    The packed layout is not worked out here: the function fills a (B, T) tensor with a
    code for each (sequence b, step t), runs ``torch.nn.utils.rnn.pack_padded_sequence``
    (``enforce_sorted=False``, so it sorts longest first) and draws what that returns:
    ``data`` row by row, labelled by the (b, t) each row came from, and ``batch_sizes[t]``,
    the number of sequences still running at step t.

    Gids for tests: ``real b t`` and ``pad b t`` for the padded grid's boxes, ``packed i
    b t`` for row i of ``data``, ``batch_sizes t`` for the text of ``batch_sizes[t]``.

    Args:
        lengths: the B sequences' lengths, a sequence of ints >= 1 or a 1-D int tensor.
        ax: where to draw; a new figure when None.
        title: an optional title.

    Raises:
        TypeError, ValueError: for lengths that are empty, not ints, or below 1.
    """
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence

    if hasattr(lengths, "tolist"):
        lengths = lengths.tolist()
    if isinstance(lengths, (str, bytes)) or not isinstance(lengths, Iterable):
        raise TypeError(f"lengths must be a sequence of ints, got {lengths!r}")
    lengths = [check_int(f"lengths[{b}]", n, minimum=1) for b, n in enumerate(lengths)]
    if not lengths:
        raise ValueError("lengths is empty: give one length per sequence of the batch")
    B, T = len(lengths), max(lengths)
    codes = torch.arange(B * T, dtype=torch.float64).view(B, T)  # code b * T + t
    packed = pack_padded_sequence(codes, lengths, batch_first=True, enforce_sorted=False)
    batch_sizes = packed.batch_sizes.tolist()
    rows = [divmod(int(code), T) for code in packed.data.tolist()]  # (b, t) of each row
    N = len(rows)
    w = 1.0  # box pitch
    if ax is None:
        _, ax = plt.subplots(figsize=(max(0.62 * N, 0.62 * T + 2.5) + 1.2, 0.45 * B + 3.3))
    color = [_SEQ_COLORS[b % len(_SEQ_COLORS)] for b in range(B)]

    def box(x, y, b, t, gid, pad=False):
        ax.add_patch(
            FancyBboxPatch(
                (x - 0.44, y - 0.3),
                0.88,
                0.6,
                boxstyle="round,pad=0,rounding_size=0.06",
                facecolor="#eeeeee" if pad else color[b],
                edgecolor="#9a9a9a" if pad else "none",
                hatch="///" if pad else None,
                lw=0.8,
                zorder=3,
                gid=gid,
            )
        )
        text = "pad" if pad else f"$x^{{({b})}}_{{{t}}}$"
        ax.text(x, y, text, ha="center", va="center", fontsize=8 if pad else 9,
                color="#777777" if pad else "white", zorder=4)  # fmt: skip

    # The padded batch (batch_first): row b, column t.
    y_pad = 0.0
    for b, n in enumerate(lengths):
        y = y_pad - b * 0.75
        ax.text(-0.7, y, f"sequence {b}, length {n}", ha="right", va="center", fontsize=9)
        for t in range(T):
            box(t * w, y, b, t, f"{'real' if t < n else 'pad'} {b} {t}", pad=t >= n)
    for t in range(T):
        ax.text(t * w, y_pad + 0.45, f"t = {t}", ha="center", va="bottom", fontsize=8)
    ax.text(
        -0.7,
        y_pad + 0.95,
        f"padded: ({B}, {T}) with batch_first, {B * T - N} of {B * T} steps padding",
        ha="left",
        va="bottom",
        fontsize=10,
    )
    # The packed data: one row per real step, time step by time step, longest first.
    y_pk = y_pad - B * 0.75 - 1.5
    ax.text(
        -0.7,
        y_pk + 0.55,
        f"packed: data ({N}, ...), step by step, longest first "
        f"(sorted_indices = {packed.sorted_indices.tolist()})",
        ha="left",
        va="bottom",
        fontsize=10,
    )
    i = 0
    for t, size in enumerate(batch_sizes):
        x0 = i * w
        for _ in range(size):
            b, tt = rows[i]
            box(i * w, y_pk, b, tt, f"packed {i} {b} {tt}")
            i += 1
        x1 = (i - 1) * w
        ax.plot([x0 - 0.4, x0 - 0.4, x1 + 0.4, x1 + 0.4], [y_pk - 0.42, y_pk - 0.5,
                y_pk - 0.5, y_pk - 0.42], color=LINE_COLOR, lw=1.0)  # fmt: skip
        ax.text((x0 + x1) / 2, y_pk - 0.58, f"t = {t}", ha="center", va="top", fontsize=8)
        ax.text((x0 + x1) / 2, y_pk - 1.0, str(size), ha="center", va="top", fontsize=10,
                fontweight="bold", color=_READ_OUT, gid=f"batch_sizes {t}")  # fmt: skip
    ax.text(-0.7, y_pk - 1.0, "batch_sizes", ha="right", va="top", fontsize=9,
            color=_READ_OUT)  # fmt: skip
    return finish_axes(
        ax, (-4.2, max(N, T) * w + 0.2), (y_pk - 1.6, y_pad + 1.5), title, fontsize=10
    )
