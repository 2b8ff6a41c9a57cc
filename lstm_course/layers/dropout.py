"""An LSTM layer with variational ("recurrent") dropout, as Keras's ``LSTM(dropout=...,
recurrent_dropout=...)`` and Gal & Ghahramani (2016) describe it.

In training mode, each sequence of the batch draws two masks once per forward call:

    m_x in {0, 1/(1-p_x)}^D   (``dropout``: on the input x_t)
    m_h in {0, 1/(1-p_h)}^H   (``recurrent_dropout``: on the previous state h_{t-1})

and reuses them at every step (not a new mask per step, which is what a plain
``nn.Dropout`` inside the loop would do):

    i, f, g, o = split((x_t * m_x) W_ih^T + b_ih + (h_{t-1} * m_h) W_hh^T + b_hh)
    c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g)
    h_t = sigmoid(o) * tanh(c_t)

The cell state c_t and the layer's outputs h_t are never masked; the output h_t is the
unmasked state. In eval mode (or with both probabilities 0) there are no masks and the
layer is exactly a one-layer ``nn.LSTM`` with the same parameters.

How this relates to Keras: Keras 2's ``LSTMCell`` draws four independent input masks
and four independent recurrent masks, one per gate; with ``implementation=1`` each gate
uses its own, with ``implementation=2`` only the first of each is used for all four
gates. Keras 3 draws a single mask of each kind. Here one input mask and one recurrent
mask are shared by the four gates, which is Gal & Ghahramani's tied-weights LSTM and
what Keras does with ``implementation=2``; per-gate masks would need four separate
products per step instead of one fused product.

Shapes: T steps, B batch, D = ``input_size``, H = ``hidden_size``. Parameter names,
shapes and initialization are those of a one-layer ``nn.LSTM`` (``weight_ih_l0`` (4H, D),
``weight_hh_l0`` (4H, H), ``bias_ih_l0`` and ``bias_hh_l0`` (4H,), gates i, f, g, o), so
``load_state_dict`` works both ways.
"""

from __future__ import annotations

import math
import numbers

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstm_course.layers.rnn import lstm_cell

__all__ = [
    "dropout_mask",
    "dropout_lstm_layer",
    "DropoutLSTM",
]


def _probability(name: str, p) -> float:
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p < 1:
        raise ValueError(f"{name} must be a probability in [0, 1), got {p!r} "
                         "(1 would drop everything)")
    return float(p)


def _count(name: str, n) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"{name} must be an int >= 1, got {n!r}")
    return int(n)


def dropout_mask(p: float, shape: tuple[int, ...], like: Tensor,
                 generator: torch.Generator | None = None) -> Tensor:
    """Inverted-dropout mask: zeros with probability ``p``, else ``1 / (1 - p)``."""
    keep = torch.rand(shape, device=like.device, dtype=like.dtype, generator=generator) >= p
    return keep.to(like.dtype) / (1 - p)


def dropout_lstm_layer(x: Tensor, h: Tensor, c: Tensor, weight_ih: Tensor, weight_hh: Tensor,
                       bias: Tensor | None = None, input_mask: Tensor | None = None,
                       recurrent_mask: Tensor | None = None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """One LSTM layer over x (T, B, D), from state h, c (B, H), with fixed masks.

    ``input_mask`` (B, D) multiplies every x_t and ``recurrent_mask`` (B, H) every
    h_{t-1}: the same mask at every step. ``bias`` is b_ih + b_hh. Returns
    ``(output (T, B, H), (h_T, c_T))``.
    """
    T, B, D = x.shape
    if input_mask is not None:
        x = x * input_mask  # (T, B, D) * (B, D): one mask for all T steps
    # The input projection does not depend on h: one product for all steps.
    x_proj = F.linear(x.reshape(T * B, D), weight_ih, bias).view(T, B, -1).unbind(0)
    outputs = []
    for t in range(T):
        # The mask acts only where h_{t-1} enters the gates; the step is chapter 5's cell.
        h, c = lstm_cell(x_proj[t], h if recurrent_mask is None else h * recurrent_mask, c,
                         weight_hh)
        outputs.append(h)
    return torch.stack(outputs), (h, c)


class DropoutLSTM(nn.Module):
    """One-layer LSTM with Keras/Gal-style dropout on the input and on h_{t-1}.

    Args:
        input_size: D. hidden_size: H.
        dropout: probability of dropping each input feature of a sequence (all steps).
        recurrent_dropout: probability of dropping each feature of h_{t-1} (all steps).
        batch_first: input and output are (B, T, ...) instead of (T, B, ...).
        bias: whether to use b_ih and b_hh.

    ``forward(input, hx=None)`` takes (T, B, D) or (B, T, D) and returns ``(output,
    (h_n, c_n))`` like ``nn.LSTM``: output (T, B, H) or (B, T, H), h_n and c_n (1, B, H).
    Padded batches are read as they are (no PackedSequence): put the padding in front,
    as Keras's ``pad_sequences`` does, so that the final state follows the real tokens.
    ``last_masks`` holds the ``(input_mask, recurrent_mask)`` of the last training call.
    """

    def __init__(self, input_size: int, hidden_size: int, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, batch_first: bool = False, bias: bool = True):
        super().__init__()
        self.input_size = _count("input_size", input_size)
        self.hidden_size = _count("hidden_size", hidden_size)
        self.dropout = _probability("dropout", dropout)
        self.recurrent_dropout = _probability("recurrent_dropout", recurrent_dropout)
        if not isinstance(batch_first, bool) or not isinstance(bias, bool):
            raise ValueError(f"batch_first and bias must be True or False, got "
                             f"{batch_first!r} and {bias!r}")
        self.batch_first = batch_first
        self.bias = bias
        H = hidden_size
        self.weight_ih_l0 = nn.Parameter(torch.empty(4 * H, input_size))
        self.weight_hh_l0 = nn.Parameter(torch.empty(4 * H, H))
        if bias:
            self.bias_ih_l0 = nn.Parameter(torch.empty(4 * H))
            self.bias_hh_l0 = nn.Parameter(torch.empty(4 * H))
        else:
            self.register_parameter("bias_ih_l0", None)
            self.register_parameter("bias_hh_l0", None)
        self.last_masks: tuple[Tensor | None, Tensor | None] = (None, None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform in (-1/sqrt(H), 1/sqrt(H)), as ``nn.LSTM`` does."""
        bound = 1 / math.sqrt(self.hidden_size)
        for param in self.parameters():
            nn.init.uniform_(param, -bound, bound)

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, dropout={self.dropout}, "
                f"recurrent_dropout={self.recurrent_dropout}, batch_first={self.batch_first}")

    def sample_masks(self, batch: int, like: Tensor, generator: torch.Generator | None = None
                     ) -> tuple[Tensor | None, Tensor | None]:
        """Draw ``(input_mask (B, D), recurrent_mask (B, H))``; None where p is 0."""
        m_x = (dropout_mask(self.dropout, (batch, self.input_size), like, generator)
               if self.dropout > 0 else None)
        m_h = (dropout_mask(self.recurrent_dropout, (batch, self.hidden_size), like, generator)
               if self.recurrent_dropout > 0 else None)
        return m_x, m_h

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None):
        if not isinstance(input, Tensor) or input.dim() != 3:
            got = tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__
            raise ValueError(f"input must be a 3-D tensor, (B, T, D) with batch_first else "
                             f"(T, B, D); got {got} (PackedSequence is not supported: "
                             "pad in front instead)")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"input's last dimension must be input_size = {self.input_size}, "
                             f"got shape {tuple(input.shape)}")
        x = input.transpose(0, 1) if self.batch_first else input
        B, H = x.shape[1], self.hidden_size
        if hx is None:
            h = c = x.new_zeros(B, H)
        else:
            if (not isinstance(hx, tuple | list) or len(hx) != 2
                    or any(tuple(a.shape) != (1, B, H) for a in hx)):
                raise ValueError(f"hx must be a pair (h_0, c_0) of shape (1, B, H) = "
                                 f"{(1, B, H)}")
            h, c = hx[0][0], hx[1][0]
        masks = self.sample_masks(B, x) if self.training else (None, None)
        if self.training:
            self.last_masks = masks
        bias = self.bias_ih_l0 + self.bias_hh_l0 if self.bias else None
        out, (h, c) = dropout_lstm_layer(x, h, c, self.weight_ih_l0, self.weight_hh_l0, bias,
                                         *masks)
        if self.batch_first:
            out = out.transpose(0, 1)
        return out, (h[None], c[None])
