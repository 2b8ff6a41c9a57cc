import pytest
import torch
from torch import nn

from lstm_course.experiments.wrong_equations import (
    ARTICLE_MISTAKES,
    MISTAKES,
    cell_params,
    lstm_step,
    matches_cell,
    max_abs_difference,
    preactivations,
    step_all_sigmoid,
    step_cell_feeds_gates,
    step_gates_scale_cell,
    step_no_output_gate,
    step_output_from_candidate,
    step_output_from_gate,
    step_update_gate,
)
from lstm_course.scratch import KEYS

# (B, D, H), including the degenerate B = 1, H = 1.
SHAPES = [(1, 1, 1), (1, 3, 1), (2, 1, 4), (4, 5, 3), (3, 2, 8)]
WRONG = [
    step_all_sigmoid,
    step_cell_feeds_gates,
    step_output_from_candidate,
    step_no_output_gate,
    step_update_gate,
]
ARTICLE = [step_gates_scale_cell, step_output_from_gate]


def _cell(D, H, dtype, seed=0, bias=True):
    torch.manual_seed(seed)
    return nn.LSTMCell(D, H, bias=bias).to(dtype)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(("dtype", "atol"), [(torch.float32, 1e-6), (torch.float64, 1e-12)])
def test_lstm_step_matches_lstmcell(shape, dtype, atol):
    B, D, H = shape
    cell = _cell(D, H, dtype)
    for seed in range(3):
        assert max_abs_difference(lstm_step, cell, batch_size=B, seed=seed) <= atol
    assert matches_cell(lstm_step, cell, batch_size=B)


def test_lstm_step_returns_dtype_and_shapes():
    cell = _cell(3, 4, torch.float64)
    h, c = lstm_step(
        torch.zeros(2, 3, dtype=torch.float64),
        (torch.zeros(2, 4, dtype=torch.float64),) * 2,
        cell_params(cell),
    )
    assert h.shape == c.shape == (2, 4)
    assert h.dtype == c.dtype == torch.float64


def test_lstm_step_without_bias():
    cell = _cell(2, 3, torch.float64, bias=False)
    params = cell_params(cell)
    assert torch.equal(params["bias_ih"], torch.zeros(12, dtype=torch.float64))
    assert matches_cell(lstm_step, cell)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("wrong", WRONG + ARTICLE, ids=lambda f: f.__name__)
def test_every_mistake_differs_from_lstmcell(wrong, shape, dtype):
    B, D, H = shape
    cell = _cell(D, H, dtype)
    assert max_abs_difference(wrong, cell, batch_size=B) > 1e-3
    assert not matches_cell(wrong, cell, batch_size=B)


def test_registry_lists_every_mistake_once():
    assert [m.step for m in MISTAKES.values()] == WRONG
    assert [m.step for m in ARTICLE_MISTAKES.values()] == ARTICLE
    assert not set(MISTAKES) & set(ARTICLE_MISTAKES)  # the chapter merges the two
    for mistake in [*MISTAKES.values(), *ARTICLE_MISTAKES.values()]:
        assert mistake.wrong and mistake.right
        assert "WRONG" in mistake.step.__doc__ and "Right" in mistake.step.__doc__


def test_all_sigmoid_never_writes_negative_values():
    # The defect this error causes: from c = 0, a sigmoid candidate keeps c and h >= 0.
    cell = _cell(3, 5, torch.float64)
    p = cell_params(cell)
    h = c = torch.zeros(4, 5, dtype=torch.float64)
    for _ in range(20):
        h, c = step_all_sigmoid(torch.randn(4, 3, dtype=torch.float64) * 3, (h, c), p)
        assert (c >= 0).all() and (h >= 0).all()


def test_cell_feeds_gates_equals_lstm_when_cell_is_zero():
    # The extra term is c_{t-1} W^T: with c_{t-1} = 0 the error is invisible, so the
    # comparison must (and does) use a random cell state.
    cell = _cell(2, 3, torch.float64)
    p = cell_params(cell)
    x, h = torch.randn(2, 2, dtype=torch.float64), torch.randn(2, 3, dtype=torch.float64)
    zero = torch.zeros(2, 3, dtype=torch.float64)
    for a, b in zip(
        step_cell_feeds_gates(x, (h, zero), p), lstm_step(x, (h, zero), p), strict=True
    ):
        torch.testing.assert_close(a, b)
    other = torch.randn(12, 3, dtype=torch.float64)
    h1, _ = step_cell_feeds_gates(x, (h, zero + 1), p, weight_ch=other)
    h2, _ = step_cell_feeds_gates(x, (h, zero + 1), p)
    assert not torch.allclose(h1, h2)


def test_no_output_gate_is_lstm_with_output_gate_fully_open():
    cell = _cell(2, 3, torch.float64)
    p = dict(cell_params(cell))
    p["bias_ih"] = p["bias_ih"].clone()
    p["bias_ih"][9:] = 1e3  # sigmoid(1e3) = 1: the output gate is wide open
    x, h, c = (torch.randn(2, n, dtype=torch.float64) for n in (2, 3, 3))
    for a, b in zip(step_no_output_gate(x, (h, c), p), lstm_step(x, (h, c), p), strict=True):
        torch.testing.assert_close(a, b)


def test_update_gate_keeps_cell_when_gate_is_one():
    cell = _cell(2, 3, torch.float64)
    p = dict(cell_params(cell))
    p["bias_ih"] = p["bias_ih"].clone()
    p["bias_ih"][3:6] = 1e3  # u = 1: c_t = c_{t-1}
    x, h, c = (torch.randn(2, n, dtype=torch.float64) for n in (2, 3, 3))
    torch.testing.assert_close(step_update_gate(x, (h, c), p)[1], c)


def test_output_from_candidate_keeps_the_right_cell_state():
    cell = _cell(2, 3, torch.float64)
    p = cell_params(cell)
    x, h, c = (torch.randn(2, n, dtype=torch.float64) for n in (2, 3, 3))
    torch.testing.assert_close(
        step_output_from_candidate(x, (h, c), p)[1], lstm_step(x, (h, c), p)[1]
    )


def test_article_mistakes_differ_from_the_cell_in_the_way_their_docstrings_say():
    torch.manual_seed(0)
    cell = torch.nn.LSTMCell(3, 4, dtype=torch.float64)
    params = cell_params(cell)
    for mistake in ARTICLE_MISTAKES.values():
        assert max_abs_difference(mistake.step, cell) > 1e-2
    x = torch.randn(2, 3, dtype=torch.float64)
    h = torch.randn(2, 4, dtype=torch.float64)
    zero = torch.zeros(2, 4, dtype=torch.float64)
    # input gate scaling the old cell: a zero cell stays zero
    assert torch.equal(step_gates_scale_cell(x, (h, zero), params)[1], zero)
    assert not torch.equal(lstm_step(x, (h, zero), params)[1], zero)
    # output from the gate's own pre-activation: h ignores c_{t-1}, the cell update is right
    c1, c2 = torch.randn(2, 2, 4, dtype=torch.float64)
    h1, c_new = step_output_from_gate(x, (h, c1), params)
    assert torch.equal(h1, step_output_from_gate(x, (h, c2), params)[0])
    assert torch.allclose(c_new, lstm_step(x, (h, c1), params)[1])


def test_preactivations_stacked_in_gate_order():
    cell = _cell(2, 3, torch.float64)
    p = cell_params(cell)
    x, h = torch.randn(1, 2, dtype=torch.float64), torch.randn(1, 3, dtype=torch.float64)
    z = preactivations(x, h, p)
    assert z.shape == (1, 12)
    zi = x @ p["weight_ih"][:3].T + p["bias_ih"][:3] + h @ p["weight_hh"][:3].T + p["bias_hh"][:3]
    torch.testing.assert_close(z[:, :3], zi)


def test_cell_params_keys_and_detached():
    params = cell_params(_cell(2, 3, torch.float32))
    assert tuple(params) == KEYS
    assert not any(t.requires_grad for t in params.values())
    assert params["weight_ih"].shape == (12, 2) and params["weight_hh"].shape == (12, 3)


def test_errors_are_clear():
    cell = _cell(2, 3, torch.float64)
    p = cell_params(cell)
    with pytest.raises(TypeError, match="cell must be a torch.nn.LSTMCell, got GRUCell"):
        cell_params(nn.GRUCell(2, 3))
    with pytest.raises(ValueError, match=r"x must have shape \(B, D\) = \(B, 2\)"):
        lstm_step(torch.zeros(1, 5, dtype=torch.float64), (torch.zeros(1, 3),) * 2, p)
    with pytest.raises(ValueError, match="h_prev"):
        lstm_step(torch.zeros(1, 2, dtype=torch.float64), (torch.zeros(1, 4), torch.zeros(1, 3)), p)
    with pytest.raises(ValueError, match="c_prev"):
        lstm_step(
            torch.zeros(1, 2, dtype=torch.float64),
            (torch.zeros(1, 3, dtype=torch.float64), torch.zeros(1, 4)),
            p,
        )
    with pytest.raises(ValueError, match="lacks"):
        lstm_step(torch.zeros(1, 2), (torch.zeros(1, 3),) * 2, {"weight_ih": p["weight_ih"]})
    with pytest.raises(ValueError, match="weight_ch"):
        step_cell_feeds_gates(
            torch.zeros(1, 2, dtype=torch.float64),
            (torch.zeros(1, 3, dtype=torch.float64),) * 2,
            p,
            weight_ch=torch.zeros(3, 3, dtype=torch.float64),
        )
    with pytest.raises(ValueError, match="batch_size must be an int >= 1, got 0$"):
        max_abs_difference(lstm_step, cell, batch_size=0)
    with pytest.raises(TypeError, match=r"batch_size must be an int >= 1, got 2.0 \(float\)"):
        max_abs_difference(lstm_step, cell, batch_size=2.0)
    with pytest.raises(TypeError, match="step must be a function"):
        max_abs_difference("lstm_step", cell)
