"""LSTM variants as cells, one time step each, to see what each piece of the LSTM is for.

Greff et al. (2017, "LSTM: A Search Space Odyssey", references.bib: greff2017odyssey)
compare the standard LSTM with variants that drop or change one piece. Here are those
pieces as interchangeable cells, plus layer normalization:

- ``LSTMCell``: the standard LSTM, numerically ``torch.nn.LSTMCell``.
- ``PeepholeLSTMCell``: the gates also see the cell state (Gers & Schmidhuber 2000,
  gers2000peephole).
- ``NoForgetGateLSTMCell``: no forget gate, the 1997 memory rule (Hochreiter &
  Schmidhuber 1997, hochreiter1997lstm).
- ``CIFGLSTMCell``: the forget gate coupled to the input gate, f = 1 - i (Greff et al.).
- ``NoOutputActivationLSTMCell``: no tanh on the way out, h = o * c (Greff et al.'s NOAF).
- ``LayerNormLSTMCell``: layer-normalized summed inputs and cell state (Ba et al. 2016,
  ba2016layer).
- ``RecurrentLayer``: runs any of them over a sequence.

Every cell is ``Cell(input_size, hidden_size, device=None, dtype=None)`` with
``forward(x, (h, c)) -> (h, c)``: x (B, D), h and c (B, H); the state may be None for
zeros. ``forward_with_gates`` also returns the gate activations (each (B, H)) keyed by
name, for plots and tests. Weights stack the gates by rows in the order i, f, g, o
(PyTorch's), leaving out those a variant does not have; what the cells share (weights,
init, checks) is ``gated_cell.GatedCell``. sigma is the logistic sigmoid.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstm_course.checks import check_bool, check_positive
from lstm_course.layers.gated_cell import GatedCell

__all__ = [
    "LSTMCell",
    "PeepholeLSTMCell",
    "NoForgetGateLSTMCell",
    "CIFGLSTMCell",
    "NoOutputActivationLSTMCell",
    "LayerNormLSTMCell",
    "RecurrentLayer",
]


class LSTMCell(GatedCell):
    """The standard LSTM cell, with a forget gate (Gers et al. 2000) and no peepholes:
    Greff et al.'s baseline without peepholes, numerically ``torch.nn.LSTMCell``.

        i, f, g, o = x W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh   (each (B, H))
        c_t = sigma(f) * c_{t-1} + sigma(i) * tanh(g)
        h_t = sigma(o) * tanh(c_t)

    Parameters as ``nn.LSTMCell``'s: weight_ih (4H, D), weight_hh (4H, H), bias_ih and
    bias_hh (4H,), so its state dict loads into ``nn.LSTMCell`` and back.
    """

    def _step(self, x, h, c):
        zi, zf, zg, zo = self._preactivations(x, h)
        i, f, g, o = torch.sigmoid(zi), torch.sigmoid(zf), torch.tanh(zg), torch.sigmoid(zo)
        c = f * c + i * g
        h = o * torch.tanh(c)
        return (h, c), {"i": i, "f": f, "g": g, "o": o}


class PeepholeLSTMCell(GatedCell):
    """LSTM with peephole connections (Gers & Schmidhuber 2000; Greff et al. 2017's
    "vanilla" LSTM): the gates see the cell state through diagonal weights, so they can
    time their opening on what is stored, not only on h = o * tanh(c), which is zero
    whenever the output gate is closed.

        i = sigma(z_i + w_ci * c_{t-1}),  f = sigma(z_f + w_cf * c_{t-1}),  g = tanh(z_g)
        c_t = f * c_{t-1} + i * g
        o = sigma(z_o + w_co * c_t)        (o sees the new cell state)
        h_t = o * tanh(c_t)

    with z_i, z_f, z_g, z_o as in ``LSTMCell``. Parameters: ``LSTMCell``'s plus the
    peephole weights w_ci, w_cf, w_co, each (H,) (a diagonal matrix, stored as its
    diagonal). With all three zero it is ``LSTMCell``.
    """

    def _extra_parameters(self, factory):
        for name in ("w_ci", "w_cf", "w_co"):
            self.register_parameter(name, nn.Parameter(torch.empty(self.hidden_size, **factory)))

    def _step(self, x, h, c_prev):
        zi, zf, zg, zo = self._preactivations(x, h)
        i = torch.sigmoid(zi + self.w_ci * c_prev)
        f = torch.sigmoid(zf + self.w_cf * c_prev)
        g = torch.tanh(zg)
        c = f * c_prev + i * g
        o = torch.sigmoid(zo + self.w_co * c)
        h = o * torch.tanh(c)
        return (h, c), {"i": i, "f": f, "g": g, "o": o}


class NoForgetGateLSTMCell(GatedCell):
    """LSTM without a forget gate, as in the original LSTM (Hochreiter & Schmidhuber
    1997; Greff et al.'s NFG variant): the cell state only ever adds,

        i, g, o = x W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh
        c_t = c_{t-1} + sigma(i) * tanh(g)       (the constant error carousel)
        h_t = sigma(o) * tanh(c_t)

    so dc_t/dc_{t-1} = 1 exactly (gradients flow back undiminished), and on a long
    input c_t can grow without bound; Gers et al. (2000) added the forget gate for that.
    Weights (3H, .), gates stacked i, g, o. (The 1997 paper also used other squashing
    functions than tanh; the memory rule is the point here.)
    """

    gates = "igo"

    def _step(self, x, h, c):
        zi, zg, zo = self._preactivations(x, h)
        i, g, o = torch.sigmoid(zi), torch.tanh(zg), torch.sigmoid(zo)
        c = c + i * g
        h = o * torch.tanh(c)
        return (h, c), {"i": i, "g": g, "o": o}


class CIFGLSTMCell(GatedCell):
    """Coupled input and forget gate (CIFG, Greff et al. 2017; the GRU couples its
    gates the same way): one gate decides both how much to write and how much to keep,

        i, g, o = x W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh
        f = 1 - sigma(i)
        c_t = f * c_{t-1} + sigma(i) * tanh(g)
        h_t = sigma(o) * tanh(c_t)

    so c_t is a convex mix of c_{t-1} and tanh(g) and stays in [-1, 1] when it starts
    there. A quarter fewer parameters: weights (3H, .), gates stacked i, g, o.
    """

    gates = "igo"

    def _step(self, x, h, c):
        zi, zg, zo = self._preactivations(x, h)
        i, g, o = torch.sigmoid(zi), torch.tanh(zg), torch.sigmoid(zo)
        f = 1 - i
        c = f * c + i * g
        h = o * torch.tanh(c)
        return (h, c), {"i": i, "f": f, "g": g, "o": o}


class NoOutputActivationLSTMCell(GatedCell):
    """LSTM without the output activation function (Greff et al.'s NOAF variant): the
    cell state leaves the cell unsquashed,

        i, f, g, o = x W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh
        c_t = sigma(f) * c_{t-1} + sigma(i) * tanh(g)       (as in ``LSTMCell``)
        h_t = sigma(o) * c_t                                 (no tanh)

    so |h_t| <= |c_t|, which the forget gate bounds only by max|i * g| / (1 - max f):
    a gate near 1 lets h grow far beyond the [-1, 1] of ``LSTMCell``. Parameters as
    ``LSTMCell``'s (same names and shapes, so state dicts load both ways).
    """

    def _step(self, x, h, c):
        zi, zf, zg, zo = self._preactivations(x, h)
        i, f, g, o = torch.sigmoid(zi), torch.sigmoid(zf), torch.tanh(zg), torch.sigmoid(zo)
        c = f * c + i * g
        h = o * c
        return (h, c), {"i": i, "f": f, "g": g, "o": o}


class LayerNormLSTMCell(GatedCell):
    """LSTM with layer normalization, following Ba et al. (2016), equations 20-22:

        i, f, g, o = LN(W_ih x_t; gain_ih, bias_ih) + LN(W_hh h_{t-1}; gain_hh, bias_hh)
        c_t = sigma(f) * c_{t-1} + sigma(i) * tanh(g)
        h_t = sigma(o) * tanh(LN(c_t; gain_c, bias_c))

    where LN(a; gain, bias) = gain * (a - mean(a)) / sqrt(var(a) + eps) + bias, with the
    mean and (biased) variance taken per example over a's features. What is normalized:
    the summed inputs W_ih x_t and, separately, W_hh h_{t-1}, each over all 4H
    pre-activations of the four gates at once (gain and bias (4H,) each), and the new
    cell state c_t over its H units (gain_c, bias_c (H,)) before the output tanh. The
    state carried to the next step is the unnormalized c_t. The paper's extra bias b
    is left out: bias_ih + bias_hh already add one. The paper writes the gates in the
    order f, i, o, g; here they are i, f, g, o like the other cells (normalization over
    all 4H does not depend on the order).

    Because W_ih x_t is normalized, the output does not change when W_ih is scaled by
    a positive constant (up to eps), and likewise W_hh.

    Parameters: weight_ih (4H, D), weight_hh (4H, H) uniform in +-1/sqrt(H); gains
    start at 1 and biases at 0, as in ``nn.LayerNorm``. ``eps`` (> 0; at t = 0 with a
    zero state W_hh h is all zeros and its variance is 0) defaults to nn.LayerNorm's.
    ``forward_with_gates`` also returns "ih_normalized", "hh_normalized" (B, 4H) and
    "c_normalized" (B, H): the normalized values before gain and bias.
    """

    has_bias = False

    def __init__(
        self, input_size: int, hidden_size: int, eps: float = 1e-5, device=None, dtype=None
    ):
        self.eps = check_positive(
            "eps", eps, " (it keeps LN of an all-zero vector, such as W_hh h_0 for h_0 = 0, finite)"
        )
        super().__init__(input_size, hidden_size, device, dtype)

    def _extra_parameters(self, factory):
        four_h, H = 4 * self.hidden_size, self.hidden_size
        for name, n in (("ih", four_h), ("hh", four_h), ("c", H)):
            self.register_parameter(f"gain_{name}", nn.Parameter(torch.empty(n, **factory)))
            self.register_parameter(f"bias_{name}", nn.Parameter(torch.empty(n, **factory)))

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.hidden_size)
        for name, param in self.named_parameters():
            if name.startswith("weight"):
                nn.init.uniform_(param, -bound, bound)
            else:  # gain 1, bias 0: each LN starts as plain standardization
                nn.init.constant_(param, 1.0 if name.startswith("gain") else 0.0)

    def extra_repr(self) -> str:
        return super().extra_repr() + (f", eps={self.eps}" if self.eps != 1e-5 else "")

    def _normalize(self, a: Tensor) -> Tensor:
        return F.layer_norm(a, a.shape[-1:], eps=self.eps)  # no gain and bias: added below

    def _step(self, x, h, c):
        n_ih = self._normalize(x @ self.weight_ih.t())
        n_hh = self._normalize(h @ self.weight_hh.t())
        z = torch.addcmul(self.bias_ih, self.gain_ih, n_ih) + torch.addcmul(
            self.bias_hh, self.gain_hh, n_hh
        )
        zi, zf, zg, zo = z.chunk(4, dim=1)
        i, f, g, o = torch.sigmoid(zi), torch.sigmoid(zf), torch.tanh(zg), torch.sigmoid(zo)
        c = f * c + i * g
        n_c = self._normalize(c)
        h = o * torch.tanh(torch.addcmul(self.bias_c, self.gain_c, n_c))
        return (h, c), {
            "i": i,
            "f": f,
            "g": g,
            "o": o,
            "ih_normalized": n_ih,
            "hh_normalized": n_hh,
            "c_normalized": n_c,
        }


class RecurrentLayer(nn.Module):
    """Runs a cell over a sequence: ``RecurrentLayer(PeepholeLSTMCell(D, H))``.

    Args:
        cell: any cell with ``input_size``, ``hidden_size`` and ``forward(x, (h, c)) ->
            (h, c)``: the cells above, or ``torch.nn.LSTMCell``.
        batch_first: input and output are (B, T, ...) instead of (T, B, ...).

    ``forward(input, state=None)``: input (T, B, D) (or (B, T, D)); state (h_0, c_0),
    each (B, H), or None for zeros. Returns ``(output, (h_T, c_T))``: output (T, B, H)
    (or (B, T, H)) holds h after every step. With ``LSTMCell`` this is a one-layer
    ``nn.LSTM``, only slower: the input projection is not hoisted out of the loop,
    since a generic cell does not expose it.
    """

    def __init__(self, cell: nn.Module, batch_first: bool = False):
        super().__init__()
        if not isinstance(cell, nn.Module) or not all(
            hasattr(cell, a) for a in ("input_size", "hidden_size")
        ):
            raise TypeError(
                f"cell must be an nn.Module with input_size and hidden_size, "
                f"such as LSTMCell(D, H); got {type(cell).__name__}"
            )
        self.cell, self.batch_first = cell, check_bool("batch_first", batch_first)

    def extra_repr(self) -> str:
        return "batch_first=True" if self.batch_first else ""

    def forward(
        self, input: Tensor, state: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        layout = "(B, T, D)" if self.batch_first else "(T, B, D)"
        D = self.cell.input_size
        if not isinstance(input, Tensor) or input.dim() != 3 or input.shape[2] != D:
            got = tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__
            raise ValueError(
                f"input must have shape {layout} with D = input_size = {D}, "
                f"got {got}; for one step call the cell itself"
            )
        x = input.transpose(0, 1) if self.batch_first else input
        if x.shape[0] == 0:
            raise ValueError(
                f"input has no time steps (T = 0): got shape "
                f"{tuple(input.shape)} for {layout}; pass at least one step"
            )
        outputs = []
        for x_t in x.unbind(0):  # unbind, not x[t]: see functional.lstm_layer
            state = self.cell(x_t, state)
            outputs.append(state[0])
        output = torch.stack(outputs)
        return (output.transpose(0, 1) if self.batch_first else output), tuple(state)
