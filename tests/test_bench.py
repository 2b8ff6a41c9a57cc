import inspect
import statistics

import pytest
import torch

from lstm_course.bench import recurrent_training_step, time_it

KINDS = ["nn.RNN", "nn.LSTM", "nn.LSTMCell loop"]
TINY = dict(T=3, B=2, D=4, H=5)


# --- time_it --------------------------------------------------------------------------


@pytest.mark.parametrize(("repeat", "warmup"), [(1, 0), (4, 2), (5, 3)])
def test_time_it_calls_and_fields(repeat, warmup):
    calls = []
    result = time_it(lambda: calls.append(1), repeat=repeat, warmup=warmup)
    assert len(calls) == warmup + repeat
    assert set(result) == {"median", "min", "max", "times"}
    times = result["times"]
    assert len(times) == repeat
    assert all(t >= 0 for t in times)
    assert result["min"] == min(times)
    assert result["max"] == max(times)
    assert result["median"] == statistics.median(times)
    assert result["min"] <= result["median"] <= result["max"]


def test_time_it_defaults():
    calls = []
    result = time_it(lambda: calls.append(1))
    assert len(calls) == 13  # 3 warm-ups + 10 timed runs
    assert len(result["times"]) == 10


@pytest.mark.parametrize(("repeat", "warmup"), [(0, 3), (-1, 0), (3, -1)])
def test_time_it_rejects_bad_counts(repeat, warmup):
    calls = []
    with pytest.raises(ValueError, match="repeat"):
        time_it(lambda: calls.append(1), repeat=repeat, warmup=warmup)
    assert calls == []


# --- recurrent_training_step ----------------------------------------------------------


def _layer(step):
    return inspect.getclosurevars(step).nonlocals["layer"]


@pytest.mark.parametrize("kind", KINDS)
def test_recurrent_training_step_runs(kind):
    step = recurrent_training_step(kind, **TINY)
    assert callable(step)
    assert step() is None
    assert step() is None  # callable again: gradients are reset, not accumulated twice


@pytest.mark.parametrize("kind", KINDS)
def test_recurrent_training_step_fills_gradients(kind):
    step = recurrent_training_step(kind, **TINY)
    layer = _layer(step)
    assert all(p.grad is None for p in layer.parameters())
    step()
    first = [p.grad.clone() for p in layer.parameters()]
    assert all(torch.isfinite(g).all() and g.abs().sum() > 0 for g in first)
    step()
    # zero_grad each time: the second call gives the same gradients, not twice them.
    for g, p in zip(first, layer.parameters(), strict=True):
        torch.testing.assert_close(p.grad, g)


def test_recurrent_training_step_layer_types():
    assert isinstance(_layer(recurrent_training_step("nn.RNN", **TINY)), torch.nn.RNN)
    assert isinstance(_layer(recurrent_training_step("nn.LSTM", **TINY)), torch.nn.LSTM)
    assert isinstance(_layer(recurrent_training_step("nn.LSTMCell loop", **TINY)),
                      torch.nn.LSTMCell)


def test_recurrent_training_step_lstm_loop_matches_layer():
    # Same seed, same weights layout: the loop and nn.LSTM compute the same gradients
    # once the cell's weights are copied over.
    loop = recurrent_training_step("nn.LSTMCell loop", **TINY)
    fused = recurrent_training_step("nn.LSTM", **TINY)
    cell, lstm = _layer(loop), _layer(fused)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).copy_(getattr(lstm, f"{name}_l0"))
    loop()
    fused()
    torch.testing.assert_close(cell.weight_ih.grad, lstm.weight_ih_l0.grad)
    torch.testing.assert_close(cell.bias_hh.grad, lstm.bias_hh_l0.grad)


def test_recurrent_training_step_with_time_it():
    result = time_it(recurrent_training_step("nn.RNN", **TINY), repeat=2, warmup=1)
    assert len(result["times"]) == 2


@pytest.mark.parametrize("kind", ["LSTM", "nn.GRU", ""])
def test_recurrent_training_step_unknown_kind(kind):
    with pytest.raises(ValueError, match="unknown kind"):
        recurrent_training_step(kind, **TINY)
