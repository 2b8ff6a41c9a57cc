"""train_on_stream: a fresh batch per step, the validation set drawn first, the old dict keys."""

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
from lstm_course.training.metrics import accuracy
from lstm_course.training.stream import StreamRun, train_on_stream


def test_train_on_stream_learns_short_lag():
    torch.manual_seed(0)
    model = SequenceRegressor("LSTM", 2, 16)
    steps = 300
    result = train_on_stream(
        model,
        lambda n, g: adding_problem(n, 4, g),
        steps=steps,
        lr=1e-2,
        num_val=500,
        progress=False,
    )
    assert isinstance(result, StreamRun)
    assert len(result.losses) == steps
    assert all(isinstance(v, float) for v in result.losses)
    assert result.seconds > 0
    assert result.loss_is_mse and result.val_metrics == {}
    assert result.val_loss < ADDING_BASELINE_MSE / 5
    assert not model.training  # left in eval mode after the validation pass


def test_train_on_stream_is_deterministic():
    def run():
        torch.manual_seed(0)
        model = SequenceRegressor("RNN", 2, 4)
        return train_on_stream(
            model,
            lambda n, g: adding_problem(n, 4, g),
            steps=3,
            batch_size=8,
            num_val=16,
            seed=5,
            progress=False,
        )

    a, b = run(), run()
    assert a.losses == b.losses
    assert a.val_loss == b.val_loss


def test_train_on_stream_samples_validation_first():
    calls = []

    def sample(n, g):
        calls.append(n)
        return adding_problem(n, 3, g)

    model = SequenceRegressor("RNN", 2, 4)
    train_on_stream(
        model, sample, steps=2, batch_size=5, num_val=11, progress=False, clip_grad_norm=None
    )
    assert calls == [11, 5, 5]


@pytest.mark.parametrize(
    ("steps", "batch_size", "error", "match"),
    [
        (0, 8, ValueError, "steps must be an int >= 1, got 0$"),
        (-1, 8, ValueError, "steps must be an int >= 1, got -1$"),
        (5, 0, ValueError, "batch_size must be an int >= 1, got 0$"),
        (2.5, 8, TypeError, r"steps must be an int >= 1, got 2.5 \(float\)"),
        (5, True, TypeError, r"batch_size must be an int >= 1, got True \(bool\)"),
    ],
)
def test_train_on_stream_rejects_bad_sizes(steps, batch_size, error, match):
    model = SequenceRegressor("RNN", 2, 4)
    with pytest.raises(error, match=match):
        train_on_stream(
            model,
            lambda n, g: adding_problem(n, 4, g),
            steps=steps,
            batch_size=batch_size,
            progress=False,
        )


def test_train_on_stream_rejects_decay_lr_that_is_not_a_bool():
    model = SequenceRegressor("RNN", 2, 4)
    with pytest.raises(TypeError, match="decay_lr must be True or False"):
        train_on_stream(
            model, lambda n, g: adding_problem(n, 4, g), steps=2, decay_lr=1, progress=False
        )


def test_train_on_stream_old_keys_read_the_fields():
    # Chapters 1, 7, 11 and 12 index the result as the dict it used to be.
    torch.manual_seed(0)
    model = SequenceRegressor("RNN", 2, 4)
    result = train_on_stream(
        model,
        lambda n, g: adding_problem(n, 4, g),
        steps=2,
        batch_size=8,
        num_val=16,
        progress=False,
        metrics={"within": fraction_within(0.3)},
    )
    assert result["val_mse"] == result["val_loss"] == result.val_loss
    assert result["val_within"] == result.val_metrics["within"]
    assert result["losses"] is result.losses and result["seconds"] == result.seconds
    with pytest.raises(KeyError, match="'val_accuracy' is not in this run"):
        result["val_accuracy"]
    with pytest.raises(AttributeError):
        result.val_loss = 0.0  # read-only


def test_train_on_stream_val_mse_only_for_the_mse():
    run = StreamRun([1.0], 0.5, {"accuracy": 0.9}, 1.0, loss_is_mse=False)
    assert run["val_loss"] == 0.5 and run["val_accuracy"] == 0.9
    with pytest.raises(KeyError, match="val_mse only for a run trained on the MSE"):
        run["val_mse"]
    torch.manual_seed(0)
    model = SequenceClassifier("RNN", 6, 4, 4)
    result = train_on_stream(
        model,
        lambda n, g: remember_first(n, 3, 4, g, 2),
        steps=2,
        batch_size=8,
        num_val=16,
        progress=False,
        loss_fn=torch.nn.functional.cross_entropy,
    )
    assert not result.loss_is_mse
    mse_module = train_on_stream(
        SequenceRegressor("RNN", 2, 4),
        lambda n, g: adding_problem(n, 4, g),
        steps=2,
        batch_size=8,
        num_val=16,
        progress=False,
        loss_fn=torch.nn.MSELoss(),
    )
    assert mse_module.loss_is_mse


def test_train_on_stream_metrics_match_direct_scoring():
    torch.manual_seed(0)
    model = SequenceRegressor("LSTM", 2, 8)
    result = train_on_stream(
        model,
        lambda n, g: adding_problem(n, 5, g),
        steps=20,
        batch_size=16,
        num_val=200,
        seed=3,
        progress=False,
        metrics={"within": fraction_within(0.3)},
    )
    x_val, y_val = adding_problem(200, 5, torch.Generator().manual_seed(3))
    with torch.no_grad():
        expected = ((model(x_val) - y_val).abs() < 0.3).float().mean().item()
    assert result.val_metrics["within"] == pytest.approx(expected, abs=1e-6)
    assert 0.0 <= result.val_metrics["within"] <= 1.0


def test_train_on_stream_decay_lr_changes_only_later_steps():
    def run(decay):
        torch.manual_seed(0)
        model = SequenceRegressor("GRU", 2, 4)
        return train_on_stream(
            model,
            lambda n, g: adding_problem(n, 4, g),
            steps=5,
            batch_size=8,
            num_val=8,
            lr=0.05,
            decay_lr=decay,
            progress=False,
        ).losses

    plain, decayed = run(False), run(True)
    assert plain[:2] == decayed[:2]  # cosine starts at the full rate: the first update agrees
    assert plain[2:] != decayed[2:]


def test_train_on_stream_classifier_learns_short_memory():
    torch.manual_seed(0)
    model = SequenceClassifier("LSTM", 6, 16, 4)
    result = train_on_stream(
        model,
        lambda n, g: remember_first(n, 3, 4, g, 2),
        steps=300,
        lr=1e-2,
        num_val=500,
        progress=False,
        loss_fn=torch.nn.functional.cross_entropy,
        metrics={"accuracy": accuracy},
    )
    assert result.val_metrics["accuracy"] > 0.95  # chance is 0.25
    assert result.val_loss < 0.2
