"""PyTorch's own RNN tests, adapted to run on torch's classes and on the course's.

Every test runs twice, parametrized by ``impl``: on ``torch.nn.LSTM`` / ``torch.nn.GRU``
("torch", which shows the adaptation still tests what torch's test tests) and on
``lstm_course.layers.LSTM`` / ``GRU`` ("course"). Each test names its source: a file of
pytorch/pytorch and the test in it. The adaptations change only what must change: the
class under test; nn.RNN (which the course does not implement) dropped from the loops;
``self.assertX`` written as ``assert`` / ``pytest.raises``; CUDA branches dropped.

Sources:
- ``test/test_nn.py``: the RNN tests of ``TestNN`` and ``TestNNDeviceType``;
- ``test/test_modules.py``: ``TestModule``'s tests, driven by the ``nn.LSTM`` and ``nn.GRU``
  entries of ``torch.testing._internal.common_modules.module_db`` (their
  ``module_inputs_func`` and ``module_error_inputs_func``, as installed with torch), on the
  CPU, in float32 and float64 (float64 only for ``test_grad``/``test_gradgrad``, as there),
  in training and eval mode.

Left out, and why:
- test_nn.py ``test_RNN_cpu_vs_cudnn_no_dropout``, ``test_RNN_cpu_vs_cudnn_with_dropout``,
  ``test_RNN_cudnn_weight_norm``, ``test_cudnn_weight_format``, ``test_cudnn_weight_tying``,
  ``test_cudnn_rnn_dropout_states_device``: cuDNN-specific (they test cuDNN's flat weight
  buffer and kernels, which the course's forward pass never calls);
- test_nn.py ``test_rnn_check_device``, ``test_projections_lstm_check_device``: need two GPUs;
  ``test_partial_flat_weights``: CUDA-only (it tests moving to CUDA with a weight missing);
- test_nn.py ``test_RNN_dropout``: nn.RNN with ReLU and all-ones weights, whose output it
  computes by hand; nn.LSTM/nn.GRU have no such closed form (dropout between layers is
  tested by ``test_RNN_dropout_state`` and ``test_RNN_change_dropout`` below);
- test_modules.py ``test_multiple_device_transfer``, ``test_cpu_gpu_parity``: CUDA-only;
  ``test_check_inplace``: only for modules with an ``inplace`` argument;
- the ``pack_sequence`` tests (test/nn/test_packed_sequence.py) test
  ``torch.nn.utils.rnn``, not the RNN modules; packed input to the modules is tested by
  ``test_variable_sequence`` below.

``torch.testing._internal.common_utils`` imports ``expecttest`` only for the base class of
torch's ``TestCase`` (its expect-file machinery, unused here); where the package is not
installed, a stub stands in, so that ``module_db`` can be imported. Importing it also
freezes ``torch.backends``' flags, which the file undoes (see below).
"""

import io
import pickle
import re
import sys
import tempfile
import types
import unittest
import warnings
from copy import deepcopy
from itertools import product

import pytest
import torch
import torch.nn.utils.rnn as rnn_utils
from torch import nn

from lstm_course.layers import GRU, LSTM

try:
    import expecttest  # noqa: F401
except ImportError:  # see the module docstring
    sys.modules["expecttest"] = types.SimpleNamespace(TestCase=unittest.TestCase)
from torch.testing._internal.common_modules import ModuleErrorEnum, module_db  # noqa: E402
from torch.testing._internal.common_utils import (  # noqa: E402
    freeze_rng_state,
    gradcheck,
    gradgradcheck,
)

# Importing common_utils freezes torch.backends' global flags (torch's own test runs set
# them through context managers only); other tests of the course set them directly, so
# they are unfrozen again: the state torch.backends starts in.
torch.backends.flags_frozen.__globals__["__allow_nonbracketed_mutation_flag"] = True
assert not torch.backends.flags_frozen()

CLASSES = {"torch": {"LSTM": nn.LSTM, "GRU": nn.GRU}, "course": {"LSTM": LSTM, "GRU": GRU}}
MODES = ("GRU", "LSTM")


@pytest.fixture(params=["torch", "course"])
def impl(request):
    """{"LSTM": cls, "GRU": cls} of the implementation under test."""
    return CLASSES[request.param]


def assert_equal(a, b, atol=None, rtol=None):
    """torch's TestCase.assertEqual for (nested) tensors and numbers."""
    torch.testing.assert_close(a, b, atol=atol, rtol=rtol, check_dtype=False)


# --- test/test_nn.py ------------------------------------------------------------------


def test_rnn_args_check(impl):
    """test/test_nn.py, TestNN.test_rnn_args_check (modes GRU, LSTM)."""
    input_size, hidden_size, num_layers, batch_size, seq_len, num_directions = 3, 5, 2, 4, 6, 1
    bad_size = 7
    correct_input_shape = (seq_len, batch_size, input_size)
    correct_hidden_shape = (num_layers * num_directions, batch_size, hidden_size)

    def update_shape(shape, dim, new_dim_size):
        new_shape = list(shape)
        new_shape[dim] = new_dim_size
        return tuple(new_shape)

    def get_inputs(input_shape, hidden_shape, mode):
        input, hidden = torch.randn(input_shape), torch.randn(hidden_shape)
        if mode != "LSTM":
            return [(input, hidden)]
        if hidden_shape == correct_hidden_shape:
            return [(input, (hidden, hidden))]
        good_hidden = torch.randn(correct_hidden_shape)
        return [(input, (hidden, good_hidden)), (input, (good_hidden, hidden))]

    def test(input_shape, hidden_shape, mode):
        for input, hidden in get_inputs(input_shape, hidden_shape, mode):
            model = impl[mode](input_size, hidden_size, num_layers)
            with pytest.raises(RuntimeError):
                model(input, hidden)

    for mode in MODES:
        test(update_shape(correct_input_shape, 1, bad_size), correct_hidden_shape, mode)
        test(correct_input_shape, update_shape(correct_hidden_shape, 1, bad_size), mode)
        test(update_shape(correct_input_shape, 2, bad_size), correct_hidden_shape, mode)
        test(correct_input_shape, update_shape(correct_hidden_shape, 2, bad_size), mode)
        test(correct_input_shape, update_shape(correct_hidden_shape, 0, bad_size), mode)


def test_projections_lstm_args_check(impl):
    """test/test_nn.py, TestNN.test_projections_lstm_args_check."""
    input_size, hidden_size, proj_size, num_layers, batch_size, seq_len = 3, 5, 2, 2, 4, 6
    bad_size = 7
    correct_input = (seq_len, batch_size, input_size)
    correct_h, correct_c = (
        (num_layers, batch_size, proj_size),
        (num_layers, batch_size, hidden_size),
    )

    def update_shape(shape, dim, new_dim_size):
        new_shape = list(shape)
        new_shape[dim] = new_dim_size
        return tuple(new_shape)

    def test(input_shape, h_shape, c_shape):
        model = impl["LSTM"](input_size, hidden_size, num_layers, proj_size=proj_size)
        with pytest.raises(RuntimeError):
            model(torch.randn(input_shape), (torch.randn(h_shape), torch.randn(c_shape)))

    test(update_shape(correct_input, 1, bad_size), correct_h, correct_c)
    test(correct_input, update_shape(correct_h, 1, bad_size), update_shape(correct_c, 1, bad_size))
    test(update_shape(correct_input, 2, bad_size), correct_h, correct_c)
    test(correct_input, update_shape(correct_h, 2, bad_size), update_shape(correct_c, 2, bad_size))
    test(correct_input, update_shape(correct_h, 0, bad_size), update_shape(correct_c, 0, bad_size))
    test(correct_input, update_shape(correct_h, 0, hidden_size), correct_c)
    test(correct_input, update_shape(correct_h, 0, bad_size), correct_c)
    test(correct_input, correct_h, update_shape(correct_c, 0, bad_size))


def test_rnn_initial_hidden_state(impl):
    """test/test_nn.py, TestNN.test_rnn_initial_hidden_state (modes GRU, LSTM)."""
    for mode in MODES:
        rnn = impl[mode](30, 20, 2)
        input, hidden = torch.randn(10, 32, 30), torch.zeros(2, 32, 20)
        if mode == "LSTM":
            hidden = (hidden, hidden)
        output1, hidden1 = rnn(input, hidden)
        output2, hidden2 = rnn(input)
        assert_equal(output1, output2)
        assert_equal(hidden1, hidden2)


def test_projections_lstm_initial_hidden_state(impl):
    """test/test_nn.py, TestNN.test_projections_lstm_initial_hidden_state."""
    for bidir in [False, True]:
        rnn = impl["LSTM"](30, 20, 2, bidirectional=bidir, proj_size=10)
        num_dirs = 2 if bidir else 1
        input = torch.randn(10, 32, 30)
        hidden = (torch.zeros(2 * num_dirs, 32, 10), torch.zeros(2 * num_dirs, 32, 20))
        output1, hidden1 = rnn(input, hidden)
        output2, hidden2 = rnn(input)
        assert_equal(output1, output2)
        assert_equal(hidden1, hidden2)


def test_projections_errors_on_gru_and_rnn(impl):
    """test/test_nn.py, TestNN.test_projections_errors_on_gru_and_rnn (GRU)."""
    error_msg = "proj_size argument is only supported for LSTM, not RNN or GRU"
    with pytest.raises(ValueError, match=error_msg):
        impl["GRU"](30, 20, 2, proj_size=10)


def test_cudnn_forward_exception(impl):
    """test/test_nn.py, TestNN.test_cudnn_forward_exception (runs on the CPU there too)."""
    rnns = [
        (impl["LSTM"](10, 20, batch_first=True), (torch.zeros(1, 2, 19), torch.zeros(1, 2, 19))),
        (
            impl["LSTM"](10, 20, batch_first=True, proj_size=10),
            (torch.zeros(1, 2, 19), torch.zeros(1, 2, 19)),
        ),
        (impl["GRU"](10, 20, batch_first=True), torch.zeros(1, 2, 19)),
    ]
    x_wrong, x_right = torch.randn(2, 3, 3), torch.randn(2, 3, 10)
    for rnn, hidden in rnns:
        with pytest.raises(RuntimeError, match="Expected hidden.*size.*got"):
            rnn(x_right, hidden)
        with pytest.raises(
            RuntimeError, match=re.escape("input.size(-1) must be equal to input_size")
        ):
            rnn(x_wrong)


def test_error_RNN_seq_len_zero(impl):
    """test/test_nn.py, TestNN.test_error_RNN_seq_len_zero (CPU; modules GRU, LSTM)."""
    for mode, bidirectional in product(MODES, [True, False]):
        rnn = impl[mode](5, 6, bidirectional=bidirectional).double()
        with pytest.raises(
            RuntimeError, match="Expected sequence length to be larger than 0 in RNN"
        ):
            rnn(torch.ones(0, 10, 5, dtype=torch.double))


def test_RNN_input_size_zero(impl):
    """test/test_nn.py, TestNN.test_RNN_input_size_zero (CPU; modules GRU, LSTM)."""
    for mode in MODES:
        rnn = impl[mode](input_size=3, hidden_size=4)
        outs = rnn(torch.zeros((5, 0, 3)))
        assert outs[0].shape == torch.Size([5, 0, 4])
        outs[0].sum().backward()  # backward does not cause a hard error


def test_RNN_dropout_state(impl):
    """test/test_nn.py, TestNN.test_RNN_dropout_state (CPU branch; GRU and LSTM in place of
    nn.RNN with ReLU)."""
    for mode, p, train in product(MODES, (0, 0.1234), (True, False)):
        rnn = impl[mode](100, 100, 2, bias=False, dropout=p)
        rnn.train(train)
        input, hx = torch.rand(1, 1, 100), torch.rand(2, 1, 100)
        hx = (hx, hx.clone()) if mode == "LSTM" else hx
        output1, hy1 = rnn(input, hx)
        output2, hy2 = rnn(input, hx)
        buf = io.BytesIO()
        torch.save(rnn, buf)
        buf.seek(0)
        rnn2 = torch.load(buf, weights_only=False)
        rnn2.flatten_parameters()
        output3, hy3 = rnn2(input, hx)
        if p == 0 or not train:
            assert_equal(output1, output2)
            assert_equal(output1, output3)
            assert_equal(hy1, hy2)
            assert_equal(hy1, hy3)
        else:
            assert not torch.equal(output1, output2)
            assert not torch.equal(output1, output3)


def test_RNN_change_dropout(impl):
    """test/test_nn.py, TestNN.test_RNN_change_dropout (CPU branch; GRU and LSTM in place
    of nn.RNN with ReLU)."""
    for mode, train in product(MODES, (True, False)):
        rnn = impl[mode](100, 100, 2, dropout=0).double()
        input = torch.rand(3, 2, 100, dtype=torch.double)
        rnn.train(train)
        prev_output = None
        for p in (0, 0.5, 0, 0.7, 0.2, 1, 0.2, 0):
            rnn.dropout = p
            output1, _ = rnn(input)
            output2, _ = rnn(input)
            if p == 0 or p == 1 or not train:
                assert_equal(output1, output2)
            else:
                assert not torch.equal(output1, output2)
            if prev_output is not None:
                if not train:
                    assert_equal(output1.data, prev_output)
                    assert_equal(output2.data, prev_output)
                else:
                    assert not torch.equal(output1.data, prev_output)
                    assert not torch.equal(output2.data, prev_output)
            prev_output = output1.data


def test_rnn_weight_norm(impl):
    """test/test_nn.py, TestNN.test_rnn_weight_norm."""

    def check_weight_norm(m, name, num_params):
        m = torch.nn.utils.weight_norm(m, name=name)
        assert sum(isinstance(p, torch.nn.Parameter) for p in m._flat_weights) == num_params - 1
        m = torch.nn.utils.remove_weight_norm(m, name=name)
        assert sum(isinstance(p, torch.nn.Parameter) for p in m._flat_weights) == num_params
        assert name in m._parameters and m._parameters[name] is not None
        assert name + "_v" not in m._parameters and name + "_g" not in m._parameters
        named = dict(m.named_parameters())
        assert name in named and named[name] is not None
        assert name + "_v" not in named and name + "_g" not in named

    check_weight_norm(impl["LSTM"](32, 32), "weight_ih_l0", 4)
    check_weight_norm(impl["LSTM"](32, 32, proj_size=16), "weight_hr_l0", 5)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("bias", [True, False])
def test_rnn_fused(impl, mode, bias):
    """test/test_nn.py, TestNNDeviceType.test_rnn_fused: there a CUDA module against the
    same module on the CPU; here the implementation under test against torch's, on the
    CPU, weights copied through ``all_weights``, in float64."""
    dtype = torch.double
    input_size, hidden_size, num_layers, seq_length, batch = 10, 6, 2, 7, 6
    input_val = torch.randn(seq_length, batch, input_size, dtype=dtype)
    grad_output = torch.randn(seq_length, batch, hidden_size, dtype=dtype)
    hx_val = torch.randn(num_layers, batch, hidden_size, dtype=dtype)
    grad_hy = torch.randn(num_layers, batch, hidden_size, dtype=dtype)
    rnn = CLASSES["torch"][mode](input_size, hidden_size, num_layers, bias=bias).to(dtype)
    rnn_device = impl[mode](input_size, hidden_size, num_layers, bias=bias).to(dtype)
    with torch.no_grad():
        for x_layer, y_layer in zip(rnn_device.all_weights, rnn.all_weights, strict=True):
            for x, y in zip(x_layer, y_layer, strict=True):
                x.copy_(y)
    is_lstm = mode == "LSTM"
    results = []
    for module in (rnn, rnn_device):
        hx = hx_val.clone().requires_grad_(True)
        if is_lstm:
            hx = (hx, hx_val.clone().add(1).requires_grad_(True))
        inp = input_val.clone().requires_grad_(True)
        output, hy = module(inp, hx)
        if is_lstm:
            torch.autograd.backward([output, hy[0], hy[1]], [grad_output, grad_hy, grad_hy + 1])
        else:
            torch.autograd.backward([output, hy], [grad_output, grad_hy])
        grads = [w.grad for layer in module.all_weights for w in layer]
        hx_grads = [h.grad for h in hx] if is_lstm else [hx.grad]
        results.append((output, hy, grads, inp.grad, hx_grads))
    for a, b in zip(*results, strict=True):
        assert_equal(a, b, atol=5e-5, rtol=0)


@pytest.mark.parametrize(
    "enforce_sorted, seq_lens",
    [
        (True, [5]),
        (False, [5]),
        (True, [10, 10, 6, 2, 2, 1, 1]),
        (False, [10, 10, 6, 2, 2, 1, 1]),
        (False, [2, 1, 3, 2, 10, 5, 3]),
    ],
)
def test_variable_sequence(impl, enforce_sorted, seq_lens):
    """test/test_nn.py, TestNNDeviceType.test_variable_sequence (CPU, float32)."""
    dtype, prec = torch.float, 1e-5

    def pad(var, length):
        if var.size(0) == length:
            return var
        return torch.cat([var, var.new_zeros(length - var.size(0), *var.size()[1:])])

    def maybe_index_tuple(maybe_tuple_of_tensors, index):
        if maybe_tuple_of_tensors is None:
            return None
        return tuple(t[:, index : index + 1, :].contiguous() for t in maybe_tuple_of_tensors)

    def check_lengths(lengths, enforce_sorted, use_default_hiddens, proj_size):
        input_size, hidden_size, num_layers, bidirectional = 3, 4, 2, True
        max_length = max(lengths)
        x_leaf = torch.randn(max_length, len(lengths), input_size, dtype=dtype, requires_grad=True)
        num_directions = 2
        lstm = impl["LSTM"](input_size, hidden_size, bidirectional=bidirectional,
                            num_layers=num_layers, proj_size=proj_size).to(dtype)  # fmt: skip
        lstm2 = deepcopy(lstm).to(dtype)
        x = x_leaf
        hidden0 = None
        if not use_default_hiddens:
            real_hidden_size = hidden_size if proj_size == 0 else proj_size
            hidden0 = (
                torch.randn(
                    num_directions * num_layers, len(lengths), real_hidden_size, dtype=dtype
                ),
                torch.randn(num_directions * num_layers, len(lengths), hidden_size, dtype=dtype),
            )
        seq_outs, seq_hiddens = [], []
        for i, length in enumerate(lengths):
            out, hid = lstm2(x[:length, i : i + 1], maybe_index_tuple(hidden0, i))
            seq_outs.append(pad(out, max_length))
            seq_hiddens.append(hid)
        seq_out = torch.cat(seq_outs, 1)
        seq_hidden = tuple(torch.cat(hids, 1) for hids in zip(*seq_hiddens, strict=True))
        packed = rnn_utils.pack_padded_sequence(x, lengths, enforce_sorted=enforce_sorted)
        packed_out, packed_hidden = lstm(packed, hidden0)
        unpacked, unpacked_len = rnn_utils.pad_packed_sequence(packed_out)
        assert_equal(packed_hidden, seq_hidden, atol=prec, rtol=0)
        assert_equal(unpacked, seq_out, atol=prec, rtol=0)
        assert unpacked_len.tolist() == list(lengths)
        seq_out.sum().backward()
        grad_x = x_leaf.grad.data.clone()
        x_leaf.grad.data.zero_()
        unpacked.sum().backward()
        assert_equal(x_leaf.grad, grad_x, atol=prec, rtol=0)
        for p1, p2 in zip(lstm.parameters(), lstm2.parameters(), strict=True):
            assert_equal(p1.grad, p2.grad, atol=2e-4, rtol=0)

    for use_default_hiddens in (True, False):
        for proj_size in [0, 2]:
            check_lengths(seq_lens, enforce_sorted, use_default_hiddens, proj_size)


# --- test/test_modules.py, on common_modules.module_db's nn.LSTM and nn.GRU -----------

INFOS = {
    info.module_cls.__name__: info for info in module_db if info.module_cls in (nn.LSTM, nn.GRU)
}
DTYPES = [torch.float32, torch.float64]


def _inputs(info, dtype, training, requires_grad=False):
    return info.module_inputs_func(
        info, device="cpu", dtype=dtype, requires_grad=requires_grad, training=training
    )


def _make(impl, info, module_input, dtype, training):
    c = module_input.constructor_input
    m = impl[info.module_cls.__name__](*c.args, **c.kwargs)
    return m.to("cpu").to(dtype).train(training)


def _assert_parameters_are(m, dtype):
    for _, p in m.named_parameters():
        assert p.device == torch.device("cpu") and p.dtype == dtype


def _flat(obj):
    return torch.utils._pytree.tree_flatten(obj)[0]


modules = pytest.mark.parametrize("name", sorted(INFOS))
dtypes = pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
training = pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])


@modules
@dtypes
@training
def test_forward(impl, name, dtype, training):
    """test/test_modules.py, TestModule.test_forward."""
    info = INFOS[name]
    for module_input in _inputs(info, dtype, training):
        with freeze_rng_state():
            m = _make(impl, info, module_input, dtype, training)
            args, kwargs = module_input.forward_input.args, module_input.forward_input.kwargs
            outputs = m(*args, **kwargs)
            if module_input.reference_fn is not None:
                ref_outputs = module_input.reference_fn(m, *args, **kwargs)
                assert_equal(outputs, ref_outputs)
            {torch.float32: m.float, torch.float64: m.double}[dtype]()
            m(*args, **kwargs)
            _assert_parameters_are(m, dtype)


@modules
@dtypes
@training
def test_factory_kwargs(impl, name, dtype, training):
    """test/test_modules.py, TestModule.test_factory_kwargs (the modules create parameters)."""
    info = INFOS[name]
    for module_input in _inputs(info, dtype, training):
        c = module_input.constructor_input
        m = impl[name](*c.args, **c.kwargs, device="cpu", dtype=dtype).train(training)
        _assert_parameters_are(m, dtype)


@modules
@dtypes
@training
def test_repr(impl, name, dtype, training):
    """test/test_modules.py, TestModule.test_repr."""
    info = INFOS[name]
    for module_input in _inputs(info, dtype, training):
        m = _make(impl, info, module_input, dtype, training)
        m.__repr__()
        str(m)


@modules
@dtypes
@training
def test_pickle(impl, name, dtype, training):
    """test/test_modules.py, TestModule.test_pickle."""
    info = INFOS[name]
    for module_input in _inputs(info, dtype, training):
        with freeze_rng_state():
            m = _make(impl, info, module_input, dtype, training)
            args, kwargs = module_input.forward_input.args, module_input.forward_input.kwargs
            output = m(*args, **kwargs)
            with tempfile.TemporaryFile() as f:
                torch.save(m, f)
                f.seek(0)
                m_copy = torch.load(f, weights_only=False)
                assert_equal(output, m_copy(*args, **kwargs))
    pickle.dumps(m)


@modules
@dtypes
@training
def test_non_contiguous_tensors(impl, name, dtype, training):
    """test/test_modules.py, TestModule.test_non_contiguous_tensors."""
    info = INFOS[name]

    def non_contiguous(obj):
        if isinstance(obj, tuple | list):
            return type(obj)(non_contiguous(o) for o in obj)
        out = torch.repeat_interleave(obj, 2, dim=-1)[..., ::2].detach()
        out.requires_grad = obj.requires_grad
        return out

    for module_input in _inputs(info, dtype, training, requires_grad=True):
        m = _make(impl, info, module_input, dtype, training)
        input_args = module_input.forward_input.args
        with freeze_rng_state():
            default_output = m(*input_args)
        grad_output = [o.detach().clone().normal_() for o in _flat(default_output)]
        results = []
        for args, g_out in product([input_args, non_contiguous(input_args)],
                                   [grad_output, non_contiguous(grad_output)]):  # fmt: skip
            leaves = [a for a in _flat(args) if a.requires_grad]
            m.zero_grad()
            with freeze_rng_state():
                out = m(*args)
            grads = torch.autograd.grad(_flat(out), leaves + list(m.parameters()), g_out)
            assert_equal(out, default_output)
            results.append(grads)
        for grads in results[1:]:
            assert_equal(grads, results[0], atol=1e-4, rtol=0)


def _gradients_helper(impl, name, training, check):
    """test/test_modules.py, TestModule._test_gradients_helper: the total derivative, then
    each parameter's partial derivative."""
    info = INFOS[name]
    for module_input in _inputs(info, torch.float64, training, requires_grad=True):
        m = _make(impl, info, module_input, torch.float64, training)
        params = tuple(m.parameters())
        input_args = module_input.forward_input.args

        spec, n_inputs = [], len(input_args)  # spec: that of (inputs, parameters), per check

        def fn_to_gradcheck(*flat_input_and_params, m=m, n_inputs=n_inputs, spec=spec):
            input_and_params = torch.utils._pytree.tree_unflatten(flat_input_and_params, spec[-1])
            with freeze_rng_state():
                return _flat(m(*input_and_params[:n_inputs]))

        flat_input, flat_spec = torch.utils._pytree.tree_flatten(input_args + params)
        spec.append(flat_spec)
        assert check(fn_to_gradcheck, flat_input)
        for p in params:
            p.requires_grad = False
        for p in params:
            p.requires_grad = True
            flat_input, flat_spec = torch.utils._pytree.tree_flatten(input_args + params)
            spec.append(flat_spec)
            assert check(fn_to_gradcheck, flat_input)
            p.requires_grad = False


@modules
@training
def test_grad(impl, name, training):
    """test/test_modules.py, TestModule.test_grad (float64)."""
    _gradients_helper(impl, name, training, gradcheck)


@modules
def test_gradgrad(impl, name):
    """test/test_modules.py, TestModule.test_gradgrad (float64), in training mode only:
    every module_db sample has dropout=0, so eval mode is the same function, and each
    mode takes about 40 s here."""
    assert INFOS[name].supports_gradgrad
    assert all(
        m.constructor_input.kwargs.get("dropout", 0) == 0
        for m in _inputs(INFOS[name], torch.float64, True)
    )
    _gradients_helper(impl, name, True, gradgradcheck)


@modules
@dtypes
@training
def test_memory_format(impl, name, dtype, training):
    """test/test_modules.py, TestModule.test_memory_format: the inputs are 2-D, so only the
    contiguous formats apply; outputs contiguous and equal across module formats, and the
    gradients too."""
    info = INFOS[name]
    for module_input in _inputs(info, dtype, training, requires_grad=True):
        with freeze_rng_state():
            m = _make(impl, info, module_input, dtype, training)
            args = module_input.forward_input.args
            desired = m(*args)
            diff_in = [t for t in _flat((args, tuple(m.parameters()))) if t.requires_grad]
            g_out = [torch.rand_like(t) for t in _flat(desired)]
            ref_grads = torch.autograd.grad(_flat(desired), diff_in, g_out) if training else None
            for module_format in (torch.preserve_format, torch.contiguous_format):
                m.to(memory_format=module_format)
                outputs = m(*args)
                assert_equal(outputs, desired)
                assert all(o.is_contiguous() for o in _flat(outputs))
                if training:
                    diff_in = [t for t in _flat((args, tuple(m.parameters()))) if t.requires_grad]
                    grads = torch.autograd.grad(_flat(outputs), diff_in, g_out)
                    assert_equal(grads, ref_grads)
                    assert all(g.is_contiguous() for g in grads)


@modules
@dtypes
def test_if_train_and_eval_modes_differ(impl, name, dtype):
    """test/test_modules.py, TestModule.test_if_train_and_eval_modes_differ (train only)."""
    info = INFOS[name]
    for module_input in _inputs(info, dtype, True):
        m = _make(impl, info, module_input, dtype, True)
        delattr(m, "training")
        try:
            m(*module_input.forward_input.args)
        except AttributeError as e:
            if "'training'" not in str(e):
                raise
            assert info.train_and_eval_differ


@modules
@dtypes
@training
def test_device_ctx_init(impl, name, dtype, training):
    """test/test_modules.py, TestModule.test_device_ctx_init."""
    info = INFOS[name]
    with torch.device("meta"):
        inputs_meta = info.module_inputs_func(
            info, device=None, dtype=dtype, requires_grad=False, training=training
        )
    for module_input, module_input_meta in zip(
        _inputs(info, dtype, training), inputs_meta, strict=True
    ):
        c, c_meta = module_input.constructor_input, module_input_meta.constructor_input
        m_cpu = impl[name](*c.args, **c.kwargs)
        with torch.device("meta"):
            m = impl[name](*c_meta.args, **c_meta.kwargs)
        for p_meta, p_cpu in zip(m.parameters(), m_cpu.parameters(), strict=True):
            assert p_meta.is_meta
            assert (p_meta.shape, p_meta.dtype, p_meta.stride()) == (
                p_cpu.shape,
                p_cpu.dtype,
                p_cpu.stride(),
            )


@modules
@dtypes
@training
def test_errors(impl, name, dtype, training):
    """test/test_modules.py, TestModule.test_errors, on module_error_inputs_func."""
    info = INFOS[name]
    errors = info.module_error_inputs_func(
        info, device="cpu", dtype=dtype, requires_grad=False, training=training
    )
    assert len(errors) > 0
    for error_input in errors:
        module_input = error_input.module_error_input
        c = module_input.constructor_input
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if error_input.error_on == ModuleErrorEnum.CONSTRUCTION_ERROR:
                with pytest.raises(error_input.error_type, match=error_input.error_regex):
                    impl[name](*c.args, **c.kwargs)
            else:
                m = impl[name](*c.args, **c.kwargs)
                f = module_input.forward_input
                with pytest.raises(error_input.error_type, match=error_input.error_regex):
                    m(*f.args, **f.kwargs)
