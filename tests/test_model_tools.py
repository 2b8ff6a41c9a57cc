"""The helpers every training loop shares: training.model_tools and training.schedules."""

import math

import pytest
import torch
from torch import nn

from lstm_course.training.model_tools import BestWeights, count_parameters, eval_mode, model_device
from lstm_course.training.schedules import cosine_factor, cosine_schedule

# --- model_device -------------------------------------------------------------------------


def test_model_device_is_where_the_first_parameter_lives():
    assert model_device(nn.Linear(2, 3)) == torch.device("cpu")
    assert model_device(nn.ReLU()) == torch.device("cpu")  # no parameters: the CPU
    if torch.cuda.is_available():
        assert model_device(nn.Linear(2, 3).cuda()).type == "cuda"


# --- eval_mode ----------------------------------------------------------------------------


def test_eval_mode_switches_dropout_off_and_restores_the_mode():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    model.train()
    with eval_mode(model) as inside:
        assert inside is model and not model.training and not model[1].training
    assert model.training and model[1].training
    model.eval()
    with eval_mode(model):
        pass
    assert not model.training  # an eval model stays in eval mode


def test_eval_mode_restores_the_mode_when_the_block_raises():
    model = nn.Linear(2, 2)
    with pytest.raises(RuntimeError, match="inside"), eval_mode(model):
        raise RuntimeError("inside")
    assert model.training


def test_eval_mode_leaves_gradients_on():
    model = nn.Linear(2, 1)
    with eval_mode(model):
        model(torch.ones(1, 2)).sum().backward()
    assert model.weight.grad is not None


# --- count_parameters ---------------------------------------------------------------------


def test_count_parameters_counts_trainable_values_once():
    model = nn.Sequential(nn.Embedding(10, 4), nn.Linear(4, 10))
    assert count_parameters(model) == 10 * 4 + 4 * 10 + 10
    model[1].weight = model[0].weight  # tied: (10, 4) shared, counted once
    assert count_parameters(model) == 10 * 4 + 10
    model[1].bias.requires_grad_(False)  # frozen values are not trainable
    assert count_parameters(model) == 10 * 4


# --- BestWeights --------------------------------------------------------------------------


def test_best_weights_keeps_a_copy_of_the_best_and_restores_it():
    model = nn.Linear(1, 1, bias=False)
    best = BestWeights("min")
    for epoch, (w, loss) in enumerate([(1.0, 0.5), (2.0, 0.3), (3.0, 0.4)], start=1):
        with torch.no_grad():
            model.weight.fill_(w)
        kept = best.update(model, loss, epoch)
        assert kept == (epoch != 3)
    assert best.score == 0.3 and best.epoch == 2
    with torch.no_grad():
        model.weight.fill_(9.0)  # the copy does not follow the model
    best.restore(model)
    assert model.weight.item() == 2.0


def test_best_weights_max_mode_and_nan():
    best = BestWeights("max")
    model = nn.Linear(1, 1)
    assert not best.update(model, math.nan, 1)  # NaN never beats anything, even nothing
    assert best.score is None and best.epoch == 0
    assert best.update(model, 0.5, 2) and not best.update(model, 0.4, 3)
    assert best.update(model, 0.6, 4) and best.epoch == 4
    assert not best.update(model, math.nan, 5) and best.score == 0.6
    assert best.improves(0.7) and not best.improves(0.6)  # equal is not better


def test_best_weights_errors():
    with pytest.raises(ValueError, match="mode must be 'min' or 'max', got 'auto'"):
        BestWeights("auto")
    with pytest.raises(ValueError, match="no weights were kept"):
        BestWeights().restore(nn.Linear(1, 1))


# --- schedules ----------------------------------------------------------------------------


def test_cosine_factor_runs_from_one_to_zero():
    assert cosine_factor(0, 10) == 1.0
    assert cosine_factor(5, 10) == pytest.approx(0.5)
    assert cosine_factor(10, 10) == pytest.approx(0.0, abs=1e-15)
    values = [cosine_factor(k, 10) for k in range(11)]
    assert all(a > b for a, b in zip(values, values[1:], strict=False))


def test_cosine_schedule_follows_the_factor_per_update():
    model = nn.Linear(1, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.2)
    scheduler = cosine_schedule(optimizer, 4)
    rates = []
    for _ in range(4):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert rates == pytest.approx([0.2 * cosine_factor(k, 4) for k in range(4)])


@pytest.mark.parametrize(("total", "error"), [(0, ValueError), (2.0, TypeError)])
def test_cosine_schedule_rejects_a_bad_total(total, error):
    optimizer = torch.optim.SGD(nn.Linear(1, 1).parameters(), lr=0.1)
    with pytest.raises(error, match=r"total must be an int >= 1 \(updates in the whole run\)"):
        cosine_schedule(optimizer, total)
