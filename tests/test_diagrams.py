import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.text import Annotation  # noqa: E402

from lstm_course.diagrams import GATE_NAMES, draw_lstm_cell  # noqa: E402

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
