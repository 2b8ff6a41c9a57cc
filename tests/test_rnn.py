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
from lstm_course.layers.rnn import GRU, LSTM

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
    # nn.LSTM's exception types and messages first, the course's after them.
    model = LSTM(3, 4, num_layers=2)
    with error(
        "input.size(-1) must be equal to input_size. Expected 3, got 7; the input's last "
        "dimension must be input_size = 3, got shape (5, 2, 7)",
        RuntimeError,
    ):
        model(torch.randn(5, 2, 7))
    with error(
        "LSTM: Expected input to be 2D or 3D, got 4D instead; input must have shape (T, B, D), "
        "or (T, D) for one unbatched sequence; got 4-D shape (1, 5, 2, 3)"
    ):
        model(torch.randn(1, 5, 2, 3))
    with error("(B, T, D)"):
        LSTM(3, 4, batch_first=True)(torch.randn(3))
    with error(
        "RNN input dtype (torch.float64) does not match weight dtype (torch.float32). "
        "Convert input: input.to(torch.float32), or convert model: model.to(torch.float64)"
    ):
        model(torch.randn(5, 2, 3, dtype=F64))
    with error("Expected sequence length to be larger than 0 in RNN", RuntimeError):
        model(torch.randn(0, 2, 3))
    with error(
        "input must be a tensor of shape (T, B, D) or (T, D), or a PackedSequence, got list",
        TypeError,
    ):
        model([[1.0, 2.0, 3.0]])


def test_clear_errors_for_wrong_hx():
    model = LSTM(3, 4, num_layers=2, bidirectional=True)
    x, h = torch.randn(5, 2, 3), torch.zeros(4, 2, 4)
    with error(
        "Expected hidden[1] size (4, 2, 4), got [2, 2, 4]; c_0 is (num_layers * "
        "num_directions, B, H)",
        RuntimeError,
    ):
        model(x, (h, torch.zeros(2, 2, 4)))
    with error(
        "For batched 3-D input, hx and cx should also be 3-D but got (2-D, 3-D) tensors",
        RuntimeError,
    ):
        model(x, (torch.zeros(4, 4), h))
    with error(
        "For unbatched 2-D input, hx and cx should also be 2-D but got (3-D, 3-D) tensors; "
        "unbatched input takes a state without a batch axis",
        RuntimeError,
    ):
        model(torch.randn(5, 3), (h[:, :1], h[:, :1]))
    with error("hx must be None or a pair (h_0, c_0) of tensors, got Tensor", TypeError):
        model(x, h)
    with error("lstm expects two hidden states, got 3", RuntimeError):
        model(x, (h, h, h))
    with error("c_0 must be a tensor, got NoneType", TypeError):
        model(x, (h, None))
    with error("h_0 is torch.float64 but the input is torch.float32", RuntimeError):
        model(x, (h.double(), h))


def test_clear_errors_in_constructor():
    with error("proj_size has to be smaller than hidden_size; got proj_size=4 >= hidden_size=4"):
        LSTM(3, 4, proj_size=4)
    with error("proj_size should be a positive integer or zero to disable projections"):
        LSTM(3, 4, proj_size=-1)
    with error("proj_size should be of type int, got: float", TypeError):
        LSTM(3, 4, proj_size=1.5)
    with error("hidden_size must be greater than zero; hidden_size must be an int >= 1, got 0"):
        LSTM(3, 0)
    with error(
        "num_layers should be of type int, got: float; num_layers must be an int", TypeError
    ):
        LSTM(3, 4, num_layers=1.5)
    with error("dropout must be a probability in [0, 1], got 1.5"):
        LSTM(3, 4, num_layers=2, dropout=1.5)
    with error("dropout must be a probability in [0, 1], got True (bool)"):  # as nn.LSTM
        LSTM(3, 4, num_layers=2, dropout=True)
    with error("batch_first should be of type bool, got: str; batch_first must be True", TypeError):
        LSTM(3, 4, batch_first="yes")
    LSTM(3, 4, num_layers=2, dropout=1)  # nn.LSTM takes p = 1 too


def test_constructor_errors_have_nn_lstms_types():
    assert_same_constructor_errors(nn.LSTM, LSTM)


@pytest.mark.parametrize(
    "num_layers, bidirectional, batch_first",
    [(1, False, False), (2, True, False), (3, True, True), (2, False, True)],
)
def test_proj_size_parity_forward_and_gradients(num_layers, bidirectional, batch_first):
    """nn.LSTM(proj_size=P) (Sak et al. 2014) in float64: outputs, states, gradients."""
    kw = dict(input_size=3, hidden_size=5, proj_size=2, num_layers=num_layers,
              bidirectional=bidirectional, batch_first=batch_first)  # fmt: skip
    ref, ours = _pair(7, **kw)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == [
        (n, p.shape) for n, p in ref.named_parameters()
    ]
    n, B, T = num_layers * (2 if bidirectional else 1), 3, 4
    x = torch.randn((B, T, 3) if batch_first else (T, B, 3), dtype=F64)
    hx = (torch.randn(n, B, 2, dtype=F64), torch.randn(n, B, 5, dtype=F64))
    out_shape = (B, T, 2 * n // num_layers) if batch_first else (T, B, 2 * n // num_layers)
    weights = [torch.randn(s, dtype=F64) for s in (out_shape, (n, B, 2), (n, B, 5))]
    for state in (None, hx):
        assert_same(_run(ref, x, state, weights), _run(ours, x, state, weights), 1e-10)


def test_rnnbase_api_and_state_dicts_both_ways():
    ours = LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2)
    ref = nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2)
    assert isinstance(ours, nn.RNNBase) and ours.mode == "LSTM" and GRU(3, 4).mode == "GRU"
    assert ours._flat_weights_names == ref._flat_weights_names
    assert ours._all_weights == ref._all_weights
    assert [[p.shape for p in ws] for ws in ours.all_weights] == [
        [p.shape for p in ws] for ws in ref.all_weights
    ]
    assert all(a is b for a, b in zip(ours._flat_weights, ours.parameters(), strict=True))
    ours.flatten_parameters()  # a no-op, documented
    ref.load_state_dict(ours.state_dict())
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(4, 2, 3)
    torch.testing.assert_close(ours(x)[0], ref(x)[0], atol=1e-6, rtol=0)
    h = torch.randn(4, 2, 2)
    assert torch.equal(ours.permute_hidden((h, h), torch.tensor([1, 0]))[0], h[:, [1, 0]])


@pytest.mark.parametrize("cls, ref_cls", [(LSTM, nn.LSTM), (GRU, nn.GRU)])
def test_autocast_dtype_and_empty_batch_as_torch(cls, ref_cls):
    torch.manual_seed(0)
    ref, ours = ref_cls(3, 4, num_layers=2), cls(3, 4, num_layers=2)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(5, 2, 3, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        (o_ref, h_ref), (o, h) = ref(x), ours(x)
    assert o.dtype == o_ref.dtype and _states(h)[0].dtype == _states(h_ref)[0].dtype
    torch.testing.assert_close(o.float(), o_ref.float(), atol=3e-2, rtol=0)
    o.float().sum().backward()  # gradients reach the float32 parameters
    assert ours.weight_ih_l0.grad.dtype == torch.float32
    for model in (ref, ours):
        out, _ = model(torch.zeros(5, 0, 3, requires_grad=True))
        assert out.shape == (5, 0, 4)
        out.sum().backward()


def _states(state):
    return state if isinstance(state, tuple) else (state,)


@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_batch_first_output_has_torchs_memory_layout(cls):
    """nn.LSTM/nn.GRU return batch_first output as a transposed view; code that draws
    randn_like(output) or checks strides sees the same layout on the drop-in."""
    ours_cls = {"LSTM": LSTM, "GRU": GRU}[cls]
    ref = getattr(nn, cls)(3, 4, batch_first=True)
    ours = ours_cls(3, 4, batch_first=True)
    x = torch.randn(2, 5, 3)
    assert ours(x)[0].stride() == ref(x)[0].stride()
