"""An LSTM and a GRU from scratch as ``torch.nn.Module``s: drop-ins for ``torch.nn.LSTM``
and ``torch.nn.GRU``.

Chapter 5 builds it. ``lstm_course.scratch`` did the calculus by hand; here autograd does
the backward pass, so all that is left is to lay out the forward pass exactly the way
``nn.LSTM`` does: same constructor, same parameter names, shapes and order (so state
dicts load both ways), same outputs and shapes, layer by layer and direction by direction.

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

import torch
import torch.nn.functional as F
from torch import Tensor

from lstm_course.checks import check_bool
from lstm_course.layers.base import RecurrentBase
from lstm_course.layers.handwritten_backward import lstm_loop

__all__ = [
    "lstm_cell",
    "lstm_layer",
    "gru_cell",
    "gru_layer",
    "LSTM",
    "GRU",
]


def lstm_cell(x_proj: Tensor, h: Tensor, c: Tensor, weight_hh: Tensor) -> tuple[Tensor, Tensor]:
    """One LSTM step, given the step's input projection.

    Args:
        x_proj: x_t W_ih^T + b_ih + b_hh, shape (B, 4H), computed for all steps at once
            before the time loop (see ``lstm_layer``).
        h, c: the state after the previous step, each (B, H).
        weight_hh: (4H, H), the recurrent weights of the four gates stacked by rows.

    Returns:
        ``(h, c)`` after this step, each (B, H).
    """
    # The only product that has to wait for the previous step: all four gates in one
    # matrix product, added to x_proj in the same kernel (addmm = x_proj + h @ W_hh^T).
    gates = torch.addmm(x_proj, h, weight_hh.t())
    i, f, g, o = gates.chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h = torch.sigmoid(o) * torch.tanh(c)
    return h, c


def lstm_layer(
    x: Tensor,
    h: Tensor,
    c: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias: Tensor | None = None,
    reverse: bool = False,
    mask: Tensor | None = None,
    handwritten_backward: bool = False,
) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """One layer in one direction over a whole sequence.

    Args:
        x: the input sequence, (T, B, D).
        h, c: the initial state, each (B, H).
        weight_ih: (4H, D); weight_hh: (4H, H).
        bias: b_ih + b_hh, (4H,), or None for no bias.
        reverse: run from step T - 1 down to 0 (the backward half of a bidirectional LSTM).
        mask: None, or (T, B, 1) bools, True where step t belongs to sequence b (for
            sequences of different lengths). At the other steps the state passes through
            unchanged, so each sequence's final state is the one at its own last step,
            and in reverse each sequence starts from (h, c) at its own last step.
        handwritten_backward: run the time loop as ``fused.lstm_loop``, whose backward
            pass is written by hand instead of recorded by autograd (chapter 6: same
            numbers, less bookkeeping). Ignored when ``mask`` is given.

    Returns:
        ``(output, (h, c))``: output (T, B, H) holds the state h after each step, in input
        order even in reverse (output[t] is the step that read x[t]; at masked steps it
        is the unchanged state); (h, c), each (B, H), is the final state.
    """
    T, B, D = x.shape
    # Hoisted out of the loop: the input projection does not depend on h, so all T steps
    # are one (T*B, D) @ (D, 4H) product instead of T small ones. Then unbind, not
    # x_proj[t] in the loop: the backward of each x_proj[t] is a zero (T, B, 4H) tensor
    # with one step filled in, T of them added up, work that grows as T^2 (chapter 5
    # measures it); unbind's backward stacks the T steps' gradients once.
    x_proj = F.linear(x.reshape(T * B, D), weight_ih, bias).view(T, B, -1)
    if handwritten_backward and mask is None:
        if reverse:
            hs, h, c = lstm_loop(x_proj.flip(0), h, c, weight_hh)
            return hs.flip(0), (h, c)
        hs, h, c = lstm_loop(x_proj, h, c, weight_hh)
        return hs, (h, c)
    x_proj = x_proj.unbind(0)
    outputs = [h] * T  # placeholders, each overwritten below
    for t in reversed(range(T)) if reverse else range(T):
        h_new, c_new = lstm_cell(x_proj[t], h, c, weight_hh)
        if mask is None:
            h, c = h_new, c_new
        else:
            h, c = torch.where(mask[t], h_new, h), torch.where(mask[t], c_new, c)
        outputs[t] = h
    return torch.stack(outputs), (h, c)


def gru_cell(x_proj: Tensor, h: Tensor, weight_hh: Tensor, bias_hh: Tensor | None = None) -> Tensor:
    """One GRU step, given the step's input projection (gate order r, z, n, as nn.GRU).

    Args:
        x_proj: x_t W_ih^T + b_ih, shape (B, 3H), computed for all steps at once before
            the time loop (see ``gru_layer``).
        h: the state after the previous step, (B, H).
        weight_hh: (3H, H), the recurrent weights of the three gates stacked by rows.
        bias_hh: (3H,), or None for no bias.

    Returns:
        h after this step, (B, H).
    """
    # Unlike the LSTM's, b_hh cannot be folded into x_proj: its n part, b_hn, sits inside
    # the product with r. Passing it to addmm costs nothing extra and keeps nn.GRU's form.
    h_proj = h @ weight_hh.t() if bias_hh is None else torch.addmm(bias_hh, h, weight_hh.t())
    H = h.shape[1]
    # r and z in one sigmoid over their 2H columns, as their pre-activations are adjacent.
    r, z = torch.sigmoid(x_proj[:, : 2 * H] + h_proj[:, : 2 * H]).chunk(2, dim=1)
    n = torch.tanh(x_proj[:, 2 * H :] + r * h_proj[:, 2 * H :])
    # (1 - z) * n + z * h = n + z * (h - n): lerp does it in one kernel.
    return torch.lerp(n, h, z)


def gru_layer(
    x: Tensor,
    h: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
    reverse: bool = False,
    mask: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """One GRU layer in one direction over a whole sequence; mirrors ``lstm_layer``.

    Args:
        x: the input sequence, (T, B, D).
        h: the initial state, (B, H).
        weight_ih: (3H, D); weight_hh: (3H, H); bias_ih, bias_hh: (3H,) or None.
        reverse, mask: as in ``lstm_layer``.

    Returns:
        ``(output, h)``: output (T, B, H), the state after each step in input order;
        h (B, H), the final state.
    """
    T, B, D = x.shape
    # Hoisted and unbound for the same reasons as in lstm_layer.
    x_proj = F.linear(x.reshape(T * B, D), weight_ih, bias_ih).view(T, B, -1).unbind(0)
    outputs = [h] * T  # placeholders, each overwritten below
    for t in reversed(range(T)) if reverse else range(T):
        h_new = gru_cell(x_proj[t], h, weight_hh, bias_hh)
        h = h_new if mask is None else torch.where(mask[t], h_new, h)
        outputs[t] = h
    return torch.stack(outputs), h


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
            by autograd; same results, faster on the CPU (chapter 6). PackedSequence
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

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
        *,
        handwritten_backward: bool = False,
    ):
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

    Args: as ``LSTM``'s, without ``proj_size`` and ``handwritten_backward``: input_size,
    hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, device=None, dtype=None.

    Parameters as ``LSTM``'s with 3H rows instead of 4H, gates stacked r, z, n, so
    state dicts of ``nn.GRU`` load both ways.

    Call it as ``output, h_n = gru(input, h_0)``: input and output as ``LSTM``'s; h_0 one
    tensor (L * num_directions, B, H), or (L * num_directions, H) unbatched, zeros when
    None; h_n has h_0's shape.
    """

    num_gates = 3
    state_names = ("h_0",)
    reference = "nn.GRU"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
    ):
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
