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

Shapes: T steps, B batch, D = ``input_size``, H = ``hidden_size``. ``DropoutLSTM`` is
a one-layer ``RecurrentBase``: parameter names, shapes and initialization are those of
a one-layer ``nn.LSTM`` (``weight_ih_l0`` (4H, D), ``weight_hh_l0`` (4H, H),
``bias_ih_l0`` and ``bias_hh_l0`` (4H,), gates i, f, g, o), so ``load_state_dict`` works
both ways; its input and hx checks are ``RecurrentBase``'s too.

``step_masks`` gives the T masks of one sequence for a hand-written time loop: a fresh
mask at every step, or one mask for the sequence, with its 1/(1-p) applied at every step
(for an input that each step consumes, such as h_{t-1} entering W_hh) or once (for a
value the recurrence carries, such as c_{t-1}, where a scale at every step would
compound to (1-p)^-T).

The masks of a whole activation, for the non-recurrent connections of a language model,
are here too: ``locked_dropout`` (one (B, F) mask for all T steps of a
(T, B, F) activation) and ``embedding_dropout`` (whole words, rows of the (V, E)
embedding matrix).
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence

from lstm_course.checks import check_bool, check_int, check_probability
from lstm_course.layers.base import RecurrentBase
from lstm_course.layers.functional import lstm_layer

__all__ = [
    "dropout_mask",
    "step_masks",
    "locked_dropout",
    "embedding_dropout",
    "dropout_lstm_layer",
    "DropoutLSTM",
]


def dropout_mask(
    p: float, shape: tuple[int, ...], like: Tensor, generator: torch.Generator | None = None
) -> Tensor:
    """Inverted-dropout mask: zeros with probability ``p``, else ``1 / (1 - p)``."""
    keep = torch.rand(shape, device=like.device, dtype=like.dtype, generator=generator) >= p
    return keep.to(like.dtype) / (1 - p)


def step_masks(
    p: float,
    shape: tuple[int, ...],
    like: Tensor,
    steps: int,
    per_step: bool = False,
    scale_once: bool = False,
    generator: torch.Generator | None = None,
) -> list[Tensor]:
    """The ``steps`` masks (each of ``shape``) of one sequence; mask t multiplies step t's input.

    - ``per_step``: a fresh inverted mask m_t / (1-p) at every step.
    - else one mask m for the sequence, as m / (1-p) at every step (variational dropout
      of something each step consumes, such as h_{t-1} entering W_hh);
    - with ``scale_once``: the 0/1 mask m at every step, and the 1/(1-p) in the first
      mask only. This is the mask for a value the recurrence carries, such as c_{t-1}:
      a unit that holds its value ends as c_0 m / (1-p) after any number of steps
      (m * m = m), where m / (1-p) at every step would grow it to c_0 (1-p)^-T.
    """
    p = check_probability("p", p)
    steps = check_int("steps", steps, minimum=0)
    per_step, scale_once = check_bool("per_step", per_step), check_bool("scale_once", scale_once)
    if per_step and scale_once:
        raise ValueError(
            "scale_once is for one mask per sequence; with per_step=True every step's "
            "mask is a fresh inverted mask"
        )
    if steps == 0:
        return []
    if per_step:
        return [dropout_mask(p, shape, like, generator) for _ in range(steps)]
    scaled = dropout_mask(p, shape, like, generator)
    if not scale_once:
        return [scaled] * steps
    binary = (scaled != 0).to(scaled.dtype)
    return [scaled] + [binary] * (steps - 1)


def locked_dropout(
    x: Tensor, p: float, training: bool = True, generator: torch.Generator | None = None
) -> Tensor:
    """Variational dropout of a (T, B, F) activation: one (B, F) mask for all T steps."""
    p = check_probability("p", p)
    if not training or p == 0:
        return x
    if x.dim() != 3:
        raise ValueError(f"locked_dropout needs a (T, B, F) tensor, got shape {tuple(x.shape)}")
    return x * dropout_mask(p, (1, *x.shape[1:]), x, generator)


def embedding_dropout(
    weight: Tensor, p: float, training: bool = True, generator: torch.Generator | None = None
) -> Tensor:
    """The (V, E) embedding matrix with whole rows (words) zeroed with probability p.

    Look tokens up in the result (``F.embedding(tokens, dropped)``): every occurrence
    of a dropped word reads zeros, every kept word its row scaled by 1/(1-p).
    """
    p = check_probability("p", p)
    if not training or p == 0:
        return weight
    return weight * dropout_mask(p, (weight.shape[0], 1), weight, generator)


def dropout_lstm_layer(
    x, h, c, weight_ih, weight_hh, bias=None, input_mask=None, recurrent_mask=None
) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """One LSTM layer over x (T, B, D), from state h, c (B, H), with fixed masks.

    ``input_mask`` (B, D) multiplies every x_t and ``recurrent_mask`` (B, H) every
    h_{t-1}: the same mask at every step. ``weight_ih`` (4H, D), ``weight_hh`` (4H, H)
    and ``bias`` = b_ih + b_hh (4H,) or None, as in ``functional.lstm_layer``, which
    runs the time loop. Returns ``(output (T, B, H), (h_T, c_T))``.
    """
    if input_mask is not None:
        x = x * input_mask  # (T, B, D) * (B, D): one mask for all T steps
    return lstm_layer(x, h, c, weight_ih, weight_hh, bias, recurrent_mask=recurrent_mask)


class DropoutLSTM(RecurrentBase):
    """One-layer LSTM with Keras/Gal-style dropout on the input and on h_{t-1}.

    Args:
        input_size: D. hidden_size: H.
        dropout: probability of dropping each input feature of a sequence (all steps).
        recurrent_dropout: probability of dropping each feature of h_{t-1} (all steps).
        batch_first: input and output are (B, T, ...) instead of (T, B, ...).
        bias: whether to use b_ih and b_hh.
        device, dtype: where and in what dtype to create the parameters.

    ``forward(input, hx=None)`` takes (T, B, D) or (B, T, D) (or (T, D) for one
    unbatched sequence) and returns ``(output, (h_n, c_n))`` like ``nn.LSTM``: output
    (T, B, H) or (B, T, H), h_n and c_n (1, B, H); hx is ``(h_0, c_0)`` of that shape.
    Padded batches are read as they are (no PackedSequence): put the padding in front,
    as Keras's ``pad_sequences`` does, so that the final state follows the real tokens.
    ``last_masks`` holds the ``(input_mask, recurrent_mask)`` of the last training call.
    """

    num_gates = 4
    state_names = ("h_0", "c_0")
    reference = "nn.LSTM"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        batch_first: bool = False,
        bias: bool = True,
        *,
        device=None,
        dtype=None,
    ):
        super().__init__(
            input_size, hidden_size, bias=bias, batch_first=batch_first, device=device, dtype=dtype
        )
        # One layer: RecurrentBase's dropout (between layers) never applies, so the name
        # is free for Keras's meaning, the dropout on the input.
        self.dropout = check_probability("dropout", dropout)
        self.recurrent_dropout = check_probability("recurrent_dropout", recurrent_dropout)
        self.last_masks: tuple[Tensor | None, Tensor | None] = (None, None)

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, dropout={self.dropout}, "
            f"recurrent_dropout={self.recurrent_dropout}, batch_first={self.batch_first}"
        )

    def sample_masks(
        self, batch: int, like: Tensor, generator: torch.Generator | None = None
    ) -> tuple[Tensor | None, Tensor | None]:
        """Draw ``(input_mask (B, D), recurrent_mask (B, H))``; None where p is 0."""
        m_x = (
            dropout_mask(self.dropout, (batch, self.input_size), like, generator)
            if self.dropout > 0
            else None
        )
        m_h = (
            dropout_mask(self.recurrent_dropout, (batch, self.hidden_size), like, generator)
            if self.recurrent_dropout > 0
            else None
        )
        return m_x, m_h

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None):
        """See the class docstring; the checks and the layout are ``RecurrentBase``'s."""
        if isinstance(input, PackedSequence):
            raise TypeError(
                "DropoutLSTM takes a padded tensor, not a PackedSequence: pad "
                "in front instead, so that the final state follows the real tokens"
            )
        return super().forward(input, hx)

    def _run_layer(self, x, state, params, reverse, mask):
        # Called once per forward (one layer, one direction): the masks are drawn here,
        # once for all T steps.
        masks = self.sample_masks(x.shape[1], x) if self.training else (None, None)
        if self.training:
            self.last_masks = masks
        bias = params["bias_ih"] + params["bias_hh"] if self.bias else None
        return dropout_lstm_layer(x, *state, params["weight_ih"], params["weight_hh"], bias, *masks)
