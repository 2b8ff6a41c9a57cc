import pytest
import torch

from lstm_course.experiments.long_lags import (
    ADDING_BASELINE_MSE,
    SequenceClassifier,
    SequenceRegressor,
    adding_problem,
    fraction_within,
    remember_first,
)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


# --- adding_problem -------------------------------------------------------------------


@pytest.mark.parametrize(("n", "length"), [(1, 2), (7, 3), (16, 10), (32, 25), (8, 100)])
def test_adding_problem_structure(n, length):
    x, y = adding_problem(n, length, _gen(n + length))
    assert x.shape == (n, length, 2)
    assert y.shape == (n,)
    values, markers = x[..., 0], x[..., 1]
    assert torch.all((values >= 0) & (values < 1))
    # Markers are 0/1, exactly two per row.
    assert torch.all((markers == 0) | (markers == 1))
    assert torch.equal(markers.sum(dim=1), torch.full((n,), 2.0))
    marked = markers.nonzero()  # rows in order, columns ascending within a row
    cols = marked[:, 1].reshape(n, 2)
    first, second = cols[:, 0], cols[:, 1]
    assert torch.all(first < max(1, length // 10))
    assert torch.all(second >= length // 2)
    assert torch.all(second < length)
    # The target is the sum of the two marked values.
    rows = torch.arange(n)
    expected = values[rows, first] + values[rows, second]
    torch.testing.assert_close(y, expected)


def test_adding_problem_length_two():
    x, y = adding_problem(5, 2, _gen(1))
    assert torch.equal(x[..., 1], torch.ones(5, 2))
    torch.testing.assert_close(y, x[..., 0].sum(dim=1))


def test_adding_problem_reproducible():
    x1, y1 = adding_problem(8, 20, _gen(42))
    x2, y2 = adding_problem(8, 20, _gen(42))
    assert torch.equal(x1, x2)
    assert torch.equal(y1, y2)
    x3, _ = adding_problem(8, 20, _gen(43))
    assert not torch.equal(x1, x3)


def test_adding_problem_marker_positions_vary():
    x, _ = adding_problem(500, 40, _gen(3))
    cols = x[..., 1].nonzero()[:, 1].reshape(500, 2)
    # Both markers take every allowed position over enough rows.
    assert set(cols[:, 0].tolist()) == set(range(4))
    assert set(cols[:, 1].tolist()) == set(range(20, 40))


@pytest.mark.parametrize("n", [0, -1])
def test_adding_problem_rejects_few_sequences(n):
    with pytest.raises(ValueError, match=rf"num_sequences must be an int >= 1, got {n}$"):
        adding_problem(n, 10)


@pytest.mark.parametrize("length", [1, 0, -3])
def test_adding_problem_rejects_short_length(length):
    with pytest.raises(ValueError, match=r"length must be an int >= 2 \(two steps get marked\)"):
        adding_problem(4, length)


@pytest.mark.parametrize(("n", "length"), [(2.0, 10), (True, 10), (4, 10.0), (4, None)])
def test_adding_problem_rejects_non_int_sizes(n, length):
    with pytest.raises(TypeError, match="must be an int"):
        adding_problem(n, length)


def test_baseline_mse_is_target_variance():
    _, y = adding_problem(50_000, 10, _gen(0))
    assert abs(y.mean().item() - 1.0) < 0.01
    mse_of_mean = ((y - 1.0) ** 2).mean().item()
    assert mse_of_mean == pytest.approx(ADDING_BASELINE_MSE, abs=0.005)
    assert y.var().item() == pytest.approx(ADDING_BASELINE_MSE, abs=0.005)
    assert ADDING_BASELINE_MSE == pytest.approx(1 / 6)


# --- SequenceRegressor ----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_sequence_regressor_shapes(kind):
    torch.manual_seed(0)
    model = SequenceRegressor(kind, input_size=2, hidden_size=5)
    assert model.kind == kind
    assert isinstance(model.rnn, getattr(torch.nn, kind))
    x, _ = adding_problem(3, 7, _gen())
    out = model(x)
    assert out.shape == (3,)
    assert torch.all(torch.isfinite(out))


def test_sequence_regressor_reads_last_step():
    torch.manual_seed(0)
    model = SequenceRegressor("GRU", 2, 4)
    x = torch.randn(2, 6, 2, generator=_gen())
    output, _ = model.rnn(x)
    expected = model.head(output[:, -1]).squeeze(-1)
    torch.testing.assert_close(model(x), expected)


def test_sequence_regressor_forget_bias():
    torch.manual_seed(0)
    h = 3
    model = SequenceRegressor("LSTM", 2, h, forget_bias=1.5)
    b_ih = model.rnn.bias_ih_l0.detach()
    b_hh = model.rnn.bias_hh_l0.detach()
    assert torch.equal(b_ih[h : 2 * h], torch.full((h,), 1.5))
    assert torch.equal(b_hh[h : 2 * h], torch.zeros(h))
    # The other gates keep PyTorch's (random, non-constant) initialization.
    torch.manual_seed(0)
    plain = SequenceRegressor("LSTM", 2, h)
    for block in (slice(0, h), slice(2 * h, 4 * h)):
        assert torch.equal(b_ih[block], plain.rnn.bias_ih_l0.detach()[block])
        assert torch.equal(b_hh[block], plain.rnn.bias_hh_l0.detach()[block])
    assert not torch.equal(plain.rnn.bias_ih_l0.detach()[h : 2 * h], torch.full((h,), 1.5))


def test_sequence_regressor_forget_bias_is_trainable():
    model = SequenceRegressor("LSTM", 2, 3, forget_bias=1.0)
    assert model.rnn.bias_ih_l0.requires_grad
    assert model.rnn.bias_ih_l0.is_leaf


def test_sequence_regressor_rejects_unknown_kind():
    with pytest.raises(ValueError, match="kind"):
        SequenceRegressor("Transformer", 2, 4)


@pytest.mark.parametrize("kind", ["RNN", "GRU"])
def test_sequence_regressor_rejects_forget_bias_on_non_lstm(kind):
    with pytest.raises(ValueError, match="forget_bias"):
        SequenceRegressor(kind, 2, 4, forget_bias=1.0)


# --- remember_first -------------------------------------------------------------------


@pytest.mark.parametrize(("n", "length", "k", "m"), [(1, 1, 2, 1), (5, 4, 3, 2), (20, 30, 8, 4)])
def test_remember_first_structure(n, length, k, m):
    x, y = remember_first(n, length, k, _gen(n), num_distractors=m)
    assert x.shape == (n, length, k + m)
    assert y.shape == (n,)
    assert y.dtype == torch.long
    assert torch.all((x == 0) | (x == 1))
    assert torch.equal(x.sum(dim=-1), torch.ones(n, length))  # exactly one symbol per step
    assert torch.equal(y, x[:, 0].argmax(dim=-1))
    assert torch.all((y >= 0) & (y < k))
    # Only the first step shows a signal symbol; every later one a distractor.
    assert torch.all(x[:, 0, k:] == 0)
    assert torch.all(x[:, 1:, :k] == 0)


def test_remember_first_uniform_symbols_and_reproducible():
    x, y = remember_first(8000, 5, 4, _gen(0), num_distractors=3)
    shares = torch.bincount(y, minlength=4).float() / 8000
    assert torch.allclose(shares, torch.full((4,), 0.25), atol=0.02)
    later = x[:, 1:, 4:].sum(dim=(0, 1)) / (8000 * 4)
    assert torch.allclose(later, torch.full((3,), 1 / 3), atol=0.02)
    x2, y2 = remember_first(8000, 5, 4, _gen(0), num_distractors=3)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    x3, _ = remember_first(8000, 5, 4, _gen(1), num_distractors=3)
    assert not torch.equal(x, x3)


@pytest.mark.parametrize(
    ("n", "length", "k", "m", "match"),
    [
        (0, 5, 3, 2, "num_sequences must be an int >= 1, got 0$"),
        (3, 0, 3, 2, "length must be an int >= 1, got 0$"),
        (3, 5, 1, 2, r"num_symbols must be an int >= 2 \(one symbol is no task\)"),
        (3, 5, 3, 0, "num_distractors must be an int >= 1, got 0$"),
    ],
)
def test_remember_first_rejects_bad_sizes(n, length, k, m, match):
    with pytest.raises(ValueError, match=match):
        remember_first(n, length, k, num_distractors=m)


def test_remember_first_rejects_non_int_sizes():
    with pytest.raises(TypeError, match="num_symbols must be an int"):
        remember_first(3, 5, 3.0)


# --- fraction_within ------------------------------------------------------------------


def test_fraction_within():
    metric = fraction_within(0.04)
    out = torch.tensor([1.0, 1.03, 0.95, 2.0])
    target = torch.tensor([1.0, 1.0, 1.0, 1.0])
    assert metric(out, target) == pytest.approx(0.5)  # 0 and 0.03 count; 0.05 and 1 do not


@pytest.mark.parametrize("tolerance", [0.0, -0.1])
def test_fraction_within_rejects_nonpositive(tolerance):
    with pytest.raises(ValueError, match="tolerance must be a finite number > 0"):
        fraction_within(tolerance)
    with pytest.raises(TypeError, match="tolerance must be a finite number > 0"):
        fraction_within("0.04")


# --- SequenceClassifier ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_sequence_classifier_shapes_and_last_step(kind):
    torch.manual_seed(0)
    model = SequenceClassifier(kind, 9, 6, 5)
    x, _ = remember_first(3, 7, 5, _gen())
    logits = model(x)
    assert logits.shape == (3, 5)
    output, _ = model.rnn(x)
    torch.testing.assert_close(logits, model.head(output[:, -1]))


def test_sequence_classifier_forget_bias_and_errors():
    model = SequenceClassifier("LSTM", 3, 4, 3, forget_bias=2.0)
    assert torch.equal(model.rnn.bias_ih_l0.detach()[4:8], torch.full((4,), 2.0))
    with pytest.raises(ValueError, match="num_classes must be an int >= 2, got 1$"):
        SequenceClassifier("LSTM", 3, 4, 1)
    with pytest.raises(TypeError, match="num_classes must be an int >= 2"):
        SequenceClassifier("LSTM", 3, 4, 2.0)
    with pytest.raises(ValueError, match="forget_bias"):
        SequenceClassifier("GRU", 3, 4, 3, forget_bias=1.0)
    with pytest.raises(ValueError, match="kind"):
        SequenceClassifier("MLP", 3, 4, 3)
