"""How fast is an LSTM? The measurements of chapter 6 (and of ``make bench``).

One forward + backward pass of one LSTM layer over (T, B, D) inputs, float32, the input's
gradient included (a layer inside a network needs it), timed for several implementations
side by side with :func:`lstm_course.perf.timing.time_interleaved`: every round runs each of
them once, so they all see the same background load and their ratios hold.

The implementations (``IMPLEMENTATIONS``):

- ``NumPy (scratch)``: chapter 4's NumPy LSTM, in a process of its own (NumPy's and
  PyTorch's thread pools slow each other down when they share one);
- ``module, autograd``: chapter 5's ``lstm_course.layers.rnn.LSTM``, autograd recording
  the Python time loop;
- ``module, handwritten backward``: the same module with ``handwritten_backward=True``
  (``lstm_course.layers.handwritten_backward``);
- ``module, torch.compile``: chapter 5's module through ``torch.compile``;
- ``nn.LSTMCell loop``: a Python loop over ``nn.LSTMCell``, as tutorials write it;
- ``nn.LSTM``: PyTorch's fused kernels (oneDNN on the CPU, cuDNN on a CUDA GPU); on the
  CPU also ``nn.LSTM, oneDNN off``, PyTorch's own loop, for comparison.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import numpy as np
import torch

from lstm_course.perf.timing import (
    measure_in_subprocess,
    sgemm_gflops,
    time_interleaved,
    time_it,
    training_flops,
)

__all__ = [
    "IMPLEMENTATIONS",
    "training_bytes",
    "memory_bandwidth_gbs",
    "ceilings",
    "floor_ms",
    "torch_step",
    "input_gradients",
    "available",
    "measure_point",
    "sweep",
    "packed_vs_padded",
    "format_point",
]

IMPLEMENTATIONS = ("NumPy (scratch)", "module, autograd", "module, handwritten backward",
                   "module, torch.compile", "nn.LSTMCell loop", "nn.LSTM",
                   "nn.LSTM, oneDNN off")


def training_bytes(T: int, B: int, D: int, H: int) -> int:
    """Bytes a forward + backward pass must move at least once, in float32.

    The forward pass writes what the backward pass needs (gates, c, tanh c and h: 7H
    numbers per step and sequence, chapter 3) and the backward pass reads it back; the
    gate gradients (4H) are written and read again by the weight-gradient products; the
    input x is read and its gradient written. So 4 * (2*7 + 2*4) T B H + 4 * 2 T B D.
    Weights are left out: they are small and stay in cache.
    """
    return 4 * (22 * T * B * H + 2 * T * B * D)


def memory_bandwidth_gbs(n: int = 1 << 25, device: str | torch.device = "cpu") -> float:
    """Measured copy bandwidth in GB/s: bytes read plus bytes written by ``b.copy_(a)``.

    ``n`` float32 numbers (128 MiB by default), far larger than any cache.
    """
    a = torch.ones(n, device=device)
    b = torch.empty_like(a)
    return 2 * 4 * n / time_it(lambda: b.copy_(a), repeat=5, warmup=2)["median"] / 1e9


def ceilings(device: str | torch.device = "cpu") -> dict:
    """The machine's measured limits: ``sgemm_gflops`` (the faster of NumPy's and
    PyTorch's 2048^3 float32 products on the CPU; PyTorch's on a GPU) and
    ``bandwidth_gbs`` (:func:`memory_bandwidth_gbs`)."""
    device = torch.device(device)
    if device.type == "cpu":
        sgemm = max(sgemm_gflops("numpy"), sgemm_gflops("torch"))
    else:
        a = torch.randn(4096, 4096, device=device)
        sgemm = 2 * 4096**3 / time_it(lambda: a @ a, repeat=5)["median"] / 1e9
    return {"sgemm_gflops": sgemm, "bandwidth_gbs": memory_bandwidth_gbs(device=device)}


def floor_ms(T: int, B: int, D: int, H: int, limits: dict) -> dict:
    """Lower bounds on the pass's time, in ms: all FLOPs at the sgemm rate, all bytes at
    the copy bandwidth. A real pass is slower than the larger of the two."""
    return {"compute": 1e3 * training_flops(T, B, D, H) / (limits["sgemm_gflops"] * 1e9),
            "memory": 1e3 * training_bytes(T, B, D, H) / (limits["bandwidth_gbs"] * 1e9)}


def torch_step(name: str, T: int, B: int, D: int, H: int,
               device: str | torch.device = "cpu") -> Callable[[], None]:
    """A forward + backward pass of implementation ``name`` (not NumPy), ready to time.

    For ``module, torch.compile`` the first call compiles (seconds to a minute); time it
    separately (see :func:`measure_point`).
    """
    from lstm_course.layers.rnn import LSTM

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
        # Set and restored by hand: mkldnn.flags() would also touch TF32 and warn.
        before = torch.backends.mkldnn.enabled
        torch.backends.mkldnn.enabled = onednn
        try:
            forward().sum().backward()
        finally:
            torch.backends.mkldnn.enabled = before

    step.x, step.layer = x, layer  # for checks: the input and its gradient, the layer
    return step


def input_gradients(names: Iterable[str], T: int, B: int, D: int, H: int,
                    device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    """dx after one pass of each PyTorch implementation in ``names`` (NumPy is skipped).

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
    ``torch.compile`` (its compilation takes up to a minute per shape)."""
    names = list(IMPLEMENTATIONS)
    if torch.device(device).type != "cpu":
        names.remove("nn.LSTM, oneDNN off")
    if not compile:
        names.remove("module, torch.compile")
    return names


def measure_point(T: int, B: int, D: int, H: int, names: Iterable[str],
                  device: str | torch.device = "cpu", repeat: int = 9,
                  warmup: int = 3) -> dict:
    """Median seconds of each implementation at one shape, the torch ones interleaved.

    Returns ``{name: seconds}`` plus ``"compile seconds"`` (the first call of the
    compiled module, when it is among ``names``). If ``torch.compile`` fails here (it
    needs a C++ compiler on the CPU), that implementation is left out and the reason is
    returned as ``"compile error"``.
    """
    names, result = list(names), {}
    steps = {n: torch_step(n, T, B, D, H, device) for n in names if n != "NumPy (scratch)"}
    if "module, torch.compile" in steps:
        start = time.perf_counter()
        try:
            steps["module, torch.compile"]()
            result["compile seconds"] = time.perf_counter() - start
        except Exception as err:  # a reader's machine without a compiler, say
            del steps["module, torch.compile"]
            result["compile error"] = f"{type(err).__name__}: {str(err)[:200]}"
    timed = time_interleaved(steps, repeat=repeat, warmup=warmup)
    result.update({n: r["median"] for n, r in timed.items()})
    if "NumPy (scratch)" in names:
        result["NumPy (scratch)"] = measure_in_subprocess("numpy", (T, B, D, H), repeat,
                                                          warmup)["median"]
    return result


def sweep(shapes: Iterable[tuple[int, int, int, int]], names: Iterable[str],
          device: str | torch.device = "cpu", repeat: int = 9, warmup: int = 3,
          progress: bool = True) -> list[dict]:
    """:func:`measure_point` at every (T, B, D, H); one dict per shape, with ``shape``."""
    from tqdm.auto import tqdm

    shapes, names = list(shapes), list(names)
    rows = []
    for shape in tqdm(shapes, desc="shapes", disable=not progress):
        rows.append({"shape": tuple(shape), **measure_point(*shape, names, device, repeat,
                                                            warmup)})
    return rows


def packed_vs_padded(T: int, B: int, D: int, H: int, device: str | torch.device = "cpu",
                     repeat: int = 9, warmup: int = 3, seed: int = 0) -> dict:
    """nn.LSTM on a batch of sequences with lengths uniform in [T/4, T]: padded (every
    sequence run for T steps) against packed (each only for its own length).

    Returns median seconds for ``padded`` and ``packed`` and ``real fraction``, the share
    of the (T, B) grid that holds real steps.
    """
    from torch.nn.utils.rnn import pack_padded_sequence

    g = np.random.default_rng(seed)
    lengths = torch.as_tensor(g.integers(max(1, T // 4), T + 1, size=B))
    torch.manual_seed(seed)
    layer = torch.nn.LSTM(D, H).to(device)
    x = torch.randn(T, B, D, device=device, requires_grad=True)

    def padded():
        layer.zero_grad(set_to_none=True)
        x.grad = None
        layer(x)[0].sum().backward()

    def packed():
        layer.zero_grad(set_to_none=True)
        x.grad = None
        layer(pack_padded_sequence(x, lengths, enforce_sorted=False))[0].data.sum().backward()

    timed = time_interleaved({"padded": padded, "packed": packed}, repeat, warmup)
    return {"padded": timed["padded"]["median"], "packed": timed["packed"]["median"],
            "real fraction": float(lengths.sum()) / (T * B)}


def format_point(row: dict, shape: tuple[int, int, int, int], limits: dict) -> str:
    """One shape's medians as a table, fastest first: ms, multiple of nn.LSTM's time,
    GFLOP/s (:func:`lstm_course.perf.timing.training_flops` over the time) and that as a
    share of the measured sgemm rate; then the two lower bounds of :func:`floor_ms`."""
    times = {n: row[n] for n in IMPLEMENTATIONS if n in row}
    reference = times.get("nn.LSTM", min(times.values()))
    flops = training_flops(*shape)
    lines = [f"{'implementation':<30} {'ms':>8} {'x nn.LSTM':>10} {'GFLOP/s':>8} "
             f"{'of sgemm':>9}"]
    for name, seconds in sorted(times.items(), key=lambda item: item[1]):
        gflops = flops / seconds / 1e9
        lines.append(f"{name:<30} {1e3 * seconds:>8.2f} {seconds / reference:>10.2f} "
                     f"{gflops:>8.0f} {gflops / limits['sgemm_gflops']:>9.0%}")
    floor = floor_ms(*shape, limits)
    lines.append(f"lower bounds: {floor['compute']:.2f} ms of arithmetic at "
                 f"{limits['sgemm_gflops']:.0f} GFLOP/s, {floor['memory']:.2f} ms of memory "
                 f"traffic at {limits['bandwidth_gbs']:.0f} GB/s")
    if "compile seconds" in row:
        lines.append(f"torch.compile took {row['compile seconds']:.1f} s before its first step")
    if "compile error" in row:
        lines.append(f"torch.compile failed here, left out: {row['compile error']}")
    return "\n".join(lines)
