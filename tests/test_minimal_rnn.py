"""minGRU and minLSTM: the log-space scan equals the loop, gradients are right, bad
input is refused with a clear message."""

import math

import pytest
import torch

from lstm_course.layers.minimal_rnn import (
    MinGRU,
    MinLSTM,
    g,
    log_g,
    scan_doubling,
    scan_log,
    scan_loop,
)

f64 = torch.float64


def _terms(T=37, B=2, H=3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    a = torch.rand(T, B, H, generator=gen, dtype=f64) * 0.98 + 0.01
    b = torch.rand(T, B, H, generator=gen, dtype=f64) + 0.1
    h0 = torch.rand(B, H, generator=gen, dtype=f64) + 0.1
    return a, b, h0


def test_g_and_log_g():
    x = torch.linspace(-30, 30, 601, dtype=f64)
    assert (g(x) > 0).all()
    assert torch.allclose(torch.exp(log_g(x)), g(x), rtol=1e-12, atol=0)
    assert g(torch.tensor(0.0)).item() == 0.5 and g(torch.tensor(-1e-9)).item() == pytest.approx(
        0.5
    )
    assert torch.isfinite(log_g(torch.tensor(-200.0, dtype=f64)))  # no log(0)


def test_scan_loop_matches_formula():
    a, b, h0 = _terms(T=3)
    h = scan_loop(a, b, h0)
    expected = a[2] * (a[1] * (a[0] * h0 + b[0]) + b[1]) + b[2]
    assert torch.allclose(h[2], expected, rtol=1e-14, atol=0)


@pytest.mark.parametrize("with_h0", [True, False])
def test_scan_log_equals_loop_long(with_h0):
    a, b, h0 = _terms(T=3000)
    h0 = h0 if with_h0 else None
    log_h0 = None if h0 is None else h0.log()
    assert torch.allclose(
        scan_log(a.log(), b.log(), log_h0), scan_loop(a, b, h0), rtol=1e-9, atol=0
    )


@pytest.mark.parametrize("T", [1, 2, 5, 8, 9, 100])
def test_scan_doubling_equals_loop_any_sign(T):
    gen = torch.Generator().manual_seed(T)
    a, b, h0 = (torch.randn(*s, generator=gen, dtype=f64) for s in ((T, 2, 3), (T, 2, 3), (2, 3)))
    h, rounds = scan_doubling(0.9 * torch.tanh(a), b, h0)
    assert torch.allclose(h, scan_loop(0.9 * torch.tanh(a), b, h0), rtol=1e-10, atol=1e-12)
    assert rounds == (math.ceil(math.log2(T)) if T > 1 else 0)


@pytest.mark.parametrize("cls", [MinGRU, MinLSTM])
def test_parallel_equals_sequential(cls):
    torch.manual_seed(0)
    cell = cls(4, 5, dtype=f64)
    x = torch.randn(500, 3, 4, dtype=f64)
    h0 = g(torch.randn(3, 5, dtype=f64))
    for start in (None, h0):
        out_p, last_p = cell(x, start, parallel=True)
        out_s, last_s = cell(x, start, parallel=False)
        assert out_p.shape == (500, 3, 5) and last_p.shape == (3, 5)
        assert torch.allclose(out_p, out_s, rtol=1e-10, atol=1e-12)
        assert torch.equal(last_p, out_p[-1])


def test_mingru_one_step_by_hand():
    torch.manual_seed(1)
    cell = MinGRU(2, 3, dtype=f64)
    x, h0 = torch.randn(1, 1, 2, dtype=f64), torch.full((1, 3), 0.7, dtype=f64)
    k, pre = (x[0] @ cell.linear.weight.T + cell.linear.bias).chunk(2, dim=-1)
    z = torch.sigmoid(k)
    expected = (1 - z) * h0 + z * g(pre)
    assert torch.allclose(cell(x, h0)[1], expected, rtol=1e-13, atol=0)


def test_minlstm_gates_sum_to_one_and_parameter_count():
    cell = MinLSTM(4, 6)
    assert sum(p.numel() for p in cell.parameters()) == 3 * 6 * (4 + 1)
    assert sum(p.numel() for p in MinGRU(4, 6).parameters()) == 2 * 6 * (4 + 1)
    kf, ki, pre = torch.randn(3, 10, 2, 6, dtype=f64)
    log_f, log_ib = cell._log_terms(kf, ki, pre)
    log_i = log_ib - log_g(pre)
    assert torch.allclose(log_f.exp() + log_i.exp(), torch.ones_like(kf), atol=1e-14)


@pytest.mark.parametrize("cls", [MinGRU, MinLSTM])
def test_gradcheck_parallel(cls):
    torch.manual_seed(2)
    cell = cls(2, 3, dtype=f64)
    x = torch.randn(6, 2, 2, dtype=f64, requires_grad=True)
    h0 = torch.rand(2, 3, dtype=f64).add(0.2).requires_grad_()
    params = tuple(cell.parameters())

    def run(x, h0, *_):
        return cell(x, h0, parallel=True)[0]

    assert torch.autograd.gradcheck(run, (x, h0, *params))


def test_scan_gradients_match_loop():
    a, b, h0 = (t.requires_grad_() for t in _terms(T=50))
    grads_loop = torch.autograd.grad(scan_loop(a, b, h0).sum(), (a, b, h0))
    grads_log = torch.autograd.grad(scan_log(a.log(), b.log(), h0.log()).sum(), (a, b, h0))
    for gl, gp in zip(grads_loop, grads_log, strict=True):
        assert torch.allclose(gl, gp, rtol=1e-9, atol=1e-12)


def test_clear_errors():
    cell = MinGRU(3, 4)
    with pytest.raises(ValueError, match=r"x must be \(T, B, D\)"):
        cell(torch.randn(5, 3))
    with pytest.raises(ValueError, match="input_size = 3"):
        cell(torch.randn(5, 2, 7))
    with pytest.raises(ValueError, match="every entry > 0"):
        cell(torch.randn(5, 2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="input_size must be an int >= 1, got 0"):
        MinLSTM(0, 4)
    with pytest.raises(TypeError, match=r"hidden_size must be an int >= 1, got True \(bool\)"):
        MinGRU(3, True)
    with pytest.raises(ValueError, match="same shape"):
        scan_loop(torch.rand(4, 2, 3), torch.rand(4, 2, 2))
    with pytest.raises(ValueError, match="empty"):
        scan_log(torch.rand(0, 2, 3), torch.rand(0, 2, 3))
    with pytest.raises(ValueError, match=r"h0 must be \(B, H\)"):
        scan_doubling(torch.rand(4, 2, 3), torch.rand(4, 2, 3), torch.rand(3, 2))
