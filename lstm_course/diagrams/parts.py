"""The parts the course's LSTM drawings share: where every gate box, pointwise node and
line of the cell sits (in data units of a cell drawn at the origin), their colours, and
the primitives that draw them (arrows, pointwise nodes, gate boxes, halos). The backward
drawings reuse the same places with their arrows reversed, in ``GRAD_COLOR``.

The boxes stand left to right as f, i, g, o, not in PyTorch's stacking order i, f, g, o,
because the forget gate acts on the cell line before the write does.
"""

from __future__ import annotations

from collections.abc import Iterable

from matplotlib.patches import Circle, FancyBboxPatch

__all__ = [
    "GATE_NAMES",
    "HIGHLIGHT_NAMES",
    "GATES",
    "COLORS",
    "CELL_COLOR",
    "LINE_COLOR",
    "PEEP_COLOR",
    "GRAD_COLOR",
    "READ_OUT_COLOR",
    "HIGHLIGHT",
    "CELL_Y",
    "BOX_Y",
    "BUS_Y",
    "BOX_W",
    "BOX_H",
    "NODE_R",
    "X_IN",
    "X_WRITE",
    "Y_WRITE",
    "X_OUT",
    "Y_TANH",
    "Y_OUT",
    "XLIM",
    "YLIM",
    "check_gates",
    "check_highlight",
    "finish_axes",
    "halo_line",
    "halo_box",
    "arrow",
    "pointwise_node",
    "tanh_node",
    "gate_box",
    "text_scale",
]

GATE_NAMES = ("i", "f", "g", "o")

# name -> (x of the box centre, activation, symbol, what it is)
GATES = {
    "f": (2.2, "sigmoid", "$f_t$", "forget"),
    "i": (3.8, "sigmoid", "$i_t$", "input"),
    "g": (5.4, "tanh", "$g_t$", "candidate"),
    "o": (7.0, "sigmoid", "$o_t$", "output"),
}
COLORS = {"sigmoid": "#f0a04b", "tanh": "#5aa469"}
CELL_COLOR, LINE_COLOR, PEEP_COLOR = "#1d3f72", "#3a3a3a", "#b0479a"
GRAD_COLOR = "#c62828"  # gradients, flowing backwards
READ_OUT_COLOR = "#c2410c"  # what nn.LSTM hands back: h_n, c_n, batch_sizes
HIGHLIGHT = "#ffcf33"  # the halo behind what a figure highlights
HIGHLIGHT_NAMES = ("c", *GATE_NAMES)  # "c": the cell state path

CELL_Y, BOX_Y, BUS_Y = 5.0, 2.0, 0.8  # the cell line, the gate boxes, the input bus
BOX_W, BOX_H = 1.3, 1.0
NODE_R = 0.28  # radius of the pointwise nodes
X_IN = 1.0  # where x_t joins h_{t-1}
X_WRITE = 4.6  # the "+" on the cell line (and i * g below it)
Y_WRITE = 3.5  # height of the i * g node
X_OUT = 8.8  # where the output branches off the cell line
Y_TANH, Y_OUT = 3.6, BOX_Y  # tanh(c_t) and the o * tanh(c_t) node
XLIM, YLIM = (-2.4, 12.2), (-1.8, 6.3)


def _names(
    value, allowed: tuple[str, ...], what: str, unknown_names: str, meaning: str
) -> tuple[str, ...]:
    """``value`` (a string of one-letter names or a sequence of names) as a tuple of names
    from ``allowed``, each at most once; ``what`` names the argument in the errors, and
    ``unknown_names`` (with ``{}`` for the offending names) opens the unknown-name one."""
    if isinstance(value, str):
        value = tuple(value)
    if not isinstance(value, Iterable):
        raise TypeError(f"{what} must be a sequence of names from {allowed}, got {value!r}")
    value = tuple(value)
    unknown = [v for v in value if v not in allowed]
    if unknown:
        raise ValueError(
            f"unknown {unknown_names.format(unknown)}: use names from {allowed} ({meaning})"
        )
    if len(set(value)) != len(value):
        raise ValueError(f"{what} {value} names one part twice: list each at most once")
    return value


def check_gates(gates) -> tuple[str, ...]:
    gates = _names(
        gates, GATE_NAMES, "gates", "gate name(s) {}", "i input, f forget, g candidate, o output"
    )
    if "i" in gates and "g" not in gates:
        raise ValueError("the input gate i scales the candidate g: include 'g' as well")
    return gates


def check_highlight(highlight, gates) -> tuple[str, ...]:
    highlight = _names(
        highlight,
        HIGHLIGHT_NAMES,
        "highlight",
        "name(s) {} in highlight",
        "c the cell state path, i, f, g, o the gates",
    )
    missing = [h for h in highlight if h in GATE_NAMES and h not in gates]
    if missing:
        raise ValueError(f"highlight names {missing}, which gates={gates} does not draw")
    return highlight


def finish_axes(ax, xlim, ylim, title: str | None, fontsize: float):
    """Equal scales, no frame or ticks, the title if any; return ``ax``."""
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=fontsize)
    return ax


def halo_line(ax, points, s):
    xs, ys = zip(*points, strict=True)
    ax.plot(xs, ys, color=HIGHLIGHT, lw=11 * s, alpha=0.8, solid_capstyle="round", zorder=0.5)


def halo_box(ax, xy, w, h, s):
    pad = 0.18
    ax.add_patch(
        FancyBboxPatch(
            (xy[0] - w / 2 - pad, xy[1] - h / 2 - pad),
            w + 2 * pad,
            h + 2 * pad,
            boxstyle="round,pad=0,rounding_size=0.25",
            facecolor=HIGHLIGHT,
            edgecolor="none",
            alpha=0.8,
            zorder=2,
        )
    )


def arrow(ax, points, s, color=LINE_COLOR, lw=1.4, ls="-", head=True, zorder=1):
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


def pointwise_node(ax, xy, text, s):
    """A pointwise operation: x or +."""
    ax.add_patch(Circle(xy, NODE_R, facecolor="white", edgecolor=LINE_COLOR, lw=1.4 * s, zorder=3))
    ax.text(*xy, text, ha="center", va="center", fontsize=12 * s, zorder=4)


def tanh_node(ax, xy, s):
    w, h = 0.95, 0.5
    ax.add_patch(
        FancyBboxPatch(
            (xy[0] - w / 2, xy[1] - h / 2),
            w,
            h,
            boxstyle="round,pad=0,rounding_size=0.22",
            facecolor="white",
            edgecolor=LINE_COLOR,
            lw=1.4 * s,
            zorder=3,
        )
    )
    ax.text(*xy, "tanh", ha="center", va="center", fontsize=9 * s, zorder=4)


def gate_box(ax, name, s, symbol: str | None = None):
    """The box of gate ``name``, with ``symbol`` (default: the gate's own, e.g. f_t) beside
    the line that leaves its top."""
    x, activation, own_symbol, label = GATES[name]
    symbol = own_symbol if symbol is None else symbol
    ax.add_patch(
        FancyBboxPatch(
            (x - BOX_W / 2, BOX_Y - BOX_H / 2),
            BOX_W,
            BOX_H,
            boxstyle="round,pad=0,rounding_size=0.12",
            facecolor=COLORS[activation],
            edgecolor="none",
            zorder=3,
        )
    )
    ax.text(
        x,
        BOX_Y + 0.14,
        r"$\sigma$" if activation == "sigmoid" else "tanh",
        ha="center",
        va="center",
        fontsize=(13 if activation == "sigmoid" else 10) * s,
        color="white",
        fontweight="bold",
        zorder=4,
    )
    ax.text(
        x, BOX_Y - 0.27, label, ha="center", va="center", fontsize=7 * s, color="white", zorder=4
    )
    # The gate's symbol beside its output line (o's goes out sideways, so above that; a
    # longer symbol than o_t sits centred on that short line, clear of the node it meets).
    where, ha = (x + 0.1, BOX_Y + BOX_H / 2 + 0.15), "left"
    if name == "o":
        where = (x + 1.05, BOX_Y + 0.1) if symbol == own_symbol else (x + 1.09, BOX_Y + 0.1)
        ha = "left" if symbol == own_symbol else "center"
    ax.text(*where, symbol, ha=ha, va="bottom", fontsize=11 * s, zorder=4)


def text_scale(ax, xlim=XLIM, ylim=YLIM) -> float:
    """How much smaller or larger than the 7 x 4 inch default this Axes, which will show
    ``xlim`` by ``ylim``, draws one data unit."""
    fig = ax.figure
    pos = ax.get_position()
    inches_per_unit = min(
        pos.width * fig.get_figwidth() / (xlim[1] - xlim[0]),
        pos.height * fig.get_figheight() / (ylim[1] - ylim[0]),
    )
    return min(max(inches_per_unit / 0.372, 0.4), 2.0)
