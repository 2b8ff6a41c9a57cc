import pytest
import torch

from lstm_course.tasks import (
    ADDING_BASELINE_MSE,
    SequenceRegressor,
    adding_problem,
    train_on_stream,
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
    with pytest.raises(ValueError, match="num_sequences"):
        adding_problem(n, 10)


@pytest.mark.parametrize("length", [1, 0, -3])
def test_adding_problem_rejects_short_length(length):
    with pytest.raises(ValueError, match="length"):
        adding_problem(4, length)


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
    assert torch.equal(b_ih[h:2 * h], torch.full((h,), 1.5))
    assert torch.equal(b_hh[h:2 * h], torch.zeros(h))
    # The other gates keep PyTorch's (random, non-constant) initialization.
    torch.manual_seed(0)
    plain = SequenceRegressor("LSTM", 2, h)
    for block in (slice(0, h), slice(2 * h, 4 * h)):
        assert torch.equal(b_ih[block], plain.rnn.bias_ih_l0.detach()[block])
        assert torch.equal(b_hh[block], plain.rnn.bias_hh_l0.detach()[block])
    assert not torch.equal(plain.rnn.bias_ih_l0.detach()[h:2 * h], torch.full((h,), 1.5))


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


# --- train_on_stream ------------------------------------------------------------------


def test_train_on_stream_learns_short_lag():
    torch.manual_seed(0)
    model = SequenceRegressor("LSTM", 2, 16)
    steps = 300
    result = train_on_stream(model, lambda n, g: adding_problem(n, 4, g), steps=steps,
                             lr=1e-2, num_val=500, progress=False)
    assert set(result) >= {"losses", "val_mse", "seconds"}
    assert len(result["losses"]) == steps
    assert all(isinstance(v, float) for v in result["losses"])
    assert result["seconds"] > 0
    assert result["val_mse"] < ADDING_BASELINE_MSE / 5
    assert not model.training  # left in eval mode after the validation pass


def test_train_on_stream_is_deterministic():
    def run():
        torch.manual_seed(0)
        model = SequenceRegressor("RNN", 2, 4)
        return train_on_stream(model, lambda n, g: adding_problem(n, 4, g), steps=3,
                               batch_size=8, num_val=16, seed=5, progress=False)

    a, b = run(), run()
    assert a["losses"] == b["losses"]
    assert a["val_mse"] == b["val_mse"]


def test_train_on_stream_samples_validation_first():
    calls = []

    def sample(n, g):
        calls.append(n)
        return adding_problem(n, 3, g)

    model = SequenceRegressor("RNN", 2, 4)
    train_on_stream(model, sample, steps=2, batch_size=5, num_val=11, progress=False,
                    clip_grad_norm=None)
    assert calls == [11, 5, 5]


@pytest.mark.parametrize(("steps", "batch_size"), [(0, 8), (-1, 8), (5, 0)])
def test_train_on_stream_rejects_bad_sizes(steps, batch_size):
    model = SequenceRegressor("RNN", 2, 4)
    with pytest.raises(ValueError, match="steps"):
        train_on_stream(model, lambda n, g: adding_problem(n, 4, g), steps=steps,
                        batch_size=batch_size, progress=False)
