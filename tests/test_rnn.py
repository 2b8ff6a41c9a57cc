import itertools
import random

import pytest
import torch
from recurrent_parity import (
    assert_packed_parity,
    assert_same,
    assert_same_constructor_errors,
    error,
)
from torch import nn

from lstm_course.layers.functional import lstm_cell
from lstm_course.layers.rnn import LSTM

F64 = torch.float64
FLAGS = list(itertools.product([1, 2, 3], [False, True], [False, True], [False, True]))


def _pair(seed, dtype=F64, handwritten_backward=False, **kw):
    """nn.LSTM and ours with the same parameters; odd seeds copy ours into nn.LSTM."""
    torch.manual_seed(seed)
    ref = nn.LSTM(dtype=dtype, **kw)
    ours = LSTM(dtype=dtype, handwritten_backward=handwritten_backward, **kw)
    if seed % 2:
        ref.load_state_dict(ours.state_dict())
    else:
        ours.load_state_dict(ref.state_dict())
    return ref, ours


def _run(model, x, hx, weights):
    """Forward, backward of a weighted sum of output and final state; all results flat."""
    x = x.detach().clone().requires_grad_()
    hx = None if hx is None else tuple(a.detach().clone().requires_grad_() for a in hx)
    model.zero_grad()
    out, (h, c) = model(x, hx)
    loss = sum((a * w).sum() for a, w in zip((out, h, c), weights, strict=True))
    loss.backward()
    res = {"output": out, "h_n": h, "c_n": c, "dx": x.grad}
    if hx is not None:
        res.update(dh0=hx[0].grad, dc0=hx[1].grad)
    return res | {f"d{n}": p.grad for n, p in model.named_parameters()}


@pytest.mark.parametrize("handwritten_backward", [False, True])
@pytest.mark.parametrize("num_layers, bidirectional, batch_first, bias", FLAGS)
def test_drop_in_parity_forward_and_gradients(
    num_layers, bidirectional, batch_first, bias, handwritten_backward
):
    seed = FLAGS.index((num_layers, bidirectional, batch_first, bias))
    rng = random.Random(seed)
    T, B = rng.choice([1, 2, 5]), rng.choice([1, 3])
    D, H = rng.randint(1, 4), rng.randint(1, 5)
    ref, ours = _pair(
        seed,
        input_size=D,
        hidden_size=H,
        num_layers=num_layers,
        bidirectional=bidirectional,
        batch_first=batch_first,
        bias=bias,
        handwritten_backward=handwritten_backward,
    )
    x = torch.randn((B, T, D) if batch_first else (T, B, D), dtype=F64)
    n = num_layers * (2 if bidirectional else 1)
    hx = (
        None
        if seed % 3 == 0
        else (torch.randn(n, B, H, dtype=F64), torch.randn(n, B, H, dtype=F64))
    )
    out_shape = (B, T, H * n // num_layers) if batch_first else (T, B, H * n // num_layers)
    weights = [torch.randn(s, dtype=F64) for s in (out_shape, (n, B, H), (n, B, H))]
    assert_same(_run(ref, x, hx, weights), _run(ours, x, hx, weights), 1e-10)


def test_all_sizes_one():
    ref, ours = _pair(0, input_size=1, hidden_size=1, num_layers=2, bidirectional=True)
    x = torch.randn(1, 1, 1, dtype=F64)
    weights = [
        torch.randn(1, 1, 2, dtype=F64),
        torch.randn(4, 1, 1, dtype=F64),
        torch.randn(4, 1, 1, dtype=F64),
    ]
    assert_same(_run(ref, x, None, weights), _run(ours, x, None, weights), 1e-10)


@pytest.mark.parametrize("bias", [False, True])
def test_same_parameter_names_shapes_and_order(bias):
    kw = dict(input_size=3, hidden_size=5, num_layers=3, bidirectional=True, bias=bias)
    ref, ours = nn.LSTM(**kw), LSTM(**kw)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == [
        (n, p.shape) for n, p in ref.named_parameters()
    ]
    assert list(ours.state_dict()) == list(ref.state_dict())
    ref.load_state_dict(ours.state_dict())  # strict both ways
    ours.load_state_dict(ref.state_dict())


def test_init_is_uniform_in_plus_minus_one_over_sqrt_h():
    torch.manual_seed(0)
    model = LSTM(10, 16, num_layers=2, bidirectional=True)
    values = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert values.abs().max() <= 0.25
    assert values.abs().max() > 0.249 and abs(values.mean()) < 0.01
    assert values.std().item() == pytest.approx(0.25 / 3**0.5, rel=0.05)


def test_extra_repr_matches_nn_lstm():
    for kw in [
        {},
        dict(num_layers=2, bias=False, batch_first=True, dropout=0.5, bidirectional=True),
    ]:
        assert repr(LSTM(3, 4, **kw)) == repr(nn.LSTM(3, 4, **kw))


def test_lstm_cell_is_one_step_of_nn_lstmcell():
    torch.manual_seed(0)
    cell = nn.LSTMCell(3, 4, dtype=F64)
    x, h, c = (
        torch.randn(2, 3, dtype=F64),
        torch.randn(2, 4, dtype=F64),
        torch.randn(2, 4, dtype=F64),
    )
    x_proj = x @ cell.weight_ih.T + cell.bias_ih + cell.bias_hh
    for a, b in zip(lstm_cell(x_proj, h, c, cell.weight_hh), cell(x, (h, c)), strict=True):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=0)


def test_dropout_eval_matches_nn_lstm_and_train_drops_between_layers():
    ref, ours = _pair(0, input_size=3, hidden_size=4, num_layers=2, dropout=0.5)
    x = torch.randn(6, 2, 3, dtype=F64)
    ref.eval()
    ours.eval()
    assert_same(
        _run(ref, x, None, [torch.ones(())] * 3), _run(ours, x, None, [torch.ones(())] * 3), 1e-10
    )
    ours.train()
    torch.manual_seed(1)
    out, _ = ours(x)
    assert not torch.allclose(out, ref(x)[0])
    # dropout=0 in training is the same function as eval
    ours.dropout = 0.0
    torch.testing.assert_close(ours(x)[0], ref(x)[0], atol=1e-10, rtol=0)


def test_dropout_never_touches_the_last_layer():
    with pytest.warns(UserWarning, match="num_layers=1"):
        ref, ours = _pair(0, input_size=3, hidden_size=4, dropout=0.9)
    ours.train()
    x = torch.randn(6, 2, 3, dtype=F64)
    torch.testing.assert_close(ours(x)[0], ref(x)[0], atol=1e-10, rtol=0)


@pytest.mark.parametrize("batch_first, bidirectional", [(False, False), (True, True)])
def test_unbatched_input(batch_first, bidirectional):
    ref, ours = _pair(
        2,
        input_size=3,
        hidden_size=4,
        num_layers=2,
        batch_first=batch_first,
        bidirectional=bidirectional,
    )
    n = 4 if bidirectional else 2
    x = torch.randn(5, 3, dtype=F64)
    hx = torch.randn(n, 4, dtype=F64), torch.randn(n, 4, dtype=F64)
    weights = [
        torch.randn(5, 4 * n // 2, dtype=F64),
        torch.randn(n, 4, dtype=F64),
        torch.randn(n, 4, dtype=F64),
    ]
    for state in (None, hx):
        assert_same(_run(ref, x, state, weights), _run(ours, x, state, weights), 1e-10)


def test_float32_parity():
    ref, ours = _pair(
        3,
        dtype=torch.float32,
        input_size=8,
        hidden_size=16,
        num_layers=2,
        bidirectional=True,
        batch_first=True,
    )
    x = torch.randn(4, 12, 8)
    weights = [torch.randn(4, 12, 32), torch.randn(4, 4, 16), torch.randn(4, 4, 16)]
    res = _run(ours, x, None, weights)
    assert all(v.dtype == torch.float32 for v in res.values())
    assert_same(_run(ref, x, None, weights), res, 1e-5)


def test_factory_kwargs_and_to():
    model = LSTM(3, 4, num_layers=2, dtype=F64, device="cpu")
    assert {p.dtype for p in model.parameters()} == {F64}
    meta = LSTM(3, 4, device="meta")
    assert {p.device.type for p in meta.parameters()} == {"meta"}
    model = model.to(torch.float32)
    assert model(torch.randn(5, 2, 3))[0].dtype == torch.float32


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_cuda_parity():
    ref, ours = _pair(4, input_size=3, hidden_size=4, num_layers=2, bidirectional=True)
    ref, ours = ref.cuda(), ours.cuda()
    x = torch.randn(5, 2, 3, dtype=F64, device="cuda")
    weights = [torch.randn(s, dtype=F64, device="cuda") for s in [(5, 2, 8), (4, 2, 4), (4, 2, 4)]]
    assert_same(_run(ref, x, None, weights), _run(ours, x, None, weights), 1e-10)


@pytest.mark.parametrize("enforce_sorted, with_hx", [(False, True), (False, False), (True, True)])
def test_packed_sequence_parity(enforce_sorted, with_hx):
    ref, ours = _pair(5, input_size=3, hidden_size=4, num_layers=2, bidirectional=True)
    assert_packed_parity(ref, ours, enforce_sorted, with_hx, n_states=2)


def test_clear_errors_for_wrong_input():
    model = LSTM(3, 4, num_layers=2)
    with error("input's last dimension must be input_size = 3, got shape (5, 2, 7)"):
        model(torch.randn(5, 2, 7))
    with error(
        "input must have shape (T, B, D), or (T, D) for one unbatched sequence; "
        "got 4-D shape (1, 5, 2, 3)"
    ):
        model(torch.randn(1, 5, 2, 3))
    with error("(B, T, D)"):
        LSTM(3, 4, batch_first=True)(torch.randn(3))
    with error("input is torch.float64 but the parameters are torch.float32"):
        model(torch.randn(5, 2, 3, dtype=F64))
    with error("no time steps"):
        model(torch.randn(0, 2, 3))
    with error(
        "input must be a tensor of shape (T, B, D) or a PackedSequence, got list", TypeError
    ):
        model([[1.0, 2.0, 3.0]])


def test_clear_errors_for_wrong_hx():
    model = LSTM(3, 4, num_layers=2, bidirectional=True)
    x, h = torch.randn(5, 2, 3), torch.zeros(4, 2, 4)
    with error(
        "c_0 must have shape (num_layers * num_directions, B, H) = (4, 2, 4), got (2, 2, 4)"
    ):
        model(x, (h, torch.zeros(2, 2, 4)))
    with error("h_0 must have shape (num_layers * num_directions, B, H) = (4, 2, 4), got (4, 4)"):
        model(x, (torch.zeros(4, 4), h))
    with error("h_0 must have shape (num_layers * num_directions, H) = (4, 4), got (4, 1, 4)"):
        model(torch.randn(5, 3), (h[:, :1], h[:, :1]))
    with error("hx must be None or a pair (h_0, c_0) of tensors, got Tensor", TypeError):
        model(x, h)
    with error("hx must be None or a pair (h_0, c_0) of tensors, got tuple"):
        model(x, (h, h, h))
    with error(
        "c_0 must have shape (num_layers * num_directions, B, H) = (4, 2, 4), got NoneType",
        TypeError,
    ):
        model(x, (h, None))
    with error("h_0 is torch.float64 but the input is torch.float32"):
        model(x, (h.double(), h))


def test_clear_errors_in_constructor():
    with pytest.raises(NotImplementedError, match="proj_size=2 is not supported"):
        LSTM(3, 4, proj_size=2)
    with error("hidden_size must be an int >= 1, got 0"):
        LSTM(3, 0)
    with error("num_layers must be an int >= 1, got 1.5 (float)", TypeError):
        LSTM(3, 4, num_layers=1.5)
    with error("dropout must be a probability in [0, 1], got 1.5"):
        LSTM(3, 4, num_layers=2, dropout=1.5)
    with error("dropout must be a probability in [0, 1], got True (bool)"):  # as nn.LSTM
        LSTM(3, 4, num_layers=2, dropout=True)
    with error("batch_first must be True or False, got 'yes' (str)", TypeError):
        LSTM(3, 4, batch_first="yes")
    LSTM(3, 4, num_layers=2, dropout=1)  # nn.LSTM takes p = 1 too


def test_constructor_errors_have_nn_lstms_types():
    assert_same_constructor_errors(nn.LSTM, LSTM)
