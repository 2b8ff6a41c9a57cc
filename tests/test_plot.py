import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from lstm_course.plot import (  # noqa: E402
    plot_curves,
    plot_gradient_norms,
    plot_heatmap,
    plot_history,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


class FakeHistory:
    def __init__(self, data):
        self._data = data

    def as_dict(self):
        return dict(self._data)


def _labels(ticks):
    return [t.get_text() for t in ticks]


# --- plot_history ---------------------------------------------------------------------


def test_plot_history_dict():
    ax = plot_history({"train_loss": [3.0, 2.0, 1.0], "val_loss": [3.5, 2.5, 2.0]})
    assert isinstance(ax, Axes)
    lines = ax.get_lines()
    assert len(lines) == 2
    np.testing.assert_array_equal(lines[0].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(lines[0].get_ydata(), [3.0, 2.0, 1.0])
    np.testing.assert_array_equal(lines[1].get_ydata(), [3.5, 2.5, 2.0])
    assert [line.get_label() for line in lines] == ["train loss", "val loss"]
    assert ax.get_xlabel() == "epoch"
    assert ax.get_ylabel() == "train loss, val loss"
    assert ax.get_yscale() == "linear"
    assert ax.get_legend() is not None


def test_plot_history_as_dict_object():
    history = FakeHistory({"train_loss": [1.0, 0.5], "val_accuracy": [0.2, 0.4]})
    ax = plot_history(history, keys=("val_accuracy",), ylabel="acc", logy=True)
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_ydata(), [0.2, 0.4])
    assert ax.get_ylabel() == "acc"
    assert ax.get_yscale() == "log"


def test_plot_history_real_history():
    from lstm_course.training import History

    history = History(train_loss=[1.0, 0.8], val_loss=[1.1, 0.9])
    ax = plot_history(history)
    assert len(ax.get_lines()) == 2


def test_plot_history_skips_missing_and_empty_keys():
    history = {"train_loss": [1.0, 0.5], "val_loss": []}
    ax = plot_history(history, keys=("train_loss", "val_loss", "nope"))
    lines = ax.get_lines()
    assert len(lines) == 1
    assert lines[0].get_label() == "train loss"
    assert ax.get_ylabel() == "train loss"


def test_plot_history_none_present():
    with pytest.raises(ValueError, match="none of"):
        plot_history({"lr": [0.1]}, keys=("train_loss", "val_loss"))


def test_plot_history_rejects_non_mapping():
    with pytest.raises(TypeError, match="must be a mapping .* or a History, got list"):
        plot_history([1.0, 2.0])


def test_plot_history_existing_ax():
    fig, ax = plt.subplots()
    out = plot_history({"train_loss": [1.0]}, ax=ax)
    assert out is ax
    assert len(fig.axes) == 1


# --- plot_curves ----------------------------------------------------------------------


def test_plot_curves_lines():
    curves = {"a": [1.0, 2.0, 3.0], "b": [3.0, 2.0, 1.0, 0.5]}
    ax = plot_curves(curves, xlabel="lag", ylabel="acc")
    assert isinstance(ax, Axes)
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["a", "b"]
    np.testing.assert_array_equal(lines[0].get_xdata(), [0, 1, 2])
    np.testing.assert_array_equal(lines[1].get_ydata(), [3.0, 2.0, 1.0, 0.5])
    assert ax.get_xlabel() == "lag"
    assert ax.get_ylabel() == "acc"
    assert ax.get_yscale() == "linear"


def test_plot_curves_custom_x():
    ax = plot_curves({"a": [1.0, 2.0]}, x=[10, 20])
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [10, 20])


def test_plot_curves_smoothing():
    values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    smooth = 3
    ax = plot_curves({"loss": values}, smooth=smooth)
    (line,) = ax.get_lines()
    ys = line.get_ydata()
    assert len(ys) == len(values) - (smooth - 1)
    np.testing.assert_allclose(ys, [2.0, 3.0, 4.0, 5.0])
    np.testing.assert_array_equal(line.get_xdata(), [2, 3, 4, 5])


def test_plot_curves_smoothing_with_x():
    ax = plot_curves({"loss": [0.0, 2.0, 4.0]}, x=[10, 20, 30], smooth=2)
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), [20, 30])
    np.testing.assert_allclose(line.get_ydata(), [1.0, 3.0])


def test_plot_curves_short_curve_not_smoothed():
    ax = plot_curves({"loss": [1.0, 2.0]}, smooth=5)
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), [1.0, 2.0])


def test_plot_curves_empty():
    with pytest.raises(ValueError, match="empty"):
        plot_curves({})


@pytest.mark.parametrize("smooth, error", [(0, ValueError), (-2, ValueError), (2.5, TypeError)])
def test_plot_curves_bad_smooth(smooth, error):
    with pytest.raises(error, match=f"smooth must be an int >= 1, got {smooth}"):
        plot_curves({"a": [1.0]}, smooth=smooth)


def test_plot_curves_logy_and_existing_ax():
    fig, ax = plt.subplots()
    out = plot_curves({"a": [1.0, 0.1]}, ax=ax, logy=True)
    assert out is ax
    assert ax.get_yscale() == "log"
    assert len(fig.axes) == 1


# --- plot_heatmap ---------------------------------------------------------------------


def test_plot_heatmap_image():
    values = np.arange(6, dtype=float).reshape(2, 3)
    ax = plot_heatmap(values, title="gates")
    assert isinstance(ax, Axes)
    assert len(ax.images) == 1
    np.testing.assert_array_equal(np.asarray(ax.images[0].get_array()), values)
    assert ax.get_xlabel() == "step"
    assert ax.get_title() == "gates"
    assert len(ax.figure.axes) == 2  # the heatmap and its colorbar


def test_plot_heatmap_labels():
    values = [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]
    ax = plot_heatmap(
        values,
        row_labels=["input", "forget"],
        tokens=["a", "b", "\n"],
        colorbar=False,
        vmin=-1,
        vmax=1,
    )
    assert _labels(ax.get_yticklabels()) == ["input", "forget"]
    assert _labels(ax.get_xticklabels()) == ["a", "b", "\\n"]
    assert list(ax.get_xticks()) == [0, 1, 2]
    assert ax.images[0].get_clim() == (-1, 1)
    assert len(ax.figure.axes) == 1


def test_plot_heatmap_existing_ax():
    fig, ax = plt.subplots()
    out = plot_heatmap(np.zeros((1, 4)), ax=ax, colorbar=False)
    assert out is ax
    assert len(ax.images) == 1


@pytest.mark.parametrize("values", [np.zeros(3), np.zeros((2, 2, 2))])
def test_plot_heatmap_wrong_ndim(values):
    with pytest.raises(ValueError, match="rows, T"):
        plot_heatmap(values)


def test_plot_heatmap_wrong_row_labels():
    with pytest.raises(ValueError, match="row labels"):
        plot_heatmap(np.zeros((2, 3)), row_labels=["only one"])


def test_plot_heatmap_wrong_tokens():
    with pytest.raises(ValueError, match="tokens"):
        plot_heatmap(np.zeros((2, 3)), tokens=["a", "b"])


# --- plot_gradient_norms --------------------------------------------------------------


def test_plot_gradient_norms():
    norms = {"rnn": np.array([1.0, 0.1, 0.0, 0.001]), "lstm": [1.0, 0.9, 0.8, 0.7]}
    ax = plot_gradient_norms(norms, title="vanishing")
    assert isinstance(ax, Axes)
    assert ax.get_yscale() == "log"
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["rnn", "lstm"]
    np.testing.assert_array_equal(lines[0].get_xdata(), [0, 1, 2, 3])
    ys = np.asarray(lines[0].get_ydata(), dtype=float)
    assert np.isnan(ys[2])
    np.testing.assert_allclose(ys[[0, 1, 3]], [1.0, 0.1, 0.001])
    assert not np.isnan(np.asarray(lines[1].get_ydata(), dtype=float)).any()
    assert ax.get_title() == "vanishing"


def test_plot_gradient_norms_existing_ax():
    fig, ax = plt.subplots()
    out = plot_gradient_norms({"a": [1.0, 0.5]}, ax=ax, ylabel="norm")
    assert out is ax
    assert ax.get_ylabel() == "norm"
    assert len(ax.get_lines()) == 1


def test_plot_gradient_norms_empty():
    with pytest.raises(ValueError, match="empty"):
        plot_gradient_norms({})
