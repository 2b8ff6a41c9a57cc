"""The figures of the LSTM the course draws itself (see each module for details):

- ``cell``: the cell gate by gate (``draw_lstm_cell``, its backward pass with
  ``backward=True``);
- ``chain``: the cell unrolled over time (``draw_lstm_chain``);
- ``weights``: the stacked gate blocks of ``weight_ih`` and ``weight_hh``
  (``draw_stacked_weights``);
- ``returns``: what ``nn.LSTM`` returns over layers, time and directions
  (``draw_lstm_returns``);
- ``packing``: a padded batch against its packed form (``draw_padded_packed``);
- ``parts``: the geometry, colours and primitives the drawings share.
"""

from lstm_course.diagrams.cell import draw_lstm_cell
from lstm_course.diagrams.chain import draw_lstm_chain
from lstm_course.diagrams.packing import draw_padded_packed
from lstm_course.diagrams.parts import GATE_NAMES, HIGHLIGHT_NAMES
from lstm_course.diagrams.returns import draw_lstm_returns
from lstm_course.diagrams.weights import draw_stacked_weights

__all__ = [
    "GATE_NAMES",
    "HIGHLIGHT_NAMES",
    "draw_lstm_cell",
    "draw_lstm_chain",
    "draw_lstm_returns",
    "draw_padded_packed",
    "draw_stacked_weights",
]
