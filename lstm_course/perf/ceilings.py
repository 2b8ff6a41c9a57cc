"""What one LSTM layer's training pass costs, two measured rates of the machine, and the
pass's time at those rates (chapter ``06_lstm_speed``, "Counting the work" and "Two
measured rates").

The rates are measurements (one product's rate, one copy's bandwidth), not the
hardware's limits, so the times at those rates are reference times, not bounds: a
kernel tuned for the pass's own shapes can run faster than the measured product.

A pass is one forward + backward pass of one LSTM layer over (T, B, D) inputs with
hidden size H, float32, the input's gradient included.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from lstm_course.perf.timing import memory_bandwidth_gbs, product_timing

__all__ = ["training_flops", "training_bytes", "Ceilings", "ceilings", "AtRates", "time_at_rates"]


def training_flops(T: int, B: int, D: int, H: int) -> int:
    """Floating-point operations of one forward + backward pass of an LSTM layer.

    Six matrix products of 2 * (rows) * (4H) * (D or H) operations each: the input and
    recurrent products forward, and backward the gradients of the inputs, of h, and of
    both weight matrices: 24 T B H (D + H) in all. The elementwise work is left out.
    """
    return 24 * T * B * H * (D + H)


def training_bytes(T: int, B: int, D: int, H: int) -> int:
    """Bytes a forward + backward pass moves in ``03_lstm_backward``'s layout, in float32: a count
    for that layout, not the least a pass must move (tanh c could be recomputed instead
    of stored, say).

    Per step and sequence, the forward pass writes what the backward pass needs (gates,
    c, tanh c and h: 7H numbers) and the backward pass reads it back; the backward pass
    also reads dL/dy, the gradient arriving at each step's output (H numbers); the gate
    gradients (4H) are written and read again by the weight-gradient products; the input
    x is read and its gradient written. So 4 * (2*7 + 1 + 2*4) T B H + 4 * 2 T B D =
    4 * (23 T B H + 2 T B D).

    Each of those arrays is counted once per write and once per read. Left out: the
    weights (small, they stay in cache), intermediate results such as the input
    projection, and the backward pass's second read of x, for the weight gradient
    da^T x; counting that read would make the input's term 3 T B D instead of 2 T B D.
    (What the backward pass keeps of the forward pass is 7H + D numbers per step and
    sequence: x is kept as it is, once.)
    """
    return 4 * (23 * T * B * H + 2 * T * B * D)


@dataclass(frozen=True)
class Ceilings:
    """Measured rates of a machine: ``products``, the GFLOP/s of one large float32 matrix
    product by each library measured (``"numpy"``, ``"torch"`` for ``torch.mm``,
    ``"onednn"``), the median of its timed runs, and ``product_ranges``, the GFLOP/s of
    its slowest and fastest run; ``sgemm_gflops``, the fastest median, the reference
    rate; and ``bandwidth_gbs``, one large copy's rate. Measurements, not limits: other
    products (other shapes, other libraries) can run faster."""

    sgemm_gflops: float
    bandwidth_gbs: float
    products: dict[str, float] = field(default_factory=dict)
    product_ranges: dict[str, tuple[float, float]] = field(default_factory=dict)


def ceilings(device: str | torch.device = "cpu") -> Ceilings:
    """Measure ``device``'s :class:`Ceilings`: on the CPU the 2048^3 float32 product of
    NumPy, of ``torch.mm`` and of oneDNN (where this build has it), on a GPU PyTorch's
    4096^3 one, five runs each (:func:`~lstm_course.perf.timing.product_timing`), and the
    copy bandwidth (:func:`~lstm_course.perf.timing.memory_bandwidth_gbs`)."""
    device = torch.device(device)
    if device.type == "cpu":
        sides = ["numpy", "torch"] + (["onednn"] if torch.backends.mkldnn.is_available() else [])
        n = 2048
    else:  # a GPU needs a larger product to fill it
        sides, n = ["torch"], 4096
    timings = {side: product_timing(side, n, device=device) for side in sides}
    products = {side: 2 * n**3 / t.median / 1e9 for side, t in timings.items()}
    ranges = {side: (2 * n**3 / t.max / 1e9, 2 * n**3 / t.min / 1e9) for side, t in timings.items()}
    return Ceilings(max(products.values()), memory_bandwidth_gbs(device=device), products, ranges)


@dataclass(frozen=True)
class AtRates:
    """A pass's time at measured rates, in ms: all its FLOPs at the sgemm rate
    (``compute_ms``), all its bytes at the copy bandwidth (``memory_ms``)."""

    compute_ms: float
    memory_ms: float


def time_at_rates(T: int, B: int, D: int, H: int, limits: Ceilings) -> AtRates:
    """The :class:`AtRates` of a pass at (T, B, D, H) under ``limits``.

    Reference times, not bounds: ``limits`` holds one measured product's rate, and a
    kernel tuned for the pass's shapes (oneDNN's, say) can beat it."""
    return AtRates(
        compute_ms=1e3 * training_flops(T, B, D, H) / (limits.sgemm_gflops * 1e9),
        memory_ms=1e3 * training_bytes(T, B, D, H) / (limits.bandwidth_gbs * 1e9),
    )
