"""The LSTM in NumPy, by hand: forward and backward (``lstm``), its parameters and argument
checks (``params``), finite-difference gradient checks (``gradcheck``) and the array pool
the layer reuses (``buffers``).

Parameters follow PyTorch's layout and gate order (i, f, g, o): ``weight_ih`` (4H, D),
``weight_hh`` (4H, H), ``bias_ih`` (4H,), ``bias_hh`` (4H,).
"""

from lstm_course.scratch.buffers import BufferPool
from lstm_course.scratch.gradcheck import (
    check_gradients,
    numerical_gradient,
    relative_error,
)
from lstm_course.scratch.lstm import (
    lstm_backward,
    lstm_cell_backward,
    lstm_cell_forward,
    lstm_forward,
    sigmoid,
)
from lstm_course.scratch.params import KEYS, LSTMParams, init_params

__all__ = [
    "KEYS",
    "BufferPool",
    "LSTMParams",
    "check_gradients",
    "init_params",
    "lstm_backward",
    "lstm_cell_backward",
    "lstm_cell_forward",
    "lstm_forward",
    "numerical_gradient",
    "relative_error",
    "sigmoid",
]
