"""Chapter ``05_torch_lstm``'s pictures: what nn.LSTM returns (``draw_lstm_returns``) and
a padded batch next to its packed form (``draw_padded_packed``). The read-outs the first
one marks are checked against a real ``nn.LSTM``, and so is its dataflow (every row reads
x_t or both directions of the layer below) and its labels (the course's h_1 ... h_T, with
h_n holding h_T forward and h_1 backward); the packed layout of the second is checked
against a real ``pack_padded_sequence``."""

from itertools import pairwise

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn.utils.rnn import pack_padded_sequence  # noqa: E402

from lstm_course.diagrams import draw_lstm_returns, draw_padded_packed  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _patches(ax, kind):
    """{gid fields after ``kind``: patch} for the patches whose gid starts with ``kind``."""
    found = {}
    for p in ax.patches:
        gid = p.get_gid() or ""
        if gid.split(" ")[0] == kind:
            found[tuple(int(v) for v in gid.split(" ")[1:])] = p
    return found


def _gid_texts(ax, kind):
    return {
        int(t.get_gid().split(" ")[1]): t
        for t in ax.texts
        if (t.get_gid() or "").startswith(kind + " ")
    }


def _centre(patch):
    box = patch.get_bbox()
    return (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2


@pytest.mark.parametrize("L, T, bidirectional", [(1, 2, False), (2, 4, False), (3, 5, True)])
def test_returns_draws_one_box_per_layer_direction_and_step(L, T, bidirectional):
    d = 2 if bidirectional else 1
    ax = draw_lstm_returns(L, T, bidirectional)
    assert isinstance(ax, Axes)
    states = _patches(ax, "state")
    assert set(states) == {(k, j, t) for k in range(L) for j in range(d) for t in range(T)}
    labels = _gid_texts(ax, "h_n")
    assert sorted(labels) == list(range(L * d))
    assert all(labels[i].get_text() == f"h_n[{i}]" for i in labels)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_h_n_labels_sit_at_each_directions_last_step(bidirectional):
    L, T = 2, 4
    d = 2 if bidirectional else 1
    ax = draw_lstm_returns(L, T, bidirectional)
    states = _patches(ax, "state")
    for i, text in _gid_texts(ax, "h_n").items():
        k, j = divmod(i, d)  # h_n's row order: layer k, direction j
        last = T - 1 if j == 0 else 0  # the backward direction ends at t = 0
        x, y = _centre(states[(k, j, last)])
        tx, ty = text.get_position()
        assert ty == pytest.approx(y)
        assert (tx > x) if j == 0 else (tx < x)
        # ... and it is the nearest box in its row
        row = [_centre(states[(k, j, t)])[0] for t in range(T)]
        assert min(row, key=lambda c: abs(c - tx)) == pytest.approx(x)


@pytest.mark.parametrize("L, T, bidirectional", [(1, 2, False), (2, 4, False), (3, 5, True)])
def test_labels_count_steps_from_1_as_the_course_does(L, T, bidirectional):
    """Column c holds x_{c+1} and the states h_{c+1} after reading it (the intro's
    t = 1, ..., T; h_0 is the initial state, which is not drawn); h_n's forward rows
    label h_T and its backward rows h_1, the state after reading x_1."""
    d = 2 if bidirectional else 1
    ax = draw_lstm_returns(L, T, bidirectional)
    inputs = {int(t.get_gid().split()[1]): t.get_text() for t in ax.texts
              if (t.get_gid() or "").startswith("x ")}  # fmt: skip
    assert inputs == {c: f"$x_{{{c + 1}}}$" for c in range(T)}
    names = {}
    for t in ax.texts:
        gid = (t.get_gid() or "").split()
        if gid and gid[0] == "state_label":
            names[tuple(int(v) for v in gid[1:])] = t.get_text()
    assert names == {(k, j, c): f"$h_{{{c + 1}}}$" for k in range(L) for j in range(d)
                     for c in range(T)}  # fmt: skip
    assert not any("h_{0}" in t.get_text() or "x_{0}" in t.get_text() for t in ax.texts)
    states = _patches(ax, "state")
    for i, text in _gid_texts(ax, "h_n").items():
        k, j = divmod(i, d)
        tx = text.get_position()[0]
        c = min(range(T), key=lambda c: abs(_centre(states[(k, j, c)])[0] - tx))
        assert names[(k, j, c)] == (f"$h_{{{T}}}$" if j == 0 else "$h_{1}$")
    caption = " ".join(t.get_text() for t in ax.texts)
    assert f"h_T = h_{{{T}}}" in caption and "initial states $h_0$" in caption
    if bidirectional:
        assert "$h_1$ backward" in caption


def test_drawn_read_outs_agree_with_a_real_bidirectional_lstm():
    """Where the picture puts the top layer's h_n rows is where nn.LSTM's output has them."""
    L, T, H = 2, 4, 3
    torch.manual_seed(0)
    lstm = nn.LSTM(2, H, num_layers=L, bidirectional=True, dtype=torch.float64)
    output, (h_n, _) = lstm(torch.randn(T, 1, 2, dtype=torch.float64))
    ax = draw_lstm_returns(L, T, True)
    states = _patches(ax, "state")
    for j in range(2):
        row = (L - 1) * 2 + j
        x = _gid_texts(ax, "h_n")[row].get_position()[0]
        # the step whose box in this row is nearest to the label (the rows are staggered)
        t = min(range(T), key=lambda t: abs(_centre(states[(L - 1, j, t)])[0] - x))
        assert torch.equal(output[t, :, j * H : (j + 1) * H], h_n[row])


@pytest.mark.parametrize("bidirectional", [False, True])
def test_output_frame_holds_the_top_layer_only(bidirectional):
    L, T = 3, 4
    ax = draw_lstm_returns(L, T, bidirectional)
    (frame,) = [p for p in ax.patches if p.get_gid() == "output"]
    box = frame.get_bbox()
    for (k, _, _), patch in _patches(ax, "state").items():
        x, y = _centre(patch)
        inside = box.x0 < x < box.x1 and box.y0 < y < box.y1
        assert inside == (k == L - 1)


def _arrows(ax, kind):
    """{gid fields after ``kind``: the points of that arrow, tail to head}; an arrow is
    ``parts.arrow``'s polyline (absent for two points) and its arrowhead annotation."""
    lines, heads = {}, {}
    for artist in ax.lines + ax.texts:
        gid = (artist.get_gid() or "").split(" ")
        if gid[0] == kind:
            key = tuple(int(v) for v in gid[1:])
            if hasattr(artist, "arrow_patch"):
                heads[key] = artist
            else:
                lines[key] = artist
    return {
        key: ([tuple(p) for p in lines[key].get_xydata()] if key in lines else [head.xyann])
        + [head.xy]
        for key, head in heads.items()
    }


def _on_edge(point, patch, edge, tol=0.05):
    """True when point lies on (or just outside) the patch's bottom or top edge."""
    box = patch.get_bbox()
    x, y = point
    y_edge = box.y0 if edge == "bottom" else box.y1
    outside = (y_edge - y) if edge == "bottom" else (y - y_edge)
    return box.x0 < x < box.x1 and -1e-9 <= outside <= tol


@pytest.mark.parametrize("L, T, bidirectional", [(1, 3, False), (3, 4, False), (1, 3, True),
                                                 (3, 4, True)])  # fmt: skip
def test_every_row_reads_x_t_or_the_layer_below(L, T, bidirectional):
    """Each box has one arrow from below: x_t into every row of layer 0 (both directions
    when bidirectional), and into layer k > 0 layer k-1's h_t, through the node that joins
    both of layer k-1's directions when bidirectional."""
    d = 2 if bidirectional else 1
    ax = draw_lstm_returns(L, T, bidirectional)
    states, concat = _patches(ax, "state"), _patches(ax, "concat")
    inputs = _arrows(ax, "input")
    assert set(inputs) == set(states)
    x_label = {
        int(t.get_gid().split()[1]): t.get_position()
        for t in ax.texts
        if (t.get_gid() or "").startswith("x ")
    }  # column c: the text x_{c+1}
    lowest = min(p.get_bbox().y0 for p in states.values())
    for (k, j, t), points in inputs.items():
        assert _on_edge(points[-1], states[(k, j, t)], "bottom"), (k, j, t)
        tail = points[0]
        if k == 0:  # from x_t, below every box
            x, y = x_label[t]
            assert tail[0] == pytest.approx(x) and y < tail[1] < lowest
        elif d == 2:
            assert _on_edge(tail, concat[(k - 1, t)], "top"), (k, j, t)
        else:
            assert _on_edge(tail, states[(k - 1, 0, t)], "top"), (k, j, t)


@pytest.mark.parametrize("L", [1, 2, 3])
def test_bidirectional_layers_read_both_directions_below(L):
    T = 4
    ax = draw_lstm_returns(L, T, True)
    states, concat = _patches(ax, "state"), _patches(ax, "concat")
    assert set(concat) == {(k, t) for k in range(L - 1) for t in range(T)}
    to_concat = _arrows(ax, "to_concat")
    assert set(to_concat) == {(k, j, t) for k in range(L - 1) for j in range(2)
                              for t in range(T)}  # fmt: skip
    for (k, j, t), points in to_concat.items():
        assert _on_edge(points[0], states[(k, j, t)], "top"), (k, j, t)
        assert _on_edge(points[-1], concat[(k, t)], "bottom"), (k, j, t)
    assert not _arrows(draw_lstm_returns(L, T, False), "to_concat")


@pytest.mark.parametrize("L, bidirectional", [(2, False), (3, True)])
def test_arrows_between_layers_pass_through_no_box(L, bidirectional):
    """An arrow that runs behind a box reads as passing through that state (the bug of the
    first bidirectional drawing, where x_t seemed to reach the forward row through the
    backward one): no point of any input arrow lies inside a box or node."""
    ax = draw_lstm_returns(L, 4, bidirectional)
    boxes = [p.get_bbox() for p in ax.patches if (p.get_gid() or "").split(" ")[0]
             in ("state", "concat")]  # fmt: skip
    paths = [*_arrows(ax, "input").values(), *_arrows(ax, "to_concat").values()]
    assert paths
    for points in paths:
        for (x0, y0), (x1, y1) in pairwise(points):
            for s in np.linspace(0, 1, 101):
                x, y = x0 + s * (x1 - x0), y0 + s * (y1 - y0)
                for b in boxes:
                    assert not (b.x0 + 0.01 < x < b.x1 - 0.01 and b.y0 + 0.01 < y < b.y1 - 0.01)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"num_layers": 0}, ValueError),
        ({"steps": 1}, ValueError),
        ({"num_layers": 2.0}, TypeError),
        ({"bidirectional": "yes"}, TypeError),
    ],
)
def test_returns_rejects_bad_arguments(kwargs, error):
    with pytest.raises(error):
        draw_lstm_returns(**kwargs)


@pytest.mark.parametrize("lengths", [[6, 2, 4], [1], [3, 3], [2, 5, 1, 4]])
def test_padded_and_packed_boxes(lengths):
    ax = draw_padded_packed(lengths)
    B, T, N = len(lengths), max(lengths), sum(lengths)
    real, pad, packed = (_patches(ax, kind) for kind in ("real", "pad", "packed"))
    assert set(real) == {(b, t) for b, n in enumerate(lengths) for t in range(n)}
    assert set(pad) == {(b, t) for b, n in enumerate(lengths) for t in range(n, T)}
    assert len(packed) == N and len(real) + len(pad) == B * T


@pytest.mark.parametrize("lengths", [[6, 2, 4], [1], [3, 3], [2, 5, 1, 4]])
def test_packed_layout_is_pack_padded_sequences(lengths):
    """batch_sizes and the order of data's rows as torch packs them, from another input."""
    ax = draw_padded_packed(torch.tensor(lengths))
    B, T = len(lengths), max(lengths)
    # (B, T, 2): each step holds its own (b, t)
    where = torch.stack(torch.meshgrid(torch.arange(B), torch.arange(T), indexing="ij"), dim=-1)
    ref = pack_padded_sequence(where, lengths, batch_first=True, enforce_sorted=False)
    drawn_sizes = _gid_texts(ax, "batch_sizes")
    assert [int(drawn_sizes[t].get_text()) for t in sorted(drawn_sizes)] == (
        ref.batch_sizes.tolist()
    )
    rows = sorted(_patches(ax, "packed"))  # (i, b, t), by row i of data
    assert [(b, t) for _, b, t in rows] == [tuple(v) for v in ref.data.tolist()]
    # The rows are drawn left to right in data's order.
    xs = [_centre(_patches(ax, "packed")[key])[0] for key in rows]
    assert xs == sorted(xs)


@pytest.mark.parametrize(
    "lengths, error",
    [
        ([], ValueError),
        ([3, 0], ValueError),
        ([2.5], TypeError),
        ("abc", TypeError),
        (3, TypeError),
    ],
)
def test_padded_packed_rejects_bad_lengths(lengths, error):
    with pytest.raises(error):
        draw_padded_packed(lengths)
