import re

import pytest
import torch
from torch import nn
from torch.func import functional_call

from lstm_course.layers.cells import (
    CIFGLSTMCell,
    LayerNormLSTMCell,
    LSTMCell,
    NoForgetGateLSTMCell,
    NoOutputActivationLSTMCell,
    PeepholeLSTMCell,
    RecurrentLayer,
)

F64 = torch.float64
CELLS = [
    LSTMCell,
    PeepholeLSTMCell,
    NoForgetGateLSTMCell,
    CIFGLSTMCell,
    NoOutputActivationLSTMCell,
    LayerNormLSTMCell,
]


def _inputs(B=3, D=4, H=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(B, n, generator=g, dtype=F64) for n in (D, H, H)]


def _randomize(cell, seed=0):
    """Random values in every parameter, including gains and biases that start at 1 or 0,
    so no term can hide behind a special value."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in cell.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype))
    return cell


@pytest.mark.parametrize("cls", CELLS)
def test_gradcheck_in_float64_inputs_state_and_parameters(cls):
    cell = _randomize(cls(3, 2, dtype=F64))
    names = [n for n, _ in cell.named_parameters()]

    def step(x, h, c, *params):
        return functional_call(cell, dict(zip(names, params, strict=True)), (x, (h, c)))

    args = [a.requires_grad_() for a in _inputs(B=2, D=3, H=2)]
    params = [p.detach().clone().requires_grad_() for p in cell.parameters()]
    assert torch.autograd.gradcheck(step, (*args, *params))


@pytest.mark.parametrize(
    "cls, rows",
    [
        (LSTMCell, 4),
        (PeepholeLSTMCell, 4),
        (NoForgetGateLSTMCell, 3),
        (CIFGLSTMCell, 3),
        (NoOutputActivationLSTMCell, 4),
        (LayerNormLSTMCell, 4),
    ],
)
def test_shapes_and_zero_state_default(cls, rows):
    cell = cls(4, 5, dtype=F64)
    assert cell.weight_ih.shape == (rows * 5, 4) and cell.weight_hh.shape == (rows * 5, 5)
    x, h, c = _inputs()
    h1, c1 = cell(x)
    assert h1.shape == c1.shape == (3, 5)
    zeros = torch.zeros(3, 5, dtype=F64)
    assert all(torch.equal(a, b) for a, b in zip((h1, c1), cell(x, (zeros, zeros)), strict=True))


def test_lstm_cell_equals_nn_lstmcell_with_copied_weights():
    ours = LSTMCell(4, 5, dtype=F64)
    ref = nn.LSTMCell(4, 5, dtype=F64)
    ref.load_state_dict(ours.state_dict())  # same names and shapes, strict
    x, h, c = _inputs()
    for a, b in zip(ours(x, (h, c)), ref(x, (h, c)), strict=True):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=0)
    ours.load_state_dict(nn.LSTMCell(4, 5, dtype=F64).state_dict())  # and back


def test_init_is_uniform_in_plus_minus_one_over_sqrt_h():
    torch.manual_seed(0)
    values = torch.cat([p.detach().flatten() for p in PeepholeLSTMCell(30, 16).parameters()])
    assert 0.249 < values.abs().max() <= 0.25
    assert values.std().item() == pytest.approx(0.25 / 3**0.5, rel=0.05)


def test_peephole_with_zero_peepholes_is_lstm_cell_and_peepholes_matter():
    peep, plain = PeepholeLSTMCell(4, 5, dtype=F64), LSTMCell(4, 5, dtype=F64)
    plain.load_state_dict(peep.state_dict(), strict=False)  # all but w_ci, w_cf, w_co
    x, h, c = _inputs()
    assert not torch.allclose(peep(x, (h, c))[0], plain(x, (h, c))[0])
    for name in ("w_ci", "w_cf", "w_co"):
        assert getattr(peep, name).shape == (5,)
        nn.init.zeros_(getattr(peep, name))
    for a, b in zip(peep(x, (h, c)), plain(x, (h, c)), strict=True):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=0)


def test_peephole_output_gate_sees_the_new_cell_state():
    cell = PeepholeLSTMCell(4, 5, dtype=F64)
    x, h, c = _inputs()
    (_, c_new), gates = cell.forward_with_gates(x, (h, c))
    zo = (x @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh)[:, 15:]
    torch.testing.assert_close(
        gates["o"], torch.sigmoid(zo + cell.w_co * c_new), atol=1e-12, rtol=0
    )


def test_no_forget_gate_cell_only_adds():
    cell = _randomize(NoForgetGateLSTMCell(4, 5, dtype=F64))
    x, h, c = _inputs()
    (_, c_new), gates = cell.forward_with_gates(x, (h, c))
    assert "f" not in gates and cell.weight_ih.shape == (15, 4)
    assert torch.equal(c_new, c + gates["i"] * gates["g"])  # the update, bit for bit
    torch.testing.assert_close(c_new - c, gates["i"] * gates["g"], atol=1e-15, rtol=0)


def test_no_forget_gate_cell_state_grows_without_bound_on_constant_input():
    # Positive input weights and input keep g > 0, so every step adds a positive i * g:
    # c grows linearly. The same weights with a forget gate (f < 1) keep c bounded.
    nfg, std = NoForgetGateLSTMCell(2, 3, dtype=F64), LSTMCell(2, 3, dtype=F64)
    with torch.no_grad():
        nfg.weight_ih.uniform_(0.5, 1.0)
        nfg.weight_hh.zero_()
        nfg.bias_ih.zero_()
        nfg.bias_hh.zero_()
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):  # rows i, g, o -> i, f, g, o
            src, dst = getattr(nfg, name), getattr(std, name)
            dst.copy_(torch.cat([src[:3], torch.zeros_like(src[:3]), src[3:]]))
    x = torch.ones(100, 1, 2, dtype=F64)
    c_nfg = RecurrentLayer(nfg)(x)[1][1]
    c_100 = RecurrentLayer(nfg)(torch.ones(200, 1, 2, dtype=F64))[1][1]
    assert (c_nfg > 50).all() and torch.allclose(c_100, 2 * c_nfg)
    c_std = RecurrentLayer(std)(x)[1][1]
    assert (c_std.abs() < 2).all()  # f = sigma(0) = 1/2: |c| <= max|i * g| / (1 - 1/2) < 2


def test_cifg_forget_gate_is_one_minus_input_gate():
    cell = _randomize(CIFGLSTMCell(4, 5, dtype=F64))
    x, h, c = _inputs()
    (_, c_new), gates = cell.forward_with_gates(x, (h, c))
    assert cell.weight_ih.shape == (15, 4) and cell.weight_hh.shape == (15, 5)
    assert torch.equal(gates["f"], 1 - gates["i"])
    torch.testing.assert_close(c_new, gates["f"] * c + gates["i"] * gates["g"], atol=1e-15, rtol=0)
    # convex mix: a state in [-1, 1] stays there, whatever the input
    _, (_, c_T) = RecurrentLayer(cell)(10 * torch.randn(50, 3, 4, dtype=F64))
    assert c_T.abs().max() <= 1


def test_no_output_activation_cell_outputs_o_times_c_unsquashed():
    noaf = _randomize(NoOutputActivationLSTMCell(4, 5, dtype=F64))
    plain = LSTMCell(4, 5, dtype=F64)
    plain.load_state_dict(noaf.state_dict())  # same names and shapes, strict
    x, h, _ = _inputs()
    c = 3 * torch.ones(3, 5, dtype=F64)  # a cell state beyond tanh's range
    (h_noaf, c_noaf), gates = noaf.forward_with_gates(x, (h, c))
    h_plain, c_plain = plain(x, (h, c))
    assert torch.equal(c_noaf, c_plain)  # the memory rule is the standard one, bit for bit
    assert torch.equal(h_noaf, gates["o"] * c_noaf)
    torch.testing.assert_close(h_plain, gates["o"] * torch.tanh(c_noaf), atol=1e-15, rtol=0)
    assert h_plain.abs().max() < 1 < h_noaf.abs().max()


def test_layer_norm_normalized_preactivations_have_mean_0_variance_1():
    cell = LayerNormLSTMCell(4, 5, eps=1e-12, dtype=F64)
    x, h, c = _inputs()
    (_, c_new), gates = cell.forward_with_gates(x, (h, c))
    raw = {
        "ih_normalized": x @ cell.weight_ih.T,
        "hh_normalized": h @ cell.weight_hh.T,
        "c_normalized": c_new,
    }
    for key, width in (("ih_normalized", 20), ("hh_normalized", 20), ("c_normalized", 5)):
        n = gates[key]
        assert n.shape == (3, width)  # per example, over all 4H gates (or H cell units)
        torch.testing.assert_close(n.mean(1), torch.zeros(3, dtype=F64), atol=1e-12, rtol=0)
        torch.testing.assert_close(
            n.var(1, unbiased=False), torch.ones(3, dtype=F64), atol=1e-9, rtol=0
        )
        a = raw[key]
        expected = (a - a.mean(1, keepdim=True)) / a.std(1, unbiased=False, keepdim=True)
        torch.testing.assert_close(n, expected, atol=1e-9, rtol=0)
    # With the default eps the variance is v / (v + eps), v the raw variance: 1 - O(eps/v).
    default = LayerNormLSTMCell(4, 5, dtype=F64)
    n = default.forward_with_gates(x, (h, c))[1]["ih_normalized"]
    v = (x @ default.weight_ih.T).var(1, unbiased=False)
    torch.testing.assert_close(n.var(1, unbiased=False), v / (v + 1e-5), atol=1e-12, rtol=0)
    # and they are what the gains and biases act on
    _randomize(cell)
    (h1, _), gates = cell.forward_with_gates(x, (h, c))
    z = (
        cell.gain_ih * gates["ih_normalized"]
        + cell.bias_ih
        + cell.gain_hh * gates["hh_normalized"]
        + cell.bias_hh
    )
    torch.testing.assert_close(gates["i"], torch.sigmoid(z[:, :5]), atol=1e-12, rtol=0)
    torch.testing.assert_close(
        h1,
        gates["o"] * torch.tanh(cell.gain_c * gates["c_normalized"] + cell.bias_c),
        atol=1e-12,
        rtol=0,
    )


@pytest.mark.parametrize("name", ["weight_ih", "weight_hh"])
def test_layer_norm_output_is_invariant_to_rescaling_weights(name):
    cell = _randomize(LayerNormLSTMCell(4, 5, eps=1e-12, dtype=F64))
    plain = _randomize(LSTMCell(4, 5, dtype=F64))
    x, h, c = _inputs()
    before, before_plain = cell(x, (h, c)), plain(x, (h, c))
    with torch.no_grad():
        getattr(cell, name).mul_(7.5)
        getattr(plain, name).mul_(7.5)
    for a, b in zip(cell(x, (h, c)), before, strict=True):
        torch.testing.assert_close(a, b, atol=1e-9, rtol=0)
    assert not torch.allclose(plain(x, (h, c))[0], before_plain[0], atol=1e-3)
    # with the default eps the invariance holds up to eps's share of the variance
    default = _randomize(LayerNormLSTMCell(4, 5, dtype=F64))
    before = default(x, (h, c))[0]
    with torch.no_grad():
        getattr(default, name).mul_(7.5)
    torch.testing.assert_close(default(x, (h, c))[0], before, atol=1e-4, rtol=0)


def test_layer_norm_cell_is_finite_from_a_zero_state():
    h, c = LayerNormLSTMCell(4, 5, dtype=F64)(_inputs()[0])  # W_hh h_0 = 0: variance 0
    assert torch.isfinite(h).all() and torch.isfinite(c).all()


@pytest.mark.parametrize("batch_first, with_state", [(False, True), (True, False)])
def test_recurrent_layer_with_lstm_cell_equals_nn_lstm(batch_first, with_state):
    cell = LSTMCell(4, 5, dtype=F64)
    ref = nn.LSTM(4, 5, batch_first=batch_first, dtype=F64)
    ref.load_state_dict({f"{k}_l0": v for k, v in cell.state_dict().items()})
    layer = RecurrentLayer(cell, batch_first=batch_first)
    x = torch.randn((3, 7, 4) if batch_first else (7, 3, 4), dtype=F64, requires_grad=True)
    h0, c0 = _inputs(seed=1)[1:]
    state = (h0, c0) if with_state else None
    out, (h, c) = layer(x, state)
    ref_out, (ref_h, ref_c) = ref(x, None if state is None else (h0[None], c0[None]))
    torch.testing.assert_close(out, ref_out, atol=1e-12, rtol=0)
    torch.testing.assert_close(h, ref_h[0], atol=1e-12, rtol=0)
    torch.testing.assert_close(c, ref_c[0], atol=1e-12, rtol=0)
    (dx,) = torch.autograd.grad(out.sum() + c.sum(), x)
    (ref_dx,) = torch.autograd.grad(ref_out.sum() + ref_c.sum(), x)
    torch.testing.assert_close(dx, ref_dx, atol=1e-12, rtol=0)


def test_recurrent_layer_runs_every_variant_and_nn_lstmcell():
    x = torch.randn(6, 2, 3, dtype=F64)
    for cell in [cls(3, 4, dtype=F64) for cls in CELLS] + [nn.LSTMCell(3, 4, dtype=F64)]:
        out, (h, c) = RecurrentLayer(cell)(x)
        assert out.shape == (6, 2, 4) and torch.equal(out[-1], h) and c.shape == (2, 4)


def _error(match, kind=ValueError):
    return pytest.raises(kind, match=re.escape(match))


@pytest.mark.parametrize("cls", CELLS)
def test_clear_errors_for_bad_sizes(cls):
    cell = cls(4, 5)
    with _error("takes one step x of shape (B, input_size) = (B, 4), got (3, 7)"):
        cell(torch.randn(3, 7))
    with _error("got (6, 3, 4); run a sequence with RecurrentLayer"):
        cell(torch.randn(6, 3, 4))
    with _error(
        "c must have shape (B, hidden_size) = (3, 5) to go with x of shape (3, 4), got (3, 4)"
    ):
        cell(torch.randn(3, 4), (torch.zeros(3, 5), torch.zeros(3, 4)))
    with _error("h must have shape (B, hidden_size) = (3, 5)"):
        cell(torch.randn(3, 4), (torch.zeros(2, 5), torch.zeros(3, 5)))
    with _error("state must be None or a pair (h, c) of tensors, got Tensor", TypeError):
        cell(torch.randn(3, 4), torch.zeros(3, 5))
    with _error("state must be None or a pair (h, c) of tensors, got tuple"):
        cell(torch.randn(3, 4), (torch.zeros(3, 5),))
    with _error("takes one step x of shape (B, input_size) = (B, 4), got list", TypeError):
        cell([[1.0] * 4])
    with _error("x is torch.float64 but the parameters are torch.float32"):
        cell(torch.randn(3, 4, dtype=F64))
    with _error("hidden_size must be an int >= 1, got 0"):
        cls(4, 0)
    with _error("input_size must be an int >= 1, got 4.0 (float)", TypeError):
        cls(4.0, 5)


def test_clear_errors_for_recurrent_layer_and_eps():
    layer = RecurrentLayer(LSTMCell(4, 5), batch_first=True)
    with _error("input must have shape (B, T, D) with D = input_size = 4, got (3, 4)"):
        layer(torch.randn(3, 4))
    with _error("no time steps"):
        layer(torch.randn(3, 0, 4))
    with _error("cell must be an nn.Module with input_size and hidden_size", TypeError):
        RecurrentLayer(nn.Linear(3, 4))
    with _error("batch_first must be True or False, got 1 (int)", TypeError):
        RecurrentLayer(LSTMCell(4, 5), batch_first=1)
    with _error(
        "eps must be a finite number > 0 (it keeps LN of an all-zero vector, such as "
        "W_hh h_0 for h_0 = 0, finite), got 0"
    ):
        LayerNormLSTMCell(4, 5, eps=0)
    with _error("eps must be a finite number > 0", TypeError):
        LayerNormLSTMCell(4, 5, eps="1e-5")
