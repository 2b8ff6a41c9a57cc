"""Measuring speed. The modules, lowest first (each imports only those above it):

timing          timers side by side (warm-up, medians), the sgemm rate, the copy
                bandwidth, a measurement in a fresh process; imports nothing else
                of the course
machine         the processor's name, and how busy the rest of the machine was
ceilings        a pass's FLOPs and bytes, two measured rates, the time at those rates
steps           the LSTM implementations, each pass ready to time
numpy_vs_torch  the NumPy LSTM against nn.LSTM, each in a process of its own
implementations the measurements of chapter ``06_lstm_speed``: one shape, sweeps,
                packed against padded
across_shapes   several shapes timed in the same rounds
compile_cost    torch.compile's first step in fresh processes, cold and warm cache
cli             ``python -m lstm_course.perf`` (``make bench``)
"""

from lstm_course.perf.across_shapes import ShapesSideBySide, measure_shapes
from lstm_course.perf.ceilings import AtRates, Ceilings, ceilings, time_at_rates, training_flops
from lstm_course.perf.implementations import (
    PackedVsPadded,
    PointResult,
    format_point,
    measure_point,
    packed_vs_padded,
    sweep,
)
from lstm_course.perf.numpy_vs_torch import Comparison, compare_numpy_torch, format_comparison
from lstm_course.perf.steps import IMPLEMENTATIONS, available, torch_step
from lstm_course.perf.timing import Timing, sgemm_gflops, time_interleaved, time_it

__all__ = [
    "IMPLEMENTATIONS",
    "AtRates",
    "Ceilings",
    "Comparison",
    "PackedVsPadded",
    "PointResult",
    "ShapesSideBySide",
    "Timing",
    "available",
    "ceilings",
    "compare_numpy_torch",
    "format_comparison",
    "format_point",
    "measure_point",
    "measure_shapes",
    "packed_vs_padded",
    "sgemm_gflops",
    "sweep",
    "time_at_rates",
    "time_interleaved",
    "time_it",
    "torch_step",
    "training_flops",
]
