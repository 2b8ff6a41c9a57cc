"""The LSTM and the GRU as functions: one step (``lstm_cell``, ``gru_cell``) and one layer in
one direction over a whole sequence (``lstm_layer``, ``gru_layer``), on plain tensors.

``rnn.LSTM`` and ``rnn.GRU`` are these functions wrapped in ``nn.Module``s with
``nn.LSTM``'s and ``nn.GRU``'s API; autograd does the backward pass.

Shapes: T time steps, B batch, D input size, H hidden size. One LSTM step, gate order
i, f, g, o:

    i, f, g, o = split(x_t W_ih^T + b_ih + b_hh + h_{t-1} W_hh^T)
    c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g)
    h_t = sigmoid(o) * tanh(c_t)

The GRU's step (gate order r, z, n, as ``nn.GRU``) is written out in ``rnn.GRU``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from lstm_course.layers.handwritten_backward import lstm_loop

__all__ = [
    "lstm_cell",
    "lstm_layer",
    "gru_cell",
    "gru_layer",
]


def lstm_cell(
    x_proj: Tensor, h: Tensor, c: Tensor, weight_hh: Tensor, weight_hr: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """One LSTM step, given the step's input projection.

    Args:
        x_proj: x_t W_ih^T + b_ih + b_hh, shape (B, 4H), computed for all steps at once
            before the time loop (see ``lstm_layer``).
        h, c: the state after the previous step, h (B, H_out), c (B, H).
        weight_hh: (4H, H_out), the recurrent weights of the four gates stacked by rows.
        weight_hr: None, or the projection (H_out, H) of Sak et al. (2014)
            (references.bib: sak2014lstmp): h_t = (o * tanh(c_t)) W_hr^T, so h, and with
            it weight_hh and the next layer's input, has H_out = P < H features while c
            keeps H. H_out = H without it.

    Returns:
        ``(h, c)`` after this step, h (B, H_out), c (B, H).
    """
    # The only product that has to wait for the previous step: all four gates in one
    # matrix product, added to x_proj in the same kernel (addmm = x_proj + h @ W_hh^T).
    gates = torch.addmm(x_proj, h, weight_hh.t())
    i, f, g, o = gates.chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h = torch.sigmoid(o) * torch.tanh(c)
    if weight_hr is not None:
        h = h @ weight_hr.t()  # (B, H) -> (B, P): the projection, inside the recurrence
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
    recurrent_mask: Tensor | None = None,
    weight_hr: Tensor | None = None,
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
        handwritten_backward: run the time loop as ``handwritten_backward.lstm_loop``,
            whose backward pass is written by hand instead of recorded by autograd
            (chapter ``06_lstm_speed``: same numbers, less bookkeeping). Ignored when ``mask``
            or ``recurrent_mask`` or ``weight_hr`` is given.
        recurrent_mask: None, or (B, H): multiplies h_{t-1} where it enters the gates, the
            same mask at every step (recurrent dropout, ``dropout.dropout_lstm_layer``).
        weight_hr: None, or the projection (P, H) of ``lstm_cell``; then h, the output and
            weight_hh have P features instead of H (h (B, P), weight_hh (4H, P)).

    Returns:
        ``(output, (h, c))``: output (T, B, H) holds the state h after each step, in input
        order even in reverse (output[t] is the step that read x[t]; at masked steps it
        is the unchanged state); (h, c), each (B, H), is the final state.
    """
    T, B, D = x.shape
    # Hoisted out of the loop: the input projection does not depend on h, so all T steps
    # are one (T*B, D) @ (D, 4H) product instead of T small ones. Then unbind, not
    # x_proj[t] in the loop: the backward of each x_proj[t] is a zero (T, B, 4H) tensor
    # with one step filled in, T of them added up, work that grows as T^2 (chapter
    # ``06_lstm_speed`` measures it); unbind's backward stacks the T steps' gradients once.
    # view with the width spelled out: -1 is ambiguous for an empty batch (B = 0).
    x_proj = F.linear(x.reshape(T * B, D), weight_ih, bias).view(T, B, weight_ih.shape[0])
    if handwritten_backward and mask is None and recurrent_mask is None and weight_hr is None:
        if reverse:
            hs, h, c = lstm_loop(x_proj.flip(0), h, c, weight_hh)
            return hs.flip(0), (h, c)
        hs, h, c = lstm_loop(x_proj, h, c, weight_hh)
        return hs, (h, c)
    x_proj = x_proj.unbind(0)
    outputs = [h] * T  # placeholders, each overwritten below
    for t in reversed(range(T)) if reverse else range(T):
        h_in = h if recurrent_mask is None else h * recurrent_mask
        h_new, c_new = lstm_cell(x_proj[t], h_in, c, weight_hh, weight_hr)
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
    x_proj = F.linear(x.reshape(T * B, D), weight_ih, bias_ih).view(T, B, weight_ih.shape[0])
    x_proj = x_proj.unbind(0)
    outputs = [h] * T  # placeholders, each overwritten below
    for t in reversed(range(T)) if reverse else range(T):
        h_new = gru_cell(x_proj[t], h, weight_hh, bias_hh)
        h = h_new if mask is None else torch.where(mask[t], h_new, h)
        outputs[t] = h
    return torch.stack(outputs), h
