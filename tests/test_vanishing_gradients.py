import numpy as np
import pytest
import torch
from torch import nn

from lstm_course.experiments.vanishing_gradients import gradient_norms_by_lag, unroll

T, B, D, H = 5, 3, 4, 6


def _x(seed=0, t=T):
    return torch.randn(t, B, D, generator=torch.Generator().manual_seed(seed))


# --- unroll ---------------------------------------------------------------------------


def test_unroll_rnn_cell():
    torch.manual_seed(0)
    cell = nn.RNNCell(D, H)
    x = _x()
    hs, cs = unroll(cell, x)
    assert cs is None
    assert len(hs) == T
    assert all(h.shape == (B, H) for h in hs)
    # Same as stepping the cell by hand from a zero state.
    h = torch.zeros(B, H)
    for t in range(T):
        h = cell(x[t], h)
        torch.testing.assert_close(hs[t], h)


def test_unroll_lstm_cell():
    torch.manual_seed(0)
    cell = nn.LSTMCell(D, H)
    x = _x()
    hs, cs = unroll(cell, x)
    assert isinstance(hs, list) and isinstance(cs, list)
    assert len(hs) == T and len(cs) == T
    assert all(h.shape == (B, H) for h in hs)
    assert all(c.shape == (B, H) for c in cs)
    h = c = torch.zeros(B, H)
    for t in range(T):
        h, c = cell(x[t], (h, c))
        torch.testing.assert_close(hs[t], h)
        torch.testing.assert_close(cs[t], c)


def test_unroll_gru_cell_with_initial_state():
    torch.manual_seed(0)
    cell = nn.GRUCell(D, H)
    x = _x()
    h0 = torch.randn(B, H, generator=torch.Generator().manual_seed(1))
    hs, cs = unroll(cell, x, h0)
    assert cs is None
    torch.testing.assert_close(hs[0], cell(x[0], h0))
    # A different start gives a different first state.
    hs_zero, _ = unroll(cell, x)
    assert not torch.allclose(hs[0], hs_zero[0])


def test_unroll_lstm_matches_nn_lstm():
    torch.manual_seed(0)
    layer = nn.LSTM(D, H)
    cell = nn.LSTMCell(D, H)
    with torch.no_grad():
        cell.weight_ih.copy_(layer.weight_ih_l0)
        cell.weight_hh.copy_(layer.weight_hh_l0)
        cell.bias_ih.copy_(layer.bias_ih_l0)
        cell.bias_hh.copy_(layer.bias_hh_l0)
    x = _x()
    hs, cs = unroll(cell, x)
    out, (h_n, c_n) = layer(x)
    torch.testing.assert_close(torch.stack(hs), out)
    torch.testing.assert_close(cs[-1], c_n[0])


@pytest.mark.parametrize("shape", [(T, D), (D,), (T, B, D, 1)])
def test_unroll_rejects_bad_shape(shape):
    cell = nn.RNNCell(D, H)
    with pytest.raises(ValueError, match=r"\(T, B, D\)"):
        unroll(cell, torch.zeros(shape))


# --- gradient_norms_by_lag ------------------------------------------------------------


def _orthogonal(n, seed=0):
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64))
    return q


def _linear_recurrence(rho, steps=6, n=4, batch=2, seed=0):
    """h_t = h_{t-1} W + x_t with W = rho * Q; loss = sum(h_T * v)."""
    g = torch.Generator().manual_seed(seed)
    w = rho * _orthogonal(n, seed)
    x = torch.randn(steps, batch, n, generator=g, dtype=torch.float64)
    h = torch.zeros(batch, n, dtype=torch.float64, requires_grad=True)
    states = []
    for t in range(steps):
        h = h @ w + x[t]
        states.append(h)
    v = torch.randn(n, generator=g, dtype=torch.float64)
    loss = (states[-1] * v).sum()
    return loss, states, v


@pytest.mark.parametrize("rho", [0.5, 1.0, 1.7])
def test_gradient_norms_linear_recurrence(rho):
    steps = 6
    loss, states, v = _linear_recurrence(rho, steps=steps)
    norms = gradient_norms_by_lag(loss, states)
    assert isinstance(norms, np.ndarray)
    assert norms.shape == (steps,)
    # k = 0 is the last state: dL/dh_T = v for every row of the batch.
    np.testing.assert_allclose(norms[0], v.norm().item(), rtol=1e-12)
    np.testing.assert_allclose(norms / norms[0], rho ** np.arange(steps), rtol=1e-10)


def test_gradient_norms_ordering_by_lag():
    # Only the first state matters: lag T-1 has the gradient, lag 0 has none.
    a = torch.ones(2, 3, requires_grad=True)
    b = torch.ones(2, 3, requires_grad=True)
    c = torch.ones(2, 3, requires_grad=True)
    loss = (5.0 * a).sum() + (2.0 * c).sum() + 0.0 * b.sum()
    norms = gradient_norms_by_lag(loss, [a, b, c])
    # Per row: ||(2, 2, 2)|| for c (last, lag 0), 0 for b, ||(5, 5, 5)|| for a (lag 2).
    np.testing.assert_allclose(norms, [2 * np.sqrt(3), 0.0, 5 * np.sqrt(3)], rtol=1e-6)


def test_gradient_norms_batch_mean():
    s = torch.zeros(2, 2, requires_grad=True)
    weights = torch.tensor([[3.0, 4.0], [0.0, 1.0]])  # row norms 5 and 1
    loss = (s * weights).sum()
    norms = gradient_norms_by_lag(loss, [s])
    np.testing.assert_allclose(norms, [3.0])


def test_gradient_norms_unused_state_is_zero():
    used = torch.randn(2, 3, requires_grad=True)
    unused = torch.randn(2, 3, requires_grad=True)
    loss = (used**2).sum()
    norms = gradient_norms_by_lag(loss, [unused, used])
    assert norms[1] == 0.0  # the unused state is the first one, at lag 1
    assert norms[0] > 0.0


def test_gradient_norms_with_unrolled_lstm():
    torch.manual_seed(0)
    cell = nn.LSTMCell(D, H)
    hs, cs = unroll(cell, _x())
    loss = hs[-1].sum()
    norms = gradient_norms_by_lag(loss, cs)
    assert norms.shape == (T,)
    assert np.all(np.isfinite(norms))
    assert np.all(norms > 0)


def test_gradient_norms_rejects_non_scalar_loss():
    s = torch.ones(2, 3, requires_grad=True)
    with pytest.raises(ValueError, match="scalar"):
        gradient_norms_by_lag(s * 2, [s])


def test_gradient_norms_rejects_empty_states():
    s = torch.ones(2, 3, requires_grad=True)
    with pytest.raises(ValueError, match="empty"):
        gradient_norms_by_lag(s.sum(), [])
