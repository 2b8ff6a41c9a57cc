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

With ``proj_size=P`` the LSTM projects h_t to P features, h_t = (sigmoid(o) * tanh(c_t))
W_hr^T (Sak et al. 2014, references.bib: sak2014lstmp), as ``nn.LSTM(proj_size=P)`` does.

The GRU (Cho et al. 2014, references.bib: cho2014gru) is laid out the same way; see
``GRU``. Both share everything but the layer's time loop through
``lstm_course.layers.base.RecurrentBase``, a subclass of ``nn.RNNBase``.

Works on any device, in float32 and float64, under ``torch.autocast``, on empty batches;
PackedSequence input is supported too. PyTorch's own RNN tests, adapted, are
``tests/test_torch_rnn_suite.py``.
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
        proj_size: P > 0 projects h_t to P < H features with a further (P, H) weight
            ``weight_hr_l{k}`` (Sak et al. 2014): output and h_n have P features per
            direction, c_n keeps H. 0, the default, for no projection.
        device, dtype: where and in what dtype to create the parameters.
        handwritten_backward: not in ``nn.LSTM``: run each layer's time loop with the
            backward pass written by hand (``lstm_course.layers.handwritten_backward``) instead of recorded
            by autograd; same results, faster on the CPU (chapter ``06_lstm_speed``). PackedSequence
            input, and ``proj_size > 0``, always take the autograd path.

    Parameters, in ``nn.LSTM``'s order, for layer k with suffix "" (forward) or
    "_reverse" (backward direction): ``weight_ih_l{k}{suffix}`` (4H, D for k = 0, else
    H * num_directions), ``weight_hh_l{k}{suffix}`` (4H, H) and, with bias,
    ``bias_ih_l{k}{suffix}`` and ``bias_hh_l{k}{suffix}`` (4H,); gates stacked i, f, g, o.
    With ``proj_size=P``, h has H_out = P features instead of H: ``weight_hh_l{k}`` is
    (4H, P), layer k > 0 reads P * num_directions features, and ``weight_hr_l{k}{suffix}``
    (P, H) comes last in each layer and direction.

    Call it as ``output, (h_n, c_n) = lstm(input, (h_0, c_0))``:

    - input: (T, B, D), or (B, T, D) with ``batch_first``; (T, D) for one unbatched
      sequence; or a ``PackedSequence`` of sequences of different lengths.
    - hx: ``(h_0, c_0)``, h_0 (L * num_directions, B, H_out), c_0 (L * num_directions, B,
      H), without B for unbatched input; zeros when None. Index k = layer * num_directions + direction,
      direction 1 being the reverse one.
    - output: (T, B, H_out * num_directions) (or (B, T, ...) with ``batch_first``, (T, ...)
      unbatched, packed for packed input) holds the last layer's h_t, forward features
      first; h_n and c_n have hx's shape and hold every layer's and direction's final
      state (for packed input, the state at each sequence's own end).
    """

    num_gates = 4
    state_names = ("h_0", "c_0")
    reference = "nn.LSTM"

    # nn.LSTM's arguments, and one of ours, keyword-only, after them.
    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None, *,
                 handwritten_backward: bool = False):  # fmt: skip
        handwritten_backward = check_bool("handwritten_backward", handwritten_backward)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device, dtype)  # fmt: skip
        self.handwritten_backward = handwritten_backward

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s + (", handwritten_backward=True" if self.handwritten_backward else "")

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
            weight_hr=params["weight_hr"],
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

    Args: ``nn.GRU``'s, i.e. ``LSTM``'s without ``proj_size`` and ``handwritten_backward``:
    input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, device=None, dtype=None. ``proj_size`` raises ``ValueError``,
    as in ``nn.GRU``: projections are an LSTM's.

    Parameters as ``LSTM``'s with 3H rows instead of 4H, gates stacked r, z, n, so
    state dicts of ``nn.GRU`` load both ways.

    Call it as ``output, h_n = gru(input, h_0)``: input and output as ``LSTM``'s; h_0 one
    tensor (L * num_directions, B, H), or (L * num_directions, H) unbatched, zeros when
    None; h_n has h_0's shape.
    """

    num_gates = 3
    state_names = ("h_0",)
    reference = "nn.GRU"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None, **kwargs):  # fmt: skip
        if "proj_size" in kwargs:
            raise ValueError(
                "proj_size argument is only supported for LSTM, not RNN or GRU; the "
                "projection of Sak et al. (2014) is an LSTM's: use LSTM(proj_size=...)"
            )
        if kwargs:
            raise TypeError(f"GRU got unexpected keyword arguments {sorted(kwargs)}")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype)  # fmt: skip

    def _lowers_under_autocast(self, device_type: str) -> bool:
        # On the CPU autocast casts nn.LSTM's op to its low dtype but leaves nn.GRU's
        # alone (float32 in, float32 out); on CUDA both go to cuDNN, which it lowers.
        return device_type == "cuda"

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
