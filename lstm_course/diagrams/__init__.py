"""The figures of the LSTM the course draws itself (see each module for details):

- ``cell``: the cell gate by gate (``draw_lstm_cell``, its backward pass with
  ``backward=True``) and unrolled (``draw_lstm_chain``);
- ``shapes``: stacked weights, what ``nn.LSTM`` returns, padded against packed batches;
- ``parts``: the geometry, colours and primitives the drawings share.
"""

from lstm_course.diagrams.cell import draw_lstm_cell, draw_lstm_chain
from lstm_course.diagrams.parts import GATE_NAMES, HIGHLIGHT_NAMES
from lstm_course.diagrams.shapes import draw_lstm_returns, draw_padded_packed, draw_stacked_weights

__all__ = [
    "GATE_NAMES",
    "HIGHLIGHT_NAMES",
    "draw_lstm_cell",
    "draw_lstm_chain",
    "draw_lstm_returns",
    "draw_padded_packed",
    "draw_stacked_weights",
]
