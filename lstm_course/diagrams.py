"""The LSTM cell drawn by the course itself, so a chapter can show it grow gate by gate.

``draw_lstm_cell(gates=("g",))`` is the bare constant error carousel, ``("i", "g", "o")``
the 1997 cell, ``("i", "f", "g", "o")`` the standard one; ``peepholes=True`` adds the
peephole connections and ``highlight`` marks the parts a step of the build-up adds. Every
part keeps its place whichever gates are drawn, so figures of the growing cell line up.
The boxes stand left to right as f, i, g, o, not in PyTorch's stacking order i, f, g, o,
because the forget gate acts on the cell line before the write does.

``draw_lstm_chain`` unrolls a few cells over time with the cell path c_{t-1} -> c_t
marked, and ``draw_stacked_weights`` shows how the rows of ``weight_ih`` (4H, D) or
``weight_hh`` (4H, H) split into the four gates' blocks.
"""

from __future__ import annotations

from collections.abc import Iterable

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle, FancyBboxPatch

from lstm_course.checks import check_bool, check_int

__all__ = [
    "GATE_NAMES",
    "HIGHLIGHT_NAMES",
    "draw_lstm_cell",
    "draw_lstm_chain",
    "draw_stacked_weights",
]

GATE_NAMES = ("i", "f", "g", "o")

# name -> (x of the box centre, activation, symbol, what it is)
_GATES = {
    "f": (2.2, "sigmoid", "$f_t$", "forget"),
    "i": (3.8, "sigmoid", "$i_t$", "input"),
    "g": (5.4, "tanh", "$g_t$", "candidate"),
    "o": (7.0, "sigmoid", "$o_t$", "output"),
}
_COLORS = {"sigmoid": "#f0a04b", "tanh": "#5aa469"}
_CELL_COLOR, _LINE_COLOR, _PEEP_COLOR = "#1d3f72", "#3a3a3a", "#b0479a"
_HIGHLIGHT = "#ffcf33"  # the halo behind what a figure highlights
HIGHLIGHT_NAMES = ("c", *GATE_NAMES)  # "c": the cell state path

_CELL_Y, _BOX_Y, _BUS_Y = 5.0, 2.0, 0.8  # the cell line, the gate boxes, the input bus
_BOX_W, _BOX_H = 1.3, 1.0
_R = 0.28  # radius of the pointwise nodes
_X_IN = 1.0  # where x_t joins h_{t-1}
_X_WRITE = 4.6  # the "+" on the cell line (and i * g below it)
_Y_WRITE = 3.5  # height of the i * g node
_X_OUT = 8.8  # where the output branches off the cell line
_Y_TANH, _Y_OUT = 3.6, _BOX_Y  # tanh(c_t) and the o * tanh(c_t) node
_XLIM, _YLIM = (-2.4, 12.2), (-1.8, 6.3)


def _check_gates(gates) -> tuple[str, ...]:
    if isinstance(gates, str):
        gates = tuple(gates)
    if not isinstance(gates, Iterable):
        raise TypeError(f"gates must be a sequence of names from {GATE_NAMES}, got {gates!r}")
    gates = tuple(gates)
    unknown = [g for g in gates if g not in GATE_NAMES]
    if unknown:
        raise ValueError(
            f"unknown gate name(s) {unknown}: use names from {GATE_NAMES} "
            "(i input, f forget, g candidate, o output)"
        )
    if len(set(gates)) != len(gates):
        raise ValueError(f"gates {gates} names a gate twice: list each at most once")
    if "i" in gates and "g" not in gates:
        raise ValueError("the input gate i scales the candidate g: include 'g' as well")
    return gates


def _check_highlight(highlight, gates) -> tuple[str, ...]:
    if isinstance(highlight, str):
        highlight = tuple(highlight)
    if not isinstance(highlight, Iterable):
        raise TypeError(
            f"highlight must be a sequence of names from {HIGHLIGHT_NAMES}, got {highlight!r}"
        )
    highlight = tuple(highlight)
    unknown = [h for h in highlight if h not in HIGHLIGHT_NAMES]
    if unknown:
        raise ValueError(
            f"unknown name(s) {unknown} in highlight: use names from {HIGHLIGHT_NAMES} "
            "(c the cell state path, i, f, g, o the gates)"
        )
    missing = [h for h in highlight if h in GATE_NAMES and h not in gates]
    if missing:
        raise ValueError(f"highlight names {missing}, which gates={gates} does not draw")
    return highlight


def _halo_line(ax, points, s):
    xs, ys = zip(*points, strict=True)
    ax.plot(xs, ys, color=_HIGHLIGHT, lw=11 * s, alpha=0.8, solid_capstyle="round", zorder=0.5)


def _halo_box(ax, xy, w, h, s):
    pad = 0.18
    ax.add_patch(
        FancyBboxPatch(
            (xy[0] - w / 2 - pad, xy[1] - h / 2 - pad),
            w + 2 * pad,
            h + 2 * pad,
            boxstyle="round,pad=0,rounding_size=0.25",
            facecolor=_HIGHLIGHT,
            edgecolor="none",
            alpha=0.8,
            zorder=2,
        )
    )


def _arrow(ax, points, s, color=_LINE_COLOR, lw=1.4, ls="-", head=True, zorder=1):
    """A polyline through ``points``, with an arrowhead at the end; ``s`` scales widths."""
    lw = lw * s
    body = points[:-1] if head else points
    if len(body) > 1:
        xs, ys = zip(*body, strict=True)
        ax.plot(xs, ys, color=color, lw=lw, ls=ls, solid_capstyle="butt", zorder=zorder)
    if head:
        ax.annotate(
            "",
            xy=points[-1],
            xytext=points[-2],
            zorder=zorder,
            arrowprops={
                "arrowstyle": "-|>,head_length=0.5,head_width=0.22",
                "color": color,
                "lw": lw,
                "ls": ls,
                "shrinkA": 0,
                "shrinkB": 0,
                "mutation_scale": 10 * lw / 1.4,
            },
        )


def _node(ax, xy, text, s):
    """A pointwise operation: x or +."""
    ax.add_patch(Circle(xy, _R, facecolor="white", edgecolor=_LINE_COLOR, lw=1.4 * s, zorder=3))
    ax.text(*xy, text, ha="center", va="center", fontsize=12 * s, zorder=4)


def _tanh_node(ax, xy, s):
    w, h = 0.95, 0.5
    ax.add_patch(
        FancyBboxPatch(
            (xy[0] - w / 2, xy[1] - h / 2),
            w,
            h,
            boxstyle="round,pad=0,rounding_size=0.22",
            facecolor="white",
            edgecolor=_LINE_COLOR,
            lw=1.4 * s,
            zorder=3,
        )
    )
    ax.text(*xy, "tanh", ha="center", va="center", fontsize=9 * s, zorder=4)


def _gate_box(ax, name, s):
    x, activation, symbol, label = _GATES[name]
    ax.add_patch(
        FancyBboxPatch(
            (x - _BOX_W / 2, _BOX_Y - _BOX_H / 2),
            _BOX_W,
            _BOX_H,
            boxstyle="round,pad=0,rounding_size=0.12",
            facecolor=_COLORS[activation],
            edgecolor="none",
            zorder=3,
        )
    )
    ax.text(
        x,
        _BOX_Y + 0.14,
        r"$\sigma$" if activation == "sigmoid" else "tanh",
        ha="center",
        va="center",
        fontsize=(13 if activation == "sigmoid" else 10) * s,
        color="white",
        fontweight="bold",
        zorder=4,
    )
    ax.text(
        x, _BOX_Y - 0.27, label, ha="center", va="center", fontsize=7 * s, color="white", zorder=4
    )
    # The gate's symbol beside its output line (o's goes out sideways, so above that).
    where = (x + 0.1, _BOX_Y + _BOX_H / 2 + 0.15) if name != "o" else (x + 1.05, _BOX_Y + 0.1)
    ax.text(*where, symbol, ha="left", va="bottom", fontsize=11 * s, zorder=4)


def _scale(ax) -> float:
    """How much smaller or larger than the 7 x 4 inch default this Axes is drawn."""
    fig = ax.figure
    pos = ax.get_position()
    inches_per_unit = min(
        pos.width * fig.get_figwidth() / (_XLIM[1] - _XLIM[0]),
        pos.height * fig.get_figheight() / (_YLIM[1] - _YLIM[0]),
    )
    return min(max(inches_per_unit / 0.372, 0.4), 2.0)


def draw_lstm_cell(
    ax=None,
    gates=GATE_NAMES,
    peepholes: bool = False,
    title: str | None = None,
    highlight=(),
):
    """Draw one LSTM cell with the chosen gates and return the Axes.

    Args:
        ax: where to draw; a new figure (7 x 4 inches) when None.
        gates: which of ``"i"`` (input gate), ``"f"`` (forget gate), ``"g"`` (the
            candidate) and ``"o"`` (output gate) to draw. Without ``"f"`` the cell line
            runs straight through (the forget gate fixed at 1); without ``"o"`` the output
            is tanh(c_t); ``"i"`` needs ``"g"``, the candidate it scales.
        peepholes: add the peephole connections (dashed): c_{t-1} into i and f, c_t
            into o, for those of them that are drawn.
        title: an optional title.
        highlight: parts to put on a yellow halo, names from ``HIGHLIGHT_NAMES``:
            ``"c"`` the cell state line, or a drawn gate, which marks its box and the
            elementwise node it feeds (f: x on the cell line, i: i x g, g: the +,
            o: o x tanh(c_t)). A note under the cell says what the halo means.

    Raises:
        ValueError: for an unknown or repeated gate name, ``"i"`` without ``"g"``,
            peepholes with none of i, f, o to feed, or a highlight name that is unknown
            or a gate that is not drawn.
        TypeError: for gates or highlight that are not a sequence, or peepholes not
            True or False.
    """
    gates = _check_gates(gates)
    highlight = _check_highlight(highlight, gates)
    check_bool("peepholes", peepholes)
    if peepholes and not set(gates) & {"i", "f", "o"}:
        raise ValueError("peepholes feed the gates i, f and o: draw at least one of them")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    s = _scale(ax)

    # The cell body and, across its top, the cell state line c_{t-1} -> c_t.
    ax.add_patch(
        FancyBboxPatch(
            (0, 0.15),
            10,
            5.55,
            boxstyle="round,pad=0,rounding_size=0.35",
            facecolor="#f4f6fa",
            edgecolor="#9aa5b8",
            lw=1.2 * s,
            zorder=0,
        )
    )
    _arrow(ax, [(-1.3, _CELL_Y), (11.3, _CELL_Y)], s, color=_CELL_COLOR, lw=3)
    ax.text(-1.4, _CELL_Y, "$c_{t-1}$", ha="right", va="center", fontsize=12 * s)
    ax.text(11.4, _CELL_Y, "$c_t$", ha="left", va="center", fontsize=12 * s)
    ax.text(5.0, 5.45, "cell state", ha="center", va="bottom", fontsize=8 * s, color=_CELL_COLOR)

    # Inputs: h_{t-1} from the left, x_t from below; together they feed every box.
    drawn = [name for name in ("f", "i", "g", "o") if name in gates]
    ax.text(-1.4, _BUS_Y, "$h_{t-1}$", ha="right", va="center", fontsize=12 * s)
    ax.text(_X_IN, -1.2, "$x_t$", ha="center", va="top", fontsize=12 * s)
    if drawn:
        bus_end = _GATES[drawn[-1]][0]
        _arrow(ax, [(-1.3, _BUS_Y), (bus_end, _BUS_Y)], s, head=False)
        _arrow(ax, [(_X_IN, -1.1), (_X_IN, _BUS_Y)], s, head=False)
        ax.add_patch(Circle((_X_IN, _BUS_Y), 0.07, color=_LINE_COLOR, zorder=2))
        for name in drawn:
            x = _GATES[name][0]
            _arrow(ax, [(x, _BUS_Y), (x, _BOX_Y - _BOX_H / 2)], s)
            _gate_box(ax, name, s)
    top = _BOX_Y + _BOX_H / 2

    if "f" in gates:  # c_{t-1} * f_t
        x = _GATES["f"][0]
        _arrow(ax, [(x, top), (x, _CELL_Y - _R)], s)
        _node(ax, (x, _CELL_Y), r"$\times$", s)
    if "g" in gates:  # + (i_t *) g_t
        xg = _GATES["g"][0]
        if "i" in gates:
            xi = _GATES["i"][0]
            _arrow(ax, [(xi, top), (xi, _Y_WRITE), (_X_WRITE - _R, _Y_WRITE)], s)
            _arrow(ax, [(xg, top), (xg, _Y_WRITE), (_X_WRITE + _R, _Y_WRITE)], s)
            _node(ax, (_X_WRITE, _Y_WRITE), r"$\times$", s)
            _arrow(ax, [(_X_WRITE, _Y_WRITE + _R), (_X_WRITE, _CELL_Y - _R)], s)
        else:
            _arrow(
                ax, [(xg, top), (xg, _Y_WRITE), (_X_WRITE, _Y_WRITE), (_X_WRITE, _CELL_Y - _R)], s
            )
        _node(ax, (_X_WRITE, _CELL_Y), "+", s)

    # The output: h_t = (o_t *) tanh(c_t), which also goes on to the next step.
    ax.add_patch(Circle((_X_OUT, _CELL_Y), 0.07, color=_CELL_COLOR, zorder=2))
    _arrow(ax, [(_X_OUT, _CELL_Y), (_X_OUT, _Y_TANH + 0.25)], s)
    _tanh_node(ax, (_X_OUT, _Y_TANH), s)
    if "o" in gates:
        xo = _GATES["o"][0]
        _arrow(ax, [(xo + _BOX_W / 2, _BOX_Y), (_X_OUT - _R, _Y_OUT)], s)
        _arrow(ax, [(_X_OUT, _Y_TANH - 0.25), (_X_OUT, _Y_OUT + _R)], s)
        _node(ax, (_X_OUT, _Y_OUT), r"$\times$", s)
        _arrow(ax, [(_X_OUT, _Y_OUT - _R), (_X_OUT, _BUS_Y), (11.3, _BUS_Y)], s)
    else:
        _arrow(ax, [(_X_OUT, _Y_TANH - 0.25), (_X_OUT, _BUS_Y), (11.3, _BUS_Y)], s)
    ax.text(11.4, _BUS_Y, "$h_t$", ha="left", va="center", fontsize=12 * s)
    if drawn:
        ax.text(
            1.7,
            -0.45,
            "box: affine map of $x_t$ and $h_{t-1}$, then $\\sigma$ or tanh\n"
            "circle: elementwise operation",
            ha="left",
            va="top",
            fontsize=8 * s,
            color="#555555",
            linespacing=1.5,
        )

    # Halos behind what this figure highlights: a gate's box and the node it feeds.
    nodes = {
        "f": (_GATES["f"][0], _CELL_Y),
        "i": (_X_WRITE, _Y_WRITE),
        "g": (_X_WRITE, _CELL_Y),
        "o": (_X_OUT, _Y_OUT),
    }
    for name in highlight:
        if name == "c":
            _halo_line(ax, [(-1.3, _CELL_Y), (11.3, _CELL_Y)], s)
            continue
        _halo_box(ax, (_GATES[name][0], _BOX_Y), _BOX_W, _BOX_H, s)
        ax.add_patch(Circle(nodes[name], _R + 0.17, color=_HIGHLIGHT, alpha=0.8, zorder=2))
    if highlight:
        ax.text(
            0.0,
            5.85,
            "yellow: new in this step",
            ha="left",
            va="bottom",
            fontsize=8 * s,
            color="#8a6d00",
        )

    if peepholes:  # c_{t-1} -> i, f;  c_t -> o
        for name in ("f", "i"):
            if name in gates:
                x = _GATES[name][0]
                _arrow(
                    ax,
                    [(1.0, _CELL_Y), (x - _BOX_W / 2 + 0.05, top - 0.05)],
                    s,
                    color=_PEEP_COLOR,
                    lw=1.2,
                    ls=(0, (3, 2)),
                )
        if "o" in gates:
            x = _GATES["o"][0]
            _arrow(
                ax, [(6.5, _CELL_Y), (x - 0.1, top)], s, color=_PEEP_COLOR, lw=1.2, ls=(0, (3, 2))
            )
        ax.text(
            10.0,
            5.85,
            "dashed: peepholes",
            ha="right",
            va="bottom",
            fontsize=8 * s,
            color=_PEEP_COLOR,
        )

    ax.set_xlim(*_XLIM)
    ax.set_ylim(*_YLIM)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=11 * s)
    return ax


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
    _halo_line(ax, [(-1.0, y_cell), (right, y_cell)], 1.0)
    _arrow(ax, [(-1.0, y_cell), (right, y_cell)], 1.0, color=_CELL_COLOR, lw=3)
    first = _step_label(-1, steps)
    ax.text(-1.1, y_cell, f"$c_{{{first}}}$", ha="right", va="center", fontsize=11)
    ax.text(-1.1, y_h, f"$h_{{{first}}}$", ha="right", va="center", fontsize=11)
    _arrow(ax, [(-1.0, y_h), (1.3, y_h), (1.3, y_gates - 0.45)], 1.0)
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
                facecolor=_COLORS["sigmoid"],
                edgecolor="none",
                zorder=3,
            )
        )
        ax.text(x0 + 2.05, y_gates, "$i, f, g, o$", ha="center", va="center", fontsize=10,
                color="white", zorder=4)  # fmt: skip
        # f_t into the x, i_t * g_t into the +, on the cell line.
        _arrow(ax, [(x0 + 1.5, y_gates + 0.45), (x0 + 1.5, y_cell - _R)], 1.0)
        _node(ax, (x0 + 1.5, y_cell), r"$\times$", 0.85)
        _arrow(ax, [(x0 + 2.6, y_gates + 0.45), (x0 + 2.6, y_cell - _R)], 1.0)
        _node(ax, (x0 + 2.6, y_cell), "+", 0.85)
        ax.text(x0 + 1.4, 2.35, f"$f_{{{t}}}$", ha="right", fontsize=9)
        ax.text(x0 + 2.7, 2.35, f"$i_{{{t}}} g_{{{t}}}$", ha="left", fontsize=8)
        # The output o_t * tanh(c_t), which is h_t: to the next cell and up out of this one.
        xo = x0 + 3.85
        _arrow(ax, [(xo, y_cell), (xo, y_gates + 0.25)], 1.0)
        _tanh_node(ax, (xo, y_gates), 0.85)
        ax.text(xo + 0.55, y_gates, "$\\times o$", ha="left", va="center", fontsize=8)
        nxt = (x0 + width + 1.3, y_gates - 0.45) if k < steps - 1 else (right, y_h)
        path = [(xo, y_gates - 0.25), (xo, y_h), (nxt[0], y_h)]
        _arrow(ax, path + ([nxt] if k < steps - 1 else []), 1.0)
        ax.text(x0 + width - 0.05, y_h + 0.1, f"$h_{{{t}}}$", ha="center", va="bottom",
                fontsize=10)  # fmt: skip
        ax.text(x0 + width - 0.05, y_cell + 0.15, f"$c_{{{t}}}$", ha="center", va="bottom",
                fontsize=10)  # fmt: skip
        _arrow(ax, [(x0 + 2.05, -0.85), (x0 + 2.05, y_gates - 0.45)], 1.0)
        ax.text(x0 + 2.05, -0.95, f"$x_{{{t}}}$", ha="center", va="top", fontsize=11)
    ax.text(
        right / 2,
        y_cell + 0.75,
        "cell path $c_{t-1} \\to c_t$: only $\\times f_t$ and $+\\, i_t g_t$ per step, "
        "no weight matrix, no squashing",
        ha="center",
        va="bottom",
        fontsize=9,
        color=_CELL_COLOR,
    )
    ax.set_xlim(-2.0, right + 0.9)
    ax.set_ylim(-1.6, y_cell + 1.4)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=11)
    return ax


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
            bbox={"boxstyle": "round,pad=0.25", "facecolor": _COLORS[_GATES[gate][1]],
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

__all__ += ["draw_lstm_returns", "draw_padded_packed"]

_STATE_FILL, _READ_OUT = "#dfe6f2", "#c2410c"  # a state box; the h_n read-out's colour
_SEQ_COLORS = ("#4c78a8", "#59a14f", "#e15759", "#b07aa1", "#f28e2b", "#76b7b2")


def _state_box(ax, xy, text, gid, fill=_STATE_FILL, edge="#9aa5b8", lw=1.0):
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
    ax.text(*xy, text, ha="center", va="center", fontsize=9, zorder=4)


def draw_lstm_returns(
    num_layers: int = 2,
    steps: int = 4,
    bidirectional: bool = False,
    ax=None,
    title: str | None = None,
):
    """Draw the states of a stacked ``nn.LSTM`` as a grid of layers x time, with the two
    read-outs marked; return the Axes.

    Every box is one state h_t of one layer (and, when bidirectional, one direction: the
    forward row above the backward one). ``output`` (T, B, d*H), d = 2 if bidirectional
    else 1, is the top layer's h_t at every step, framed with a dashed line; ``h_n`` and
    ``c_n`` (L*d, B, H) are the state after the last step of every layer and direction,
    filled in orange and labelled with their row ``h_n[k*d + j]`` (layer k, direction
    j). The backward direction runs from t = T-1 down to 0, so its last step is t = 0.

    Boxes carry gids for tests: ``state k j t`` for every box, ``h_n i`` for the text of
    row i's label.

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
    if ax is None:
        _, ax = plt.subplots(figsize=(1.05 * T + 3.6, 1.0 * L * layer_h + 2.2))

    def y_of(k, j):  # centre of layer k, direction j (the forward row on top)
        return 0.9 + k * (layer_h + gap) + (d - 1 - j) * row

    for t in range(T):
        _arrow(ax, [(t * dx, -0.05), (t * dx, y_of(0, d - 1) - 0.28)], 1.0, lw=1.0)
        ax.text(t * dx, -0.15, f"$x_{{{t}}}$", ha="center", va="top", fontsize=10)
        for k in range(L):
            for j in range(d):
                y = y_of(k, j)
                last = T - 1 if j == 0 else 0
                read_out = t == last
                _state_box(
                    ax,
                    (t * dx, y),
                    f"$h_{{{t}}}$",
                    gid=f"state {k} {j} {t}",
                    fill="#fbd5bd" if read_out else _STATE_FILL,
                    edge=_READ_OUT if read_out else "#9aa5b8",
                    lw=1.8 if read_out else 1.0,
                )
                if t < T - 1:  # the recurrence: forward to the right, backward to the left
                    a, b = (t * dx + 0.47, (t + 1) * dx - 0.47)
                    _arrow(ax, [(a, y), (b, y)] if j == 0 else [(b, y), (a, y)], 1.0, lw=1.0)
                if read_out:  # outside the output frame: right of forward, left of backward
                    ax.text(
                        t * dx + (0.66 if j == 0 else -0.66),
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
            if k < L - 1:  # layer k + 1 reads layer k's output (both directions)
                _arrow(ax, [(t * dx, y_of(k, 0) + 0.27), (t * dx, y_of(k + 1, d - 1) - 0.27)],
                       1.0, lw=1.0)  # fmt: skip
    for k in range(L):
        for j in range(d):
            name = f"layer {k}" + ("" if d == 1 else (", forward" if j == 0 else ", backward"))
            ax.text(-2.05, y_of(k, j), name, ha="right", va="center", fontsize=9)
    top, bottom = y_of(L - 1, 0) + 0.34, y_of(L - 1, d - 1) - 0.34
    ax.add_patch(
        FancyBboxPatch(
            (-0.56, bottom),
            (T - 1) * dx + 1.12,
            top - bottom,
            boxstyle="round,pad=0,rounding_size=0.15",
            facecolor="none",
            edgecolor=_CELL_COLOR,
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
        color=_CELL_COLOR,
    )
    last = "$t = T-1$" + (" forward, $t = 0$ backward" if d == 2 else "")
    whose = "every layer's and direction's" if d == 2 else "every layer's"
    rows = "L" if d == 1 else r"L \cdot d"
    ax.text(
        (T - 1) * dx / 2,
        -0.75,
        f"h_n, c_n (${rows} = {L * d}, B, H$): {whose} state after its last step ({last})",
        ha="center",
        va="top",
        fontsize=9,
        color=_READ_OUT,
    )
    ax.set_xlim(-4.8, (T - 1) * dx + 1.5)
    ax.set_ylim(-1.7, top + 0.8)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return ax


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
                y_pk - 0.5, y_pk - 0.42], color=_LINE_COLOR, lw=1.0)  # fmt: skip
        ax.text((x0 + x1) / 2, y_pk - 0.58, f"t = {t}", ha="center", va="top", fontsize=8)
        ax.text((x0 + x1) / 2, y_pk - 1.0, str(size), ha="center", va="top", fontsize=10,
                fontweight="bold", color=_READ_OUT, gid=f"batch_sizes {t}")  # fmt: skip
    ax.text(-0.7, y_pk - 1.0, "batch_sizes", ha="right", va="top", fontsize=9,
            color=_READ_OUT)  # fmt: skip
    ax.set_xlim(-4.2, max(N, T) * w + 0.2)
    ax.set_ylim(y_pk - 1.6, y_pad + 1.5)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return ax
