"""DropoutLSTM: a plain LSTM in eval mode, one mask per sequence for all steps in training."""

import re

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from lstm_course.layers import RecurrentBase, embedding_dropout, locked_dropout
from lstm_course.layers.dropout import (
    DropoutLSTM,
    dropout_lstm_layer,
    dropout_mask,
    step_masks,
)
from lstm_course.layers.functional import lstm_cell

D, H, T, B = 5, 4, 7, 3


def _pair(batch_first=False, **kw):
    torch.manual_seed(0)
    ours = DropoutLSTM(D, H, batch_first=batch_first, **kw).double()
    ref = nn.LSTM(D, H, batch_first=batch_first).double()
    ref.load_state_dict(ours.state_dict())
    return ours, ref


@pytest.mark.parametrize("batch_first", [False, True])
def test_no_dropout_matches_nn_lstm(batch_first):
    ours, ref = _pair(batch_first)
    x = torch.randn((B, T, D) if batch_first else (T, B, D), dtype=torch.float64)
    h0, c0 = torch.randn(1, B, H, dtype=torch.float64), torch.randn(1, B, H, dtype=torch.float64)
    (y1, (h1, c1)), (y2, (h2, c2)) = ours(x, (h0, c0)), ref(x, (h0, c0))
    assert y1.shape == y2.shape and h1.shape == h2.shape == (1, B, H)
    for a, b in ((y1, y2), (h1, h2), (c1, c2)):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_eval_mode_with_dropout_matches_nn_lstm_and_parameter_names():
    ours, ref = _pair(dropout=0.5, recurrent_dropout=0.5)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]
    ours.eval()
    x = torch.randn(T, B, D, dtype=torch.float64)
    torch.testing.assert_close(ours(x)[0], ref(x)[0], rtol=1e-12, atol=1e-12)
    ours.train()
    assert not torch.allclose(ours(x)[0], ref(x)[0])  # training mode does drop


def test_training_uses_the_sampled_masks_at_every_step():
    ours, _ = _pair(dropout=0.3, recurrent_dropout=0.4)
    x = torch.randn(T, B, D, dtype=torch.float64)
    y, _ = ours(x)
    m_x, m_h = ours.last_masks
    assert m_x.shape == (B, D) and m_h.shape == (B, H)
    assert set(m_x.unique().tolist()) <= {0.0, 1 / 0.7} and set(m_h.unique().tolist()) <= {
        0.0,
        1 / 0.6,
    }
    # Recompute by hand, masking x_t and h_{t-1} with the same masks at every step.
    w_ih, w_hh = ours.weight_ih_l0, ours.weight_hh_l0
    bias = ours.bias_ih_l0 + ours.bias_hh_l0
    h = c = torch.zeros(B, H, dtype=torch.float64)
    for t in range(T):
        i, f, g, o = ((x[t] * m_x) @ w_ih.T + (h * m_h) @ w_hh.T + bias).chunk(4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        torch.testing.assert_close(y[t], h)


def test_input_mask_is_constant_over_time_seen_from_outside():
    # A dropped input feature of a sequence gets zero gradient at *every* step, and a
    # kept one at none: the zero pattern of dL/dx is the same for all t.
    torch.manual_seed(1)
    lstm = DropoutLSTM(50, 8, dropout=0.5)
    x = torch.randn(20, 6, 50, requires_grad=True)
    lstm(x)[0].sum().backward()
    dropped = x.grad == 0  # (T, B, D)
    assert (dropped == dropped[0]).all()
    assert 0.3 < dropped[0].float().mean() < 0.7


def test_recurrent_mask_drops_features_of_the_previous_state():
    torch.manual_seed(2)
    lstm = DropoutLSTM(3, 40, recurrent_dropout=0.5)
    h0 = torch.randn(1, 4, 40, requires_grad=True)
    lstm(torch.randn(6, 4, 3), (h0, torch.zeros(1, 4, 40)))[0].sum().backward()
    m_h = lstm.last_masks[1]
    assert ((h0.grad[0] == 0) == (m_h == 0)).all() and (m_h == 0).any()


def test_gradients_reach_every_parameter():
    lstm = DropoutLSTM(D, H, dropout=0.2, recurrent_dropout=0.2, batch_first=True)
    lstm(torch.randn(B, T, D))[0].pow(2).sum().backward()
    for name, p in lstm.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_built_on_recurrent_base_like_a_one_layer_nn_lstm():
    torch.manual_seed(0)
    ours = DropoutLSTM(D, H, dropout=0.5, bias=False, dtype=torch.float64).eval()
    assert isinstance(ours, RecurrentBase) and ours.weight_ih_l0.dtype == torch.float64
    ref = nn.LSTM(D, H, bias=False, dtype=torch.float64)
    ref.load_state_dict(ours.state_dict())
    assert list(ours.state_dict()) == ["weight_ih_l0", "weight_hh_l0"]
    x = torch.randn(T, D, dtype=torch.float64)  # one unbatched sequence, as nn.LSTM takes
    for a, b in zip(ours(x)[1], ref(x)[1], strict=True):
        assert a.shape == (1, H)
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    assert repr(DropoutLSTM(4, 3, 0.2, 0.1, batch_first=True)) == (
        "DropoutLSTM(4, 3, dropout=0.2, recurrent_dropout=0.1, batch_first=True)"
    )


def test_locked_and_embedding_dropout_live_here():
    from lstm_course.experiments import regularization

    assert regularization.locked_dropout is locked_dropout
    assert regularization.embedding_dropout is embedding_dropout
    x = torch.ones(5, 3, 8)
    y = locked_dropout(x, 0.5, generator=torch.Generator().manual_seed(0))
    assert torch.equal(y, y[:1].expand_as(y)) and (y == 0).any()
    with pytest.raises(ValueError, match=re.escape("p must be a probability in [0, 1)")):
        embedding_dropout(torch.ones(4, 2), 1.0)
    with pytest.raises(TypeError, match="p must be a probability .*, got None"):
        locked_dropout(x, None)


def test_dropout_mask_rate_and_scale():
    m = dropout_mask(0.25, (200, 200), torch.empty(0), torch.Generator().manual_seed(0))
    assert abs((m == 0).float().mean().item() - 0.25) < 0.02
    assert torch.allclose(m[m > 0], torch.tensor(1 / 0.75))


def _held_cell_state(masks, n):
    """c_T of n LSTM units that hold their value (f = 1, i = 0) from c_0 = 1, mask t on c_{t-1}."""
    x_proj = torch.tensor([-30.0, 30.0, 0.0, 0.0], dtype=torch.float64).expand(n, 4)
    h, c = torch.zeros(n, 1, dtype=torch.float64), torch.ones(n, 1, dtype=torch.float64)
    for mask in masks:
        h, c = lstm_cell(x_proj, h, c * mask, torch.zeros(4, 1, dtype=torch.float64))
    return c


def test_one_mask_per_sequence_on_a_carried_state_is_scaled_once():
    p, T, n = 0.25, 20, 4000
    like = torch.empty(0, dtype=torch.float64)
    masks = step_masks(
        p, (n, 1), like, T, scale_once=True, generator=torch.Generator().manual_seed(0)
    )
    assert len(masks) == T
    assert set(masks[0].unique().tolist()) <= {0.0, 1 / (1 - p)}
    assert all(torch.equal(m, (masks[0] != 0).double()) for m in masks[1:])  # 0/1 after
    c = _held_cell_state(masks, n)
    kept = c[c != 0]
    # kept values end at c_0 / (1 - p), not c_0 / (1 - p)^T
    torch.testing.assert_close(kept, torch.full_like(kept, 1 / (1 - p)))
    assert abs(kept.numel() / n - (1 - p)) < 0.03
    # the same scaled mask at every step compounds: what scale_once avoids
    scaled = step_masks(p, (n, 1), like, T, generator=torch.Generator().manual_seed(0))
    assert all(m is scaled[0] for m in scaled)
    grown = _held_cell_state(scaled, n)
    torch.testing.assert_close(grown[grown != 0], kept * (1 - p) ** (1 - T))


def test_a_fresh_mask_every_step_keeps_a_held_value_with_probability_q_to_the_t():
    p, T, n = 0.5, 4, 20_000
    like = torch.empty(0, dtype=torch.float64)
    masks = step_masks(
        p, (n, 1), like, T, per_step=True, generator=torch.Generator().manual_seed(1)
    )
    assert not torch.equal(masks[0], masks[1])
    c = _held_cell_state(masks, n)
    kept = c[c != 0]
    torch.testing.assert_close(kept, torch.full_like(kept, (1 - p) ** -T))
    assert abs(kept.numel() / n - (1 - p) ** T) < 0.01
    assert step_masks(p, (2, 3), like, 0) == []


def test_step_masks_rejects_scale_once_with_per_step_and_bad_steps():
    like = torch.empty(0)
    with pytest.raises(ValueError, match="scale_once is for one mask per sequence"):
        step_masks(0.5, (2, 3), like, 4, per_step=True, scale_once=True)
    with pytest.raises(ValueError, match="steps must be an int >= 0"):
        step_masks(0.5, (2, 3), like, -1)
    with pytest.raises(TypeError, match="per_step must be True or False"):
        step_masks(0.5, (2, 3), like, 4, per_step=1)


def test_layer_function_without_masks_is_a_plain_lstm():
    ours, ref = _pair()
    x = torch.randn(T, B, D, dtype=torch.float64)
    h = torch.zeros(B, H, dtype=torch.float64)
    y, _ = dropout_lstm_layer(
        x, h, h, ours.weight_ih_l0, ours.weight_hh_l0, ours.bias_ih_l0 + ours.bias_hh_l0
    )
    torch.testing.assert_close(y, ref(x)[0])


@pytest.mark.parametrize(
    "kwargs, kind, match",
    [
        ({"dropout": 1.0}, ValueError, r"dropout must be a probability in \[0, 1\) \(1 would"),
        ({"recurrent_dropout": -0.1}, ValueError, "recurrent_dropout must be a probability"),
        ({"dropout": True}, TypeError, r"dropout must be a probability .*, got True \(bool\)"),
        ({"batch_first": 1}, TypeError, "batch_first must be True or False, got 1"),
        ({"bias": None}, TypeError, "bias must be True or False, got None"),
    ],
)
def test_bad_arguments_raise(kwargs, kind, match):
    with pytest.raises(kind, match=match):
        DropoutLSTM(D, H, **kwargs)


def test_bad_sizes_and_inputs_raise():
    with pytest.raises(ValueError, match="hidden_size must be an int >= 1, got 0"):
        DropoutLSTM(D, 0)
    lstm = DropoutLSTM(D, H)
    with pytest.raises(ValueError, match=re.escape(f"got 4-D shape (1, {T}, {B}, {D})")):
        lstm(torch.randn(1, T, B, D))
    with pytest.raises(RuntimeError, match="input_size = 5"):
        lstm(torch.randn(T, B, D + 1))
    with pytest.raises(RuntimeError, match="hx and cx should also be 3-D but got"):
        lstm(torch.randn(T, B, D), (torch.zeros(B, H), torch.zeros(B, H)))
    with pytest.raises(TypeError, match="hx must be None or a pair"):
        lstm(torch.randn(T, B, D), torch.zeros(1, B, H))
    with pytest.raises(TypeError, match="not a PackedSequence: pad in front"):
        lstm(pack_padded_sequence(torch.randn(T, B, D), [T] * B))
