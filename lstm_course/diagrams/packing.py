"""A padded batch next to its packed form (chapter ``05_torch_lstm``): the (B, T) grid with
its padding hatched above the ``data`` of its ``PackedSequence``, grouped by time step with
``batch_sizes`` (``draw_padded_packed``).
"""

from __future__ import annotations

from collections.abc import Iterable

import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

from lstm_course.checks import check_int
from lstm_course.diagrams.parts import LINE_COLOR, READ_OUT_COLOR, finish_axes

__all__ = ["draw_padded_packed"]


_SEQ_COLORS = ("#4c78a8", "#59a14f", "#e15759", "#b07aa1", "#f28e2b", "#76b7b2")


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
                fontweight="bold", color=READ_OUT_COLOR, gid=f"batch_sizes {t}")  # fmt: skip
    ax.text(-0.7, y_pk - 1.0, "batch_sizes", ha="right", va="top", fontsize=9,
            color=READ_OUT_COLOR)  # fmt: skip
    return finish_axes(
        ax, (-4.2, max(N, T) * w + 0.2), (y_pk - 1.6, y_pad + 1.5), title, fontsize=10
    )
