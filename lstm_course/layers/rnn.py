"""An LSTM and a GRU re-implemented as ``torch.nn.Module``s: drop-ins for ``torch.nn.LSTM``
and ``torch.nn.GRU``.

Chapter ``05_torch_lstm`` builds it. ``lstm_course.scratch`` did the calculus by hand; here autograd does
the backward pass, so all that is left is to lay out the forward pass exactly the way
``nn.LSTM`` does: same constructor, same parameter names, shapes and order (so state
dicts load both ways), same outputs and shapes, layer by layer and direction by direction.
The time loop of one layer, and the equations of one step, are ``functional``'s.

Shapes: T time steps, B batch, D input size, H hidden size, L layers, and
num_directions = 2 if bidirectional else 1. One step, gate order i, f, g, o:

    i, f, g, o = split(x_t W_ih^T + b_ih + b_hh + h_{t-1} W_hh^T)
    c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g)
    h_t = sigmoid(o) * tanh(c_t)

The GRU (Cho et al. 2014, references.bib: cho2014gru) is laid out the same way; see
``GRU``. Both share everything but the layer's time loop through
``lstm_course.layers.base.RecurrentBase``.

Works on any device, in float32 and float64; PackedSequence input is supported too.
"""

from __future__ import annotations

from lstm_course.checks import check_bool
from lstm_course.layers.base import RecurrentBase
from lstm_course.layers.functional import gru_layer, lstm_layer

__all__ = [
    "LSTM",
    "GRU",
]


class LSTM(RecurrentBase):
    """Multi-layer, optionally bidirectional LSTM, a drop-in for ``torch.nn.LSTM``.

    Args:
        input_size: D. hidden_size: H. num_layers: L, stacked; layer k > 0 reads the
            outputs of layer k - 1 (H * num_directions features).
        bias: whether to use the biases b_ih and b_hh.
        batch_first: input and output are (B, T, ...) instead of (T, B, ...); h_n and
            c_n are (L * num_directions, B, H) either way.
        dropout: probability of zeroing an output of every layer but the last, in training.
        bidirectional: run a second LSTM over the reversed sequence in every layer and
            concatenate its outputs after the forward ones.
        proj_size: only 0 (no projection) is supported.
        device, dtype: where and in what dtype to create the parameters.
        handwritten_backward: not in ``nn.LSTM``: run each layer's time loop with the
            backward pass written by hand (``lstm_course.layers.handwritten_backward``) instead of recorded
            by autograd; same results, faster on the CPU (chapter ``06_lstm_speed``). PackedSequence
            input always takes the autograd path.

    Parameters, in ``nn.LSTM``'s order, for layer k with suffix "" (forward) or
    "_reverse" (backward direction): ``weight_ih_l{k}{suffix}`` (4H, D for k = 0, else
    H * num_directions), ``weight_hh_l{k}{suffix}`` (4H, H) and, with bias,
    ``bias_ih_l{k}{suffix}`` and ``bias_hh_l{k}{suffix}`` (4H,); gates stacked i, f, g, o.

    Call it as ``output, (h_n, c_n) = lstm(input, (h_0, c_0))``:

    - input: (T, B, D), or (B, T, D) with ``batch_first``; (T, D) for one unbatched
      sequence; or a ``PackedSequence`` of sequences of different lengths.
    - hx: ``(h_0, c_0)``, each (L * num_directions, B, H), or (L * num_directions, H) for
      unbatched input; zeros when None. Index k = layer * num_directions + direction,
      direction 1 being the reverse one.
    - output: (T, B, H * num_directions) (or (B, T, ...) with ``batch_first``, (T, ...)
      unbatched, packed for packed input) holds the last layer's h_t, forward features
      first; h_n and c_n have hx's shape and hold every layer's and direction's final
      state (for packed input, the state at each sequence's own end).
    """

    num_gates = 4
    state_names = ("h_0", "c_0")
    reference = "nn.LSTM"
    _repr_defaults = (*RecurrentBase._repr_defaults, ("handwritten_backward", False))

    # nn.LSTM's arguments: RecurrentBase's with proj_size before device (0 only here),
    # and one of ours, keyword-only, after them.
    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None, *,
                 handwritten_backward: bool = False):  # fmt: skip
        if proj_size != 0:
            raise NotImplementedError(
                f"proj_size={proj_size!r} is not supported: this LSTM "
                "has no projection (proj_size=0); use torch.nn.LSTM "
                "for LSTMs with projections"
            )
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device,
            dtype,
        )
        self.handwritten_backward = check_bool("handwritten_backward", handwritten_backward)

    def _run_layer(self, x, state, params, reverse, mask):
        bias = None
        if self.bias:  # the two biases only ever appear as a sum: add them once
            bias = params["bias_ih"] + params["bias_hh"]
        return lstm_layer(
            x,
            *state,
            params["weight_ih"],
            params["weight_hh"],
            bias,
            reverse=reverse,
            mask=mask,
            handwritten_backward=self.handwritten_backward,
        )


class GRU(RecurrentBase):
    """Multi-layer, optionally bidirectional GRU (Cho et al. 2014), a drop-in for
    ``torch.nn.GRU``.

    One step, gate order r, z, n as in ``nn.GRU``:

        r = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
        z = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
        n = tanh(W_in x_t + b_in + r * (W_hn h_{t-1} + b_hn))
        h_t = (1 - z) * n + z * h_{t-1}

    b_hn is multiplied by r, so unlike the LSTM's the two biases are kept apart.

    Args: those of ``RecurrentBase``'s constructor, i.e. ``LSTM``'s without ``proj_size`` and
    ``handwritten_backward``: input_size, hidden_size, num_layers=1, bias=True,
    batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None.

    Parameters as ``LSTM``'s with 3H rows instead of 4H, gates stacked r, z, n, so
    state dicts of ``nn.GRU`` load both ways.

    Call it as ``output, h_n = gru(input, h_0)``: input and output as ``LSTM``'s; h_0 one
    tensor (L * num_directions, B, H), or (L * num_directions, H) unbatched, zeros when
    None; h_n has h_0's shape.
    """

    num_gates = 3
    state_names = ("h_0",)
    reference = "nn.GRU"

    def _run_layer(self, x, state, params, reverse, mask):
        (h,) = state
        out, h = gru_layer(
            x,
            h,
            params["weight_ih"],
            params["weight_hh"],
            params["bias_ih"],
            params["bias_hh"],
            reverse=reverse,
            mask=mask,
        )
        return out, (h,)
