"""The LSTM cell drawn gate by gate, forwards and (``backward=True``) backwards.

``draw_lstm_cell(gates=("g",))`` is the bare constant error carousel, ``("i", "g", "o")``
the 1997 cell, ``("i", "f", "g", "o")`` the standard one; ``peepholes=True`` adds the
peephole connections and ``highlight`` marks the parts a step of the build-up adds;
``backward=True`` draws the same cell with its lines reversed and labelled with the
gradients they carry, the cell line marked as the gradient highway. Every part keeps its
place whichever gates are drawn, so figures of the growing cell line up. The same cell
unrolled over time is ``chain.draw_lstm_chain``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import Circle, FancyBboxPatch

from lstm_course.checks import check_bool
from lstm_course.diagrams.parts import (
    BOX_H,
    BOX_W,
    BOX_Y,
    BUS_Y,
    CELL_COLOR,
    CELL_Y,
    GATE_NAMES,
    GATES,
    GRAD_COLOR,
    HIGHLIGHT,
    LINE_COLOR,
    NODE_R,
    PEEP_COLOR,
    X_IN,
    X_OUT,
    X_WRITE,
    XLIM,
    Y_OUT,
    Y_TANH,
    Y_WRITE,
    YLIM,
    arrow,
    check_gates,
    check_highlight,
    finish_axes,
    gate_box,
    halo_box,
    halo_line,
    pointwise_node,
    tanh_node,
    text_scale,
)

__all__ = ["draw_lstm_cell"]

# Backwards the labels at the ends are longer: the drawing gets more room on either side.
XLIM_BACKWARD = (XLIM[0] - 1.6, XLIM[1] + 2.0)


def draw_lstm_cell(
    ax=None,
    gates=GATE_NAMES,
    peepholes: bool = False,
    title: str | None = None,
    highlight=(),
    backward: bool = False,
):
    """Draw one LSTM cell with the chosen gates and return the Axes.

    Args:
        ax: where to draw; a new figure (7 x 4 inches, wider when ``backward``) when None.
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
        backward: draw the backward pass instead: the same cell with every line reversed
            (in ``GRAD_COLOR``) and labelled with the gradient it carries (delta v for
            dL/dv). delta h_t and delta c_{t+1} * f_{t+1} enter on the right; the branch
            to h_t becomes a + where the two gradients of c_t meet; each box passes back
            delta a (its pre-activation's gradient) to the bus, which leaves as
            W_hh^T delta a_t on the left and delta x_t at the bottom; the cell line leaves
            as delta c_t * f_t, on a yellow halo with the x f_t node: the gradient
            highway.

    Raises:
        ValueError: for an unknown or repeated gate name, ``"i"`` without ``"g"``,
            peepholes with none of i, f, o to feed, a highlight name that is unknown or a
            gate that is not drawn, or peepholes or highlight with ``backward``.
        TypeError: for gates or highlight that are not a sequence, or peepholes or
            backward not True or False.
    """
    gates = check_gates(gates)
    highlight = check_highlight(highlight, gates)
    check_bool("peepholes", peepholes)
    check_bool("backward", backward)
    if peepholes and not set(gates) & {"i", "f", "o"}:
        raise ValueError("peepholes feed the gates i, f and o: draw at least one of them")
    if backward and (peepholes or highlight):
        raise ValueError(
            "backward=True draws the cell without peepholes and marks the gradient "
            "highway itself: leave peepholes and highlight out"
        )
    xlim = XLIM_BACKWARD if backward else XLIM
    if ax is None:
        _, ax = plt.subplots(figsize=(7 * (xlim[1] - xlim[0]) / (XLIM[1] - XLIM[0]), 4))
    s = text_scale(ax, xlim)
    labels = _backward_labels(gates) if backward else _FORWARD_LABELS

    def link(points, head=True):
        """A connection of the forward pass: reversed, in the gradient colour, if backward."""
        if backward:
            arrow(ax, points[::-1], s, color=GRAD_COLOR)
        else:
            arrow(ax, points, s, head=head)

    def label(name, xy, **kw):
        ax.text(*xy, labels[name], fontsize=kw.pop("fontsize", 12) * s, **kw)

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
    cell_line = [(-1.3, CELL_Y), (11.3, CELL_Y)]
    if backward:
        arrow(ax, cell_line[::-1], s, color=GRAD_COLOR, lw=3)
    else:
        arrow(ax, cell_line, s, color=CELL_COLOR, lw=3)
    label("c_left", (-1.4, CELL_Y), ha="right", va="center")
    label("c_right", (11.4, CELL_Y), ha="left", va="center")
    ax.text(5.0, 5.45, "cell state", ha="center", va="bottom", fontsize=8 * s, color=CELL_COLOR)

    # Inputs: h_{t-1} from the left, x_t from below; together they feed every box.
    drawn = [name for name in ("f", "i", "g", "o") if name in gates]
    label("h_left", (-1.4, BUS_Y), ha="right", va="center")
    label("x", (X_IN, -1.2), ha="center", va="top")
    if drawn:
        bus_end = GATES[drawn[-1]][0]
        link([(-1.3, BUS_Y), (bus_end, BUS_Y)], head=False)
        link([(X_IN, -1.1), (X_IN, BUS_Y)], head=False)
        ax.add_patch(
            Circle((X_IN, BUS_Y), 0.07, color=GRAD_COLOR if backward else LINE_COLOR, zorder=2)
        )
        for name in drawn:
            x = GATES[name][0]
            link([(x, BUS_Y), (x, BOX_Y - BOX_H / 2)])
            gate_box(ax, name, s, labels.get(name))
            if backward:  # the gradient of the box's pre-activation, on its way to the bus
                label(
                    "a" + name,
                    (x + 0.1, (BUS_Y + BOX_Y - BOX_H / 2) / 2),
                    ha="left",
                    va="center",
                    fontsize=10,
                )
    top = BOX_Y + BOX_H / 2

    if "f" in gates:  # c_{t-1} * f_t
        x = GATES["f"][0]
        link([(x, top), (x, CELL_Y - NODE_R)])
        pointwise_node(ax, (x, CELL_Y), r"$\times$", s)
    if "g" in gates:  # + (i_t *) g_t
        xg = GATES["g"][0]
        if "i" in gates:
            xi = GATES["i"][0]
            link([(xi, top), (xi, Y_WRITE), (X_WRITE - NODE_R, Y_WRITE)])
            link([(xg, top), (xg, Y_WRITE), (X_WRITE + NODE_R, Y_WRITE)])
            pointwise_node(ax, (X_WRITE, Y_WRITE), r"$\times$", s)
            link([(X_WRITE, Y_WRITE + NODE_R), (X_WRITE, CELL_Y - NODE_R)])
        else:
            link([(xg, top), (xg, Y_WRITE), (X_WRITE, Y_WRITE), (X_WRITE, CELL_Y - NODE_R)])
        pointwise_node(ax, (X_WRITE, CELL_Y), "+", s)

    # The output: h_t = (o_t *) tanh(c_t), which also goes on to the next step. Backwards,
    # the branch is where the gradient through h_t joins the one from step t+1: a sum.
    if backward:
        pointwise_node(ax, (X_OUT, CELL_Y), "+", s)
        label("c", ((X_WRITE + X_OUT) / 2, CELL_Y + 0.1), ha="center", va="bottom")
        link([(X_OUT, CELL_Y - NODE_R), (X_OUT, Y_TANH + 0.25)])
    else:
        ax.add_patch(Circle((X_OUT, CELL_Y), 0.07, color=CELL_COLOR, zorder=2))
        link([(X_OUT, CELL_Y), (X_OUT, Y_TANH + 0.25)])
    tanh_node(ax, (X_OUT, Y_TANH), s)
    if "o" in gates:
        xo = GATES["o"][0]
        link([(xo + BOX_W / 2, BOX_Y), (X_OUT - NODE_R, Y_OUT)])
        link([(X_OUT, Y_TANH - 0.25), (X_OUT, Y_OUT + NODE_R)])
        pointwise_node(ax, (X_OUT, Y_OUT), r"$\times$", s)
        link([(X_OUT, Y_OUT - NODE_R), (X_OUT, BUS_Y), (11.3, BUS_Y)])
    else:
        link([(X_OUT, Y_TANH - 0.25), (X_OUT, BUS_Y), (11.3, BUS_Y)])
    label("h_right", (11.4, BUS_Y), ha="left", va="center")
    if drawn:
        ax.text(
            1.7,
            -0.45,
            labels["note"],
            ha="left",
            va="top",
            fontsize=8 * s,
            color="#555555",
            linespacing=1.5,
        )

    # Halos behind what this figure highlights: a gate's box and the node it feeds.
    nodes = {
        "f": (GATES["f"][0], CELL_Y),
        "i": (X_WRITE, Y_WRITE),
        "g": (X_WRITE, CELL_Y),
        "o": (X_OUT, Y_OUT),
    }
    for name in highlight:
        if name == "c":
            halo_line(ax, cell_line, s)
            continue
        halo_box(ax, (GATES[name][0], BOX_Y), BOX_W, BOX_H, s)
        ax.add_patch(Circle(nodes[name], NODE_R + 0.17, color=HIGHLIGHT, alpha=0.8, zorder=2))
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
    if backward:  # the gradient highway: the cell line and its one product, with f_t
        halo_line(ax, cell_line, s)
        if "f" in gates:
            ax.add_patch(Circle(nodes["f"], NODE_R + 0.17, color=HIGHLIGHT, alpha=0.8, zorder=2))
        ax.text(0.0, 5.85, labels["highway"], ha="left", va="bottom", fontsize=8 * s,
                color="#8a6d00")  # fmt: skip

    if peepholes:  # c_{t-1} -> i, f;  c_t -> o
        for name in ("f", "i"):
            if name in gates:
                x = GATES[name][0]
                arrow(
                    ax,
                    [(1.0, CELL_Y), (x - BOX_W / 2 + 0.05, top - 0.05)],
                    s,
                    color=PEEP_COLOR,
                    lw=1.2,
                    ls=(0, (3, 2)),
                )
        if "o" in gates:
            x = GATES["o"][0]
            arrow(ax, [(6.5, CELL_Y), (x - 0.1, top)], s, color=PEEP_COLOR, lw=1.2, ls=(0, (3, 2)))
        ax.text(
            10.0,
            5.85,
            "dashed: peepholes",
            ha="right",
            va="bottom",
            fontsize=8 * s,
            color=PEEP_COLOR,
        )

    return finish_axes(ax, xlim, YLIM, title, fontsize=11 * s)


# What the lines of the cell are labelled with, forwards and (``_backward_labels``) backwards.
_FORWARD_LABELS = {
    "c_left": "$c_{t-1}$",
    "c_right": "$c_t$",
    "h_left": "$h_{t-1}$",
    "h_right": "$h_t$",
    "x": "$x_t$",
    "note": "box: affine map of $x_t$ and $h_{t-1}$, then $\\sigma$ or tanh\n"
    "circle: elementwise operation",
}


def _backward_labels(gates) -> dict[str, str]:
    """The gradient each line carries backwards; without f the forget gate is 1."""
    f, f_next = (r" \odot f_t", r" \odot f_{t+1}") if "f" in gates else ("", "")
    return {
        "c_left": f"$\\delta c_t{f}$",
        "c_right": f"$\\delta c_{{t+1}}{f_next}$",
        "c": "$\\delta c_t$",
        "h_left": "$W_{hh}^\\top \\delta a_t$",
        "h_right": "$\\delta h_t$",
        "x": "$\\delta x_t = W_{ih}^\\top \\delta a_t$",
        **{name: f"$\\delta {name}_t$" for name in GATE_NAMES},
        **{"a" + name: f"$\\delta a^{name}_t$" for name in GATE_NAMES},
        "note": "arrows: gradients $\\delta v = \\partial \\mathcal{L} / \\partial v$, "
        "right to left\n"
        "box: back through $\\sigma'$ or tanh$'$; left: step $t$'s part of "
        "$\\delta c_{t-1}$ and $\\delta h_{t-1}$",
        "highway": f"yellow: the gradient highway, $\\delta c_t \\to \\delta c_t{f}$: "
        "no weight matrix, no squashing",
    }
