"""The passes the course times, built and ready to call: one forward + backward pass of
one LSTM layer over (T, B, D) inputs with hidden size H, float32, the input's gradient
included (a layer inside a network needs it), by each implementation.

The implementations (``IMPLEMENTATIONS``):

- ``NumPy (scratch)``: the NumPy LSTM of ``lstm_course.scratch`` (:func:`numpy_lstm_step`);
- ``module, autograd``: ``lstm_course.layers.rnn.LSTM``, autograd recording the Python
  time loop;
- ``module, handwritten backward``: the same module with ``handwritten_backward=True``
  (``lstm_course.layers.handwritten_backward``);
- ``module, torch.compile``: the module through ``torch.compile``;
- ``nn.LSTMCell loop``: a Python loop over ``nn.LSTMCell``, as tutorials write it;
- ``nn.LSTM``: PyTorch's fused kernels (oneDNN on the CPU, cuDNN on a CUDA GPU); on the
  CPU also ``nn.LSTM, oneDNN off``, PyTorch's own loop, for comparison.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import numpy as np
import torch

from lstm_course import scratch
from lstm_course.layers.rnn import LSTM

__all__ = [
    "IMPLEMENTATIONS",
    "onednn_enabled",
    "numpy_lstm_step",
    "torch_step",
    "torch_lstm_step",
    "input_gradients",
    "available",
]

IMPLEMENTATIONS = (
    "NumPy (scratch)",
    "module, autograd",
    "module, handwritten backward",
    "module, torch.compile",
    "nn.LSTMCell loop",
    "nn.LSTM",
    "nn.LSTM, oneDNN off",
)


@contextmanager
def onednn_enabled(enabled: bool) -> Iterator[None]:
    """Switch PyTorch's oneDNN (mkldnn) CPU kernels on or off inside the block, then
    restore the setting. Set by hand: ``torch.backends.mkldnn.flags()`` would also touch
    TF32 and warn."""
    before = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = enabled
    try:
        yield
    finally:
        torch.backends.mkldnn.enabled = before


def numpy_lstm_step(T: int, B: int, D: int, H: int, dtype=np.float32) -> Callable[[], None]:
    """Forward + backward of ``lstm_course.scratch`` over (T, B, D) inputs, ready to time."""
    rng = np.random.default_rng(0)
    params = scratch.init_params(D, H, rng=rng, dtype=dtype)
    x = rng.standard_normal((T, B, D)).astype(dtype)
    dy = np.ones((T, B, H), dtype)  # the gradient of y.sum(), as on the PyTorch side

    def step():
        _, _, cache = scratch.lstm_forward(x, params)
        scratch.lstm_backward(dy, cache)

    return step


def torch_step(
    name: str, T: int, B: int, D: int, H: int, device: str | torch.device = "cpu"
) -> Callable[[], None]:
    """A forward + backward pass of implementation ``name`` (not NumPy), ready to time.

    The step keeps its input and layer as ``step.x`` and ``step.layer``, for checks. For
    ``module, torch.compile`` the first call compiles (seconds per shape in the course's
    runs, with PyTorch's on-disk compile cache warm); time it separately (see :func:`lstm_course.perf.implementations.measure_point`).
    """
    device = torch.device(device)
    torch.manual_seed(0)
    x = torch.randn(T, B, D, device=device, requires_grad=True)
    onednn = True
    if name in ("nn.LSTM", "nn.LSTM, oneDNN off"):
        layer = torch.nn.LSTM(D, H).to(device)
        forward = lambda: layer(x)[0]  # noqa: E731
        onednn = name != "nn.LSTM, oneDNN off"
    elif name in ("module, autograd", "module, handwritten backward", "module, torch.compile"):
        layer = LSTM(D, H, handwritten_backward=name == "module, handwritten backward")
        layer = layer.to(device)
        if name == "module, torch.compile":
            torch._dynamo.reset()  # a fresh cache per shape: no silent fallback to eager
            compiled = torch.compile(layer)
            forward = lambda: compiled(x)[0]  # noqa: E731
        else:
            forward = lambda: layer(x)[0]  # noqa: E731
    elif name == "nn.LSTMCell loop":
        layer = torch.nn.LSTMCell(D, H).to(device)

        def forward():
            h = c = torch.zeros(B, H, device=device)
            outs = []
            for x_t in x:
                h, c = layer(x_t, (h, c))
                outs.append(h)
            return torch.stack(outs)
    else:
        raise ValueError(f"unknown implementation {name!r}: use one of {IMPLEMENTATIONS[1:]}")

    def step():
        layer.zero_grad(set_to_none=True)
        step.x.grad = None
        with onednn_enabled(onednn):
            forward().sum().backward()

    step.x, step.layer = x, layer
    return step


def torch_lstm_step(T: int, B: int, D: int, H: int) -> Callable[[], None]:
    """Forward + backward of ``torch.nn.LSTM`` (float32, CPU), doing the NumPy side's work.

    The input requires a gradient because ``scratch.lstm_backward`` always returns dx.
    """
    return torch_step("nn.LSTM", T, B, D, H)


def input_gradients(
    names: Iterable[str], T: int, B: int, D: int, H: int, device: str | torch.device = "cpu"
) -> dict[str, torch.Tensor]:
    """dx (T, B, D) after one pass of each PyTorch implementation in ``names`` (NumPy is
    skipped).

    Built from the same seed, all of them draw the same weights, so every dx should
    be the same: the check that they compute the same thing before they are timed.
    """
    grads = {}
    for name in names:
        if name != "NumPy (scratch)":
            step = torch_step(name, T, B, D, H, device)
            step()
            grads[name] = step.x.grad
    return grads


def available(device: str | torch.device = "cpu", compile: bool = True) -> list[str]:
    """The implementations that make sense on ``device``; ``compile=False`` leaves out
    ``torch.compile``, which compiles anew for every shape it is timed at."""
    names = list(IMPLEMENTATIONS)
    if torch.device(device).type != "cpu":
        names.remove("nn.LSTM, oneDNN off")
    if not compile:
        names.remove("module, torch.compile")
    return names
