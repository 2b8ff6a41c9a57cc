import inspect
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

from lstm_course.layers.functional import gru_cell, gru_layer
from lstm_course.layers.rnn import GRU, LSTM

F64 = torch.float64
FLAGS = list(itertools.product([1, 2, 3], [False, True], [False, True], [False, True]))


def _pair(seed, dtype=F64, **kw):
    """nn.GRU and ours with the same parameters; odd seeds copy ours into nn.GRU."""
    torch.manual_seed(seed)
    ref, ours = nn.GRU(dtype=dtype, **kw), GRU(dtype=dtype, **kw)
    if seed % 2:
        ref.load_state_dict(ours.state_dict())
    else:
        ours.load_state_dict(ref.state_dict())
    return ref, ours


def _run(model, x, h0, weights):
    """Forward, backward of a weighted sum of output and h_n; all results flat."""
    x = x.detach().clone().requires_grad_()
    h0 = None if h0 is None else h0.detach().clone().requires_grad_()
    model.zero_grad()
    out, h = model(x, h0)
    ((out * weights[0]).sum() + (h * weights[1]).sum()).backward()
    res = {"output": out, "h_n": h, "dx": x.grad}
    if h0 is not None:
        res["dh0"] = h0.grad
    return res | {f"d{n}": p.grad for n, p in model.named_parameters()}


@pytest.mark.parametrize("num_layers, bidirectional, batch_first, bias", FLAGS)
def test_drop_in_parity_forward_and_gradients(num_layers, bidirectional, batch_first, bias):
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
    )
    x = torch.randn((B, T, D) if batch_first else (T, B, D), dtype=F64)
    n = num_layers * (2 if bidirectional else 1)
    h0 = None if seed % 3 == 0 else torch.randn(n, B, H, dtype=F64)
    out_shape = (B, T, H * n // num_layers) if batch_first else (T, B, H * n // num_layers)
    weights = [torch.randn(out_shape, dtype=F64), torch.randn(n, B, H, dtype=F64)]
    assert_same(_run(ref, x, h0, weights), _run(ours, x, h0, weights), 1e-10)


def test_gru_cell_is_one_step_of_nn_grucell():
    torch.manual_seed(0)
    cell = nn.GRUCell(3, 4, dtype=F64)
    with torch.no_grad():  # large b_hn: a bias summed outside r's product would show
        cell.bias_hh[8:] += 3
    x, h = torch.randn(2, 3, dtype=F64), torch.randn(2, 4, dtype=F64)
    x_proj = x @ cell.weight_ih.T + cell.bias_ih
    torch.testing.assert_close(
        gru_cell(x_proj, h, cell.weight_hh, cell.bias_hh), cell(x, h), atol=1e-12, rtol=0
    )
    # without bias_hh the step is nn.GRUCell with zero recurrent bias
    with torch.no_grad():
        cell.bias_hh.zero_()
    torch.testing.assert_close(gru_cell(x_proj, h, cell.weight_hh), cell(x, h), atol=1e-12, rtol=0)


def test_gru_layer_masked_steps_keep_the_state():
    torch.manual_seed(0)
    x, h0 = torch.randn(4, 2, 3, dtype=F64), torch.randn(2, 5, dtype=F64)
    w_ih, w_hh = torch.randn(15, 3, dtype=F64), torch.randn(15, 5, dtype=F64)
    mask = torch.tensor([[1, 1], [1, 0], [0, 0], [0, 0]], dtype=torch.bool)[..., None]
    for reverse in (False, True):
        out, h = gru_layer(x, h0, w_ih, w_hh, reverse=reverse, mask=mask)
        # sequence 1 has one step: its final state is that step's, in either direction
        step, _ = gru_layer(x[:1, 1:], h0[1:], w_ih, w_hh)
        torch.testing.assert_close(h[1:], step[0], atol=1e-12, rtol=0)
        if not reverse:
            assert torch.equal(out[2:, 0], out[1:2, 0].expand(2, -1))


@pytest.mark.parametrize("bias", [False, True])
def test_same_parameter_names_shapes_and_order_and_state_dicts_load_both_ways(bias):
    kw = dict(input_size=3, hidden_size=5, num_layers=3, bidirectional=True, bias=bias)
    ref, ours = nn.GRU(**kw), GRU(**kw)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == [
        (n, p.shape) for n, p in ref.named_parameters()
    ]
    assert ours.weight_ih_l0.shape == (15, 3) and ours.weight_ih_l1_reverse.shape == (15, 10)
    ref.load_state_dict(ours.state_dict())  # strict both ways
    ours.load_state_dict(ref.state_dict())
    with pytest.raises(RuntimeError, match="size mismatch"):  # an LSTM's 4H rows do not fit
        ours.load_state_dict(LSTM(**kw).state_dict())


def test_init_is_uniform_in_plus_minus_one_over_sqrt_h():
    torch.manual_seed(0)
    model = GRU(10, 16, num_layers=2, bidirectional=True)
    values = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert values.abs().max() <= 0.25
    assert values.abs().max() > 0.249 and abs(values.mean()) < 0.01
    assert values.std().item() == pytest.approx(0.25 / 3**0.5, rel=0.05)


def test_extra_repr_matches_nn_gru():
    for kw in [
        {},
        dict(num_layers=2, bias=False, batch_first=True, dropout=0.5, bidirectional=True),
    ]:
        assert repr(GRU(3, 4, **kw)) == repr(nn.GRU(3, 4, **kw))
    assert GRU(3, 4).proj_size == 0


def test_dropout_eval_matches_and_train_drops_between_layers():
    ref, ours = _pair(0, input_size=3, hidden_size=4, num_layers=2, dropout=0.5)
    x = torch.randn(6, 2, 3, dtype=F64)
    ref.eval()
    ours.eval()
    torch.testing.assert_close(ours(x)[0], ref(x)[0], atol=1e-10, rtol=0)
    ours.train()
    assert not torch.allclose(ours(x)[0], ref(x)[0])
    for cls in (GRU, LSTM):  # GRU inherits RecurrentBase's __init__, LSTM wraps it
        with pytest.warns(UserWarning, match="num_layers=1") as caught:
            cls(3, 4, dropout=0.5)
        assert caught[0].filename == __file__  # the warning points at the caller's line


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
    x, h0 = torch.randn(5, 3, dtype=F64), torch.randn(n, 4, dtype=F64)
    weights = [torch.randn(5, 4 * n // 2, dtype=F64), torch.randn(n, 4, dtype=F64)]
    for state in (None, h0):
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
    weights = [torch.randn(4, 12, 32), torch.randn(4, 4, 16)]
    res = _run(ours, x, None, weights)
    assert all(v.dtype == torch.float32 for v in res.values())
    assert_same(_run(ref, x, None, weights), res, 1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_cuda_parity():
    ref, ours = _pair(4, input_size=3, hidden_size=4, num_layers=2, bidirectional=True)
    ref, ours = ref.cuda(), ours.cuda()
    x = torch.randn(5, 2, 3, dtype=F64, device="cuda")
    weights = [torch.randn(s, dtype=F64, device="cuda") for s in [(5, 2, 8), (4, 2, 4)]]
    assert_same(_run(ref, x, None, weights), _run(ours, x, None, weights), 1e-10)


@pytest.mark.parametrize("enforce_sorted, with_hx", [(False, True), (False, False), (True, True)])
def test_packed_sequence_parity(enforce_sorted, with_hx):
    ref, ours = _pair(5, input_size=3, hidden_size=4, num_layers=2, bidirectional=True)
    assert_packed_parity(ref, ours, enforce_sorted, with_hx, n_states=1)


def test_clear_errors_for_wrong_input():
    # nn.GRU's exception types and messages first, the course's after them.
    model = GRU(3, 4, num_layers=2)
    with error(
        "input.size(-1) must be equal to input_size. Expected 3, got 7; the input's last "
        "dimension must be input_size = 3, got shape (5, 2, 7)",
        RuntimeError,
    ):
        model(torch.randn(5, 2, 7))
    with error(
        "GRU: Expected input to be 2D or 3D, got 4D instead; input must have shape (T, B, D), "
        "or (T, D) for one unbatched sequence; got 4-D shape (1, 5, 2, 3)"
    ):
        model(torch.randn(1, 5, 2, 3))
    with error("RNN input dtype (torch.float64) does not match weight dtype (torch.float32)"):
        model(torch.randn(5, 2, 3, dtype=F64))
    with error(
        "Expected sequence length to be larger than 0 in RNN; the input has no", RuntimeError
    ):
        GRU(3, 4, batch_first=True)(torch.randn(2, 0, 3))


def test_clear_errors_for_wrong_hx():
    model = GRU(3, 4, num_layers=2, bidirectional=True)
    x, h = torch.randn(5, 2, 3), torch.zeros(4, 2, 4)
    with error(
        "hx must be None or one tensor h_0 of shape (num_layers * num_directions, "
        "B, H), got tuple: nn.GRU has no cell state",
        TypeError,
    ):
        model(x, (h, h))
    with error(
        "Expected hidden size (4, 2, 4), got [2, 2, 4]; h_0 is (num_layers * "
        "num_directions, B, H_out)",
        RuntimeError,
    ):
        model(x, torch.zeros(2, 2, 4))
    with error("For unbatched 2-D input, hx should also be 2-D but got 3-D tensor", RuntimeError):
        model(torch.randn(5, 3), h[:, :1])
    with error("h_0 is torch.float64 but the input is torch.float32", RuntimeError):
        model(x, h.double())


def test_clear_errors_in_constructor():
    with error("hidden_size must be greater than zero; hidden_size must be an int >= 1, got 0"):
        GRU(3, 0)
    with error("dropout should be a number in range [0, 1] representing the probability"):
        GRU(3, 4, num_layers=2, dropout=-0.1)
    with error("dropout must be a probability in [0, 1], got -0.1"):
        GRU(3, 4, num_layers=2, dropout=-0.1)
    with error(
        "bias should be of type bool, got: int; bias must be True or False, got 1", TypeError
    ):
        GRU(3, 4, bias=1)
    with error("hidden_size should be of type int, got: float", TypeError):
        GRU(3, 5.0)
    with error("proj_size argument is only supported for LSTM, not RNN or GRU"):
        GRU(3, 4, proj_size=2)
    with pytest.raises(TypeError):  # like nn.GRU, no projection and no hand-written backward
        GRU(3, 4, handwritten_backward=True)


def test_constructor_signatures_list_torchs_arguments():
    # nn.GRU's documented arguments; nn.LSTM's add proj_size, and ours handwritten_backward.
    common = ["input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout"]
    common.append("bidirectional")
    # GRU's **kwargs exists only to reject proj_size with nn.GRU's ValueError.
    assert list(inspect.signature(GRU).parameters) == [*common, "device", "dtype", "kwargs"]
    lstm = [*common, "proj_size", "device", "dtype", "handwritten_backward"]
    assert list(inspect.signature(LSTM).parameters) == lstm
    assert inspect.signature(LSTM).parameters["handwritten_backward"].kind.name == "KEYWORD_ONLY"


def test_constructor_errors_have_nn_grus_types():
    assert_same_constructor_errors(nn.GRU, GRU)
