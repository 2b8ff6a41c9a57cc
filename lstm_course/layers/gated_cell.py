"""What every variant cell of ``cells`` shares: weights in PyTorch's layout, their
initialization and the checks of one step's input and state.

A cell is ``Cell(input_size, hidden_size, device=None, dtype=None)`` with
``forward(x, (h, c)) -> (h, c)``: x (B, D), h and c (B, H); the state may be None for
zeros. Weights stack the gates by rows in the order i, f, g, o (PyTorch's), leaving out
those a variant does not have: ``weight_ih`` (G*H, D), ``weight_hh`` (G*H, H),
``bias_ih`` and ``bias_hh`` (G*H,), G = ``len(gates)``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstm_course.checks import check_int

__all__ = [
    "GatedCell",
]


class GatedCell(nn.Module):
    """What the cells share: weights, init, input checks. A subclass sets ``gates`` (the
    gates stacked in the weights, e.g. "ifgo") and implements ``_step(x, h, c)`` ->
    ``((h, c), gates)``."""

    gates = "ifgo"
    has_bias = True  # LayerNormLSTMCell's LN biases take the place of bias_ih and bias_hh

    def __init__(self, input_size: int, hidden_size: int, device=None, dtype=None):
        super().__init__()
        self.input_size = check_int("input_size", input_size)
        self.hidden_size = check_int("hidden_size", hidden_size)
        G, factory = len(self.gates) * hidden_size, {"device": device, "dtype": dtype}
        self.weight_ih = nn.Parameter(torch.empty(G, input_size, **factory))
        self.weight_hh = nn.Parameter(torch.empty(G, hidden_size, **factory))
        if self.has_bias:
            self.bias_ih = nn.Parameter(torch.empty(G, **factory))
            self.bias_hh = nn.Parameter(torch.empty(G, **factory))
        self._extra_parameters(factory)
        self.reset_parameters()

    def _extra_parameters(self, factory: dict) -> None:
        """Register the parameters a variant adds (peepholes, layer-norm gains)."""

    def reset_parameters(self) -> None:
        """Every parameter uniform in (-1/sqrt(H), 1/sqrt(H)), as ``nn.LSTMCell`` does."""
        bound = 1 / math.sqrt(self.hidden_size)
        for param in self.parameters():
            nn.init.uniform_(param, -bound, bound)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"

    def _preactivations(self, x: Tensor, h: Tensor) -> tuple[Tensor, ...]:
        """x W_ih^T + b_ih + h W_hh^T + b_hh split by gate, each (B, H)."""
        if not self.has_bias:  # bias_ih, if any, means something else (LayerNormLSTMCell)
            raise NotImplementedError(f"{type(self).__name__} has no plain gate biases")
        z = torch.addmm(F.linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh.t())
        return (z + self.bias_hh).chunk(len(self.gates), dim=1)

    def forward(
        self, x: Tensor, state: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor]:
        """One step: x (B, D), state (h, c) each (B, H) or None; returns (h, c)."""
        return self.forward_with_gates(x, state)[0]

    def forward_with_gates(
        self, x: Tensor, state: tuple[Tensor, Tensor] | None = None
    ) -> tuple[tuple[Tensor, Tensor], dict[str, Tensor]]:
        """One step, also returning the gate activations keyed "i", "f", "g", "o"."""
        h, c = self._check(x, state)
        return self._step(x, h, c)

    def _step(self, x: Tensor, h: Tensor, c: Tensor):
        raise NotImplementedError

    def _check(self, x, state) -> tuple[Tensor, Tensor]:
        name = type(self).__name__
        if not isinstance(x, Tensor) or x.dim() != 2 or x.shape[1] != self.input_size:
            got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            error = ValueError if isinstance(x, Tensor) else TypeError
            raise error(
                f"{name} takes one step x of shape (B, input_size) = (B, "
                f"{self.input_size}), got {got}; run a sequence with "
                "RecurrentLayer, and give one example as x[None]"
            )
        if x.dtype != self.weight_ih.dtype:
            raise ValueError(
                f"x is {x.dtype} but the parameters are {self.weight_ih.dtype}: "
                f"convert one, e.g. x.to({self.weight_ih.dtype})"
            )
        want = (x.shape[0], self.hidden_size)
        if state is None:
            zeros = x.new_zeros(want)
            return zeros, zeros
        if not isinstance(state, tuple | list) or len(state) != 2:
            error = ValueError if isinstance(state, tuple | list) else TypeError
            raise error(
                f"state must be None or a pair (h, c) of tensors, got {type(state).__name__}"
            )
        for s_name, s in zip("hc", state, strict=True):
            if not isinstance(s, Tensor) or tuple(s.shape) != want:
                got = tuple(s.shape) if isinstance(s, Tensor) else type(s).__name__
                error = ValueError if isinstance(s, Tensor) else TypeError
                raise error(
                    f"{s_name} must have shape (B, hidden_size) = {want} to go "
                    f"with x of shape {tuple(x.shape)}, got {got}"
                )
        return state[0], state[1]
