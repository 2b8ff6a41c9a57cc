"""PyTorch modules that re-implement ``torch.nn.LSTM`` and ``torch.nn.GRU``, and the LSTM
variants (the LSTM in NumPy, by hand, is ``lstm_course.scratch``).

- ``rnn``: ``LSTM`` and ``GRU``, drop-ins for ``torch.nn.LSTM`` / ``torch.nn.GRU``;
- ``functional``: the one-step and one-layer functions they are built from;
- ``base``: ``RecurrentBase``, what every multi-layer recurrent module here shares;
  ``rnn_checks``: its input and hx checks, with torch's messages and the course's;
- ``handwritten_backward``: the LSTM time loop with chapter ``03_lstm_backward``'s backward pass by hand;
- ``cells``: the LSTM variants (peephole, CIFG, no forget gate, layer norm, ...), and
  ``RecurrentLayer`` to run any of them over a sequence; ``gated_cell``: their shared base;
- ``minimal_rnn``: minGRU and minLSTM, with their parallel scans;
- ``dropout``: variational (recurrent) dropout and the LSTM layer that uses it, and the
  locked and embedding dropout of a language model's other connections;
- ``initialization``: starts that decide long lags (forget bias, chrono, the 1997 cell
  without a forget gate, orthogonal W_hh), in place on any of these or ``torch.nn``'s.
"""

from lstm_course.layers.base import RecurrentBase
from lstm_course.layers.cells import (
    CIFGLSTMCell,
    LayerNormLSTMCell,
    LSTMCell,
    NoForgetGateLSTMCell,
    NoOutputActivationLSTMCell,
    PeepholeLSTMCell,
    RecurrentLayer,
)
from lstm_course.layers.dropout import (
    DropoutLSTM,
    dropout_lstm_layer,
    dropout_mask,
    embedding_dropout,
    locked_dropout,
    step_masks,
)
from lstm_course.layers.functional import gru_cell, gru_layer, lstm_cell, lstm_layer
from lstm_course.layers.gated_cell import GatedCell
from lstm_course.layers.handwritten_backward import lstm_loop
from lstm_course.layers.initialization import (
    chrono_gru_init_,
    chrono_init_,
    orthogonal_recurrent_,
    remove_forget_gate_,
    set_forget_bias_,
)
from lstm_course.layers.minimal_rnn import MinGRU, MinLSTM
from lstm_course.layers.rnn import GRU, LSTM

__all__ = [
    "CIFGLSTMCell",
    "DropoutLSTM",
    "GRU",
    "GatedCell",
    "LSTM",
    "LSTMCell",
    "LayerNormLSTMCell",
    "MinGRU",
    "MinLSTM",
    "NoForgetGateLSTMCell",
    "NoOutputActivationLSTMCell",
    "PeepholeLSTMCell",
    "RecurrentBase",
    "RecurrentLayer",
    "chrono_gru_init_",
    "chrono_init_",
    "dropout_lstm_layer",
    "dropout_mask",
    "embedding_dropout",
    "gru_cell",
    "gru_layer",
    "lstm_cell",
    "locked_dropout",
    "lstm_layer",
    "lstm_loop",
    "orthogonal_recurrent_",
    "remove_forget_gate_",
    "set_forget_bias_",
    "step_masks",
]
