"""The LSTM cell drawn by the course itself, so a chapter can show it grow gate by gate.

``draw_lstm_cell(gates=("g",))`` is the bare constant error carousel, ``("i", "g", "o")``
the 1997 cell, ``("i", "f", "g", "o")`` the standard one; ``peepholes=True`` adds the
peephole connections. Every part keeps its place whichever gates are drawn, so figures of
the growing cell line up.
"""

from __future__ import annotations

from collections.abc import Iterable

import matplotlib.pyplot as plt
from matplotlib.patches import Circle, FancyBboxPatch

from lstm_course.checks import check_bool

__all__ = [
    "GATE_NAMES",
    "draw_lstm_cell",
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


def draw_lstm_cell(ax=None, gates=GATE_NAMES, peepholes: bool = False, title: str | None = None):
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

    Raises:
        ValueError: for an unknown or repeated gate name, ``"i"`` without ``"g"``, or
            peepholes with none of i, f, o to feed.
        TypeError: for gates that are not a sequence, or peepholes not True or False.
    """
    gates = _check_gates(gates)
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
