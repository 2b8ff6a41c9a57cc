import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.text import Annotation  # noqa: E402

from lstm_course.diagrams import (  # noqa: E402
    GATE_NAMES,
    draw_lstm_cell,
    draw_lstm_chain,
    draw_stacked_weights,
)
from lstm_course.diagrams.parts import (  # noqa: E402
    BOX_H,
    BOX_Y,
    BUS_Y,
    CELL_Y,
    GATES,
    GRAD_COLOR,
    X_IN,
)

SYMBOLS = {"i": "$i_t$", "f": "$f_t$", "g": "$g_t$", "o": "$o_t$"}
NAMES = {"i": "input", "f": "forget", "g": "candidate", "o": "output"}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _texts(ax):
    return [t.get_text() for t in ax.texts]


def test_default_draws_all_four_gates_and_the_states():
    ax = draw_lstm_cell()
    assert isinstance(ax, Axes)
    texts = _texts(ax)
    for name in GATE_NAMES:
        assert SYMBOLS[name] in texts and NAMES[name] in texts
    for label in ["$c_{t-1}$", "$c_t$", "$h_{t-1}$", "$h_t$", "$x_t$", "+", "tanh"]:
        assert label in texts
    # The three x nodes of the full cell: forget, input * candidate, output.
    assert texts.count(r"$\times$") == 3
    assert not ax.axison


@pytest.mark.parametrize("gates", [("g",), ("i", "g", "o"), ("f", "g"), ("i", "f", "g", "o")])
def test_draws_exactly_the_requested_gates(gates):
    texts = _texts(draw_lstm_cell(gates=gates))
    for name in GATE_NAMES:
        assert (SYMBOLS[name] in texts) == (name in gates), name
        assert (NAMES[name] in texts) == (name in gates), name
    # One x node per gate: f on the cell line, i times g, o times tanh(c_t).
    assert texts.count(r"$\times$") == sum(name in gates for name in "ifo")


def test_gate_order_does_not_matter_and_string_is_accepted():
    a = _texts(draw_lstm_cell(gates=("o", "g", "i")))
    b = _texts(draw_lstm_cell(gates="igo"))
    assert sorted(a) == sorted(b)


def test_draws_on_a_given_axes_and_title():
    fig, axes = plt.subplots(1, 3, figsize=(12, 3))
    out = draw_lstm_cell(axes[1], gates=("i", "g", "o"), title="1997")
    assert out is axes[1]
    assert out.get_title() == "1997"
    assert len(fig.axes) == 3 and not axes[0].texts


def test_small_axes_get_smaller_text():
    big = draw_lstm_cell()
    _, small_ax = plt.subplots(1, 3, figsize=(9, 2))
    small = draw_lstm_cell(small_ax[0])
    size = {
        ax: next(t.get_fontsize() for t in ax.texts if t.get_text() == "$c_t$")
        for ax in (big, small)
    }
    assert size[small] < size[big]


def test_peepholes_add_dashed_lines_and_a_note():
    plain = draw_lstm_cell()
    with_peepholes = draw_lstm_cell(peepholes=True)
    assert "dashed: peepholes" in _texts(with_peepholes)
    assert "dashed: peepholes" not in _texts(plain)

    def arrows(ax):
        return [t for t in ax.texts if isinstance(t, Annotation)]

    # c_{t-1} -> i, c_{t-1} -> f, c_t -> o; only the last without i and f.
    assert len(arrows(with_peepholes)) - len(arrows(plain)) == 3
    only_o = draw_lstm_cell(gates=("g", "o"), peepholes=True)
    assert len(arrows(only_o)) - len(arrows(draw_lstm_cell(gates=("g", "o")))) == 1


@pytest.mark.parametrize("gates", [("i", "x"), ("input",), ("i", "f", "g", "o", "c"), [1]])
def test_unknown_gate_names_are_rejected(gates):
    with pytest.raises(ValueError, match="unknown gate name"):
        draw_lstm_cell(gates=gates)


def test_other_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="twice"):
        draw_lstm_cell(gates=("i", "g", "i"))
    with pytest.raises(ValueError, match="include 'g'"):
        draw_lstm_cell(gates=("i", "o"))
    with pytest.raises(ValueError, match="peepholes"):
        draw_lstm_cell(gates=("g",), peepholes=True)
    with pytest.raises(TypeError, match="gates must be a sequence of names .*, got 3"):
        draw_lstm_cell(gates=3)
    with pytest.raises(TypeError, match="peepholes must be True or False, got 1"):
        draw_lstm_cell(peepholes=1)


# --- highlight, the unrolled chain, the stacked weights -------------------------------

HALO = "#ffcf33"


def _halos(ax):
    """The yellow halo patches and lines drawn behind highlighted parts."""
    patches = [p for p in ax.patches if matplotlib.colors.to_hex(p.get_facecolor()) == HALO]
    lines = [ln for ln in ax.lines if matplotlib.colors.to_hex(ln.get_color()) == HALO]
    return patches, lines


def test_no_highlight_draws_no_halo():
    assert _halos(draw_lstm_cell()) == ([], [])
    assert "yellow: new in this step" not in _texts(draw_lstm_cell())


@pytest.mark.parametrize(
    ("gates", "highlight", "boxes_and_nodes", "lines"),
    [
        (("g",), ("c", "g"), 2, 1),  # the carousel: the cell line, the candidate and its +
        (("i", "g", "o"), ("i", "o"), 4, 0),  # 1997: two gate boxes, two x nodes
        (GATE_NAMES, ("f",), 2, 0),
        (GATE_NAMES, "fo", 4, 0),
    ],
)
def test_highlight_puts_a_halo_behind_each_named_part(gates, highlight, boxes_and_nodes, lines):
    ax = draw_lstm_cell(gates=gates, highlight=highlight)
    patches, halo_lines = _halos(ax)
    assert len(patches) == boxes_and_nodes and len(halo_lines) == lines
    assert "yellow: new in this step" in _texts(ax)


def test_bad_highlight_is_rejected():
    with pytest.raises(ValueError, match="unknown name"):
        draw_lstm_cell(highlight=("x",))
    with pytest.raises(ValueError, match="does not draw"):
        draw_lstm_cell(gates=("i", "g"), highlight=("f",))
    with pytest.raises(TypeError, match="highlight must be a sequence"):
        draw_lstm_cell(highlight=3)


@pytest.mark.parametrize("steps", [2, 3, 5])
def test_chain_draws_one_cell_per_step_with_the_cell_path_marked(steps):
    ax = draw_lstm_chain(steps, title="unrolled")
    texts = _texts(ax)
    assert texts.count("$i, f, g, o$") == steps
    assert texts.count("+") == steps and texts.count(r"$\times$") == steps
    # The last but one cell is step t, the last t+1; c_{t-1} comes in from the left.
    for label in ["$x_{t}$", "$x_{t+1}$", "$c_{t}$", "$h_{t}$", "$c_{t-1}$", "$h_{t-1}$"]:
        assert label in texts, label
    assert ("$x_{t-1}$" in texts) == (steps >= 3)
    assert any("cell path" in t for t in texts)
    patches, lines = _halos(ax)
    assert len(lines) == 1 and not patches  # the one marked path: the cell line
    assert ax.get_title() == "unrolled" and not ax.axison


def test_chain_rejects_bad_steps():
    with pytest.raises(ValueError, match="steps must be an int >= 2"):
        draw_lstm_chain(1)
    with pytest.raises(TypeError, match="steps must be an int >= 2"):
        draw_lstm_chain(2.0)


def test_stacked_weights_label_the_four_blocks_in_pytorch_order():
    torch = pytest.importorskip("torch")
    cell = torch.nn.LSTMCell(5, 3)
    ax = draw_stacked_weights(cell.weight_ih)
    labels = [t for t in _texts(ax) if "rows" in t]
    assert labels == [
        "$i_t$, input gate: $W_{ii}$, rows 0-2",
        "$f_t$, forget gate: $W_{if}$, rows 3-5",
        "$g_t$, candidate: $W_{ig}$, rows 6-8",
        "$o_t$, output gate: $W_{io}$, rows 9-11",
    ]
    (image,) = ax.images
    assert image.get_array().shape == (12, 5)
    assert len([ln for ln in ax.lines if ln.get_ydata()[0] in (2.5, 5.5, 8.5)]) == 3
    hh = draw_stacked_weights(cell.weight_hh.detach().numpy(), name="weight_hh")
    assert "$o_t$, output gate: $W_{ho}$, rows 9-11" in _texts(hh)
    assert "4H \\times H" in hh.get_title()


def test_stacked_weights_reject_bad_input():
    with pytest.raises(ValueError, match="4H rows"):
        draw_stacked_weights([[1.0, 2.0]] * 6)
    with pytest.raises(ValueError, match="4H rows"):
        draw_stacked_weights([1.0] * 8)
    with pytest.raises(ValueError, match="name must be"):
        draw_stacked_weights([[1.0]] * 4, name="bias_ih")


# --- the backward pass ---------------------------------------------------------------------


def _heads(ax):
    """Where every arrowhead points, rounded, with the colour of its arrow."""
    return {
        (round(a.xy[0], 6), round(a.xy[1], 6)): matplotlib.colors.to_hex(
            a.arrow_patch.get_edgecolor()
        )
        for a in ax.texts
        if isinstance(a, Annotation)
    }


def test_backward_labels_every_line_with_the_gradient_it_carries():
    texts = _texts(draw_lstm_cell(backward=True))
    # In from the right: delta h_t and the part of delta c_t that comes through step t+1.
    # Out on the left and at the bottom: step t's parts of delta c_{t-1} and delta h_{t-1},
    # and delta x_t.
    for label in [
        r"$\delta h_t$",
        r"$\delta c_{t+1} \odot f_{t+1}$",
        r"$\delta c_t$",
        r"$\delta c_t \odot f_t$",
        r"$W_{hh}^\top \delta a_t$",
        r"$\delta x_t = W_{ih}^\top \delta a_t$",
    ]:
        assert label in texts, label
    for name in GATE_NAMES:  # each gate's gradient above its box, its pre-activation's below
        assert f"$\\delta {name}_t$" in texts and f"$\\delta a^{name}_t$" in texts, name
        assert SYMBOLS[name] not in texts and NAMES[name] in texts, name
    for label in ["$c_{t-1}$", "$c_t$", "$h_{t-1}$", "$h_t$", "$x_t$"]:
        assert label not in texts, label
    # The fork of c_t into h_t is, backwards, a sum: a second + next to the write's.
    assert texts.count("+") == 2 and texts.count(r"$\times$") == 3


def test_backward_reverses_the_arrows():
    forward, backward = _heads(draw_lstm_cell()), _heads(draw_lstm_cell(backward=True))
    # Forwards c_t and h_t leave on the right; backwards the cell line points left and
    # the gradients leave on the left (towards h_{t-1}) and at the bottom (towards x_t).
    assert (11.3, CELL_Y) in forward and (11.3, BUS_Y) in forward
    assert (11.3, CELL_Y) not in backward and (11.3, BUS_Y) not in backward
    for end in [(-1.3, CELL_Y), (-1.3, BUS_Y), (X_IN, -1.1)]:
        assert end in backward and end not in forward, end
    # Forwards every box is fed from the bus; backwards every box feeds the bus.
    for name in GATE_NAMES:
        x = GATES[name][0]
        assert (x, BOX_Y - BOX_H / 2) in forward and (x, BOX_Y - BOX_H / 2) not in backward
        assert (x, BUS_Y) in backward and (x, BUS_Y) not in forward
    # delta f_t = delta c_t * c_{t-1} comes down from the x on the cell line into the f box.
    assert (GATES["f"][0], BOX_Y + BOX_H / 2) in backward
    assert set(backward.values()) == {GRAD_COLOR} and GRAD_COLOR not in forward.values()


def test_backward_marks_the_gradient_highway():
    ax = draw_lstm_cell(backward=True)
    patches, lines = _halos(ax)
    assert len(lines) == 1 and len(patches) == 1  # the cell line and its x f_t node
    assert any(t.startswith("yellow: the gradient highway") for t in _texts(ax))
    assert "yellow: new in this step" not in _texts(ax)
    # Without a forget gate the carousel passes delta c_t back unchanged.
    carousel = draw_lstm_cell(gates=("g",), backward=True)
    texts = _texts(carousel)
    assert r"$\delta c_t$" in texts and r"$\delta c_{t+1}$" in texts
    assert not any(r"\odot f" in t for t in texts if t.startswith(r"$\delta c"))
    assert [len(h) for h in _halos(carousel)] == [0, 1]


def test_backward_is_wider_with_text_of_the_same_size():
    forward, backward = draw_lstm_cell(), draw_lstm_cell(backward=True)
    assert backward.figure.get_figwidth() > forward.figure.get_figwidth()

    def size(ax, label):
        return next(t.get_fontsize() for t in ax.texts if t.get_text() == label)

    assert size(backward, r"$\delta h_t$") == pytest.approx(size(forward, "$h_t$"), rel=1e-3)


def test_backward_rejects_what_it_does_not_draw():
    with pytest.raises(ValueError, match="backward=True .* leave peepholes and highlight out"):
        draw_lstm_cell(backward=True, peepholes=True)
    with pytest.raises(ValueError, match="leave peepholes and highlight out"):
        draw_lstm_cell(backward=True, highlight=("c",))
    with pytest.raises(TypeError, match="backward must be True or False, got 1"):
        draw_lstm_cell(backward=1)
