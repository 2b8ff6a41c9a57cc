"""The input and state checks of ``nn.RNNBase``, redone with the course's messages.

Every check raises what ``nn.RNNBase`` (``nn.LSTM`` for a pair of states) raises, with
torch's message first and the course's after it: what was expected and what was got.
``RecurrentBase`` builds on :class:`RecurrentChecks`, so the LSTM, the GRU and the
dropout LSTM of ``layers`` all check their input and hx here.

Shapes: T time steps, B batch, D input size, H hidden size, H_out = proj_size or H,
L layers, and num_directions = 2 if bidirectional else 1.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = [
    "RecurrentChecks",
]


class RecurrentChecks(nn.RNNBase):
    """``nn.RNNBase`` whose input and hx checks keep torch's exception types and messages
    and add the course's after them.

    Not used directly: ``base.RecurrentBase`` builds on it. A subclass sets
    ``state_names``, the initial state's names (``("h_0", "c_0")`` or ``("h_0",)``), and
    ``reference``, the torch class it mirrors (e.g. ``"nn.GRU"``); the messages name both.
    """

    state_names: tuple[str, ...]
    reference: str

    def _initial_state(self, x: Tensor, hx, batched: bool, batch_sizes) -> tuple[Tensor, ...]:
        """hx as a tuple in ``state_names`` order, each (L * num_directions, B, .) (a batch
        axis added for unbatched input); zeros when None. Types and ranks checked here,
        shapes by ``check_forward_args``."""
        names = self.state_names
        if hx is None:
            shapes = [self.get_expected_hidden_size(x, batch_sizes)]
            if len(names) == 2:
                shapes.append(self.get_expected_cell_size(x, batch_sizes))
            return tuple(torch.zeros(s, dtype=x.dtype, device=x.device) for s in shapes)
        if len(names) == 1:
            if not isinstance(hx, Tensor):
                raise TypeError(
                    f"hx must be None or one tensor {names[0]} of shape (num_layers * "
                    f"num_directions, B, H), got {type(hx).__name__}: {self.reference} has "
                    "no cell state, so pass h_0 alone, not a tuple"
                )
            hx = (hx,)
        elif not isinstance(hx, tuple | list):
            raise TypeError(
                f"hx must be None or a pair ({', '.join(names)}) of tensors, got {type(hx).__name__}"
            )
        elif len(hx) != 2:
            raise RuntimeError(
                f"lstm expects two hidden states, got {len(hx)}: hx must be None or a pair "
                f"({', '.join(names)}) of tensors"
            )
        for name, a in zip(names, hx, strict=True):
            if not isinstance(a, Tensor):
                raise TypeError(f"{name} must be a tensor, got {type(a).__name__}")
        rank = 3 if batched else 2
        if any(a.dim() != rank for a in hx):
            what = "hx and cx" if len(hx) == 2 else "hx"
            dims = ", ".join(f"{a.dim()}-D" for a in hx)
            dims = f"({dims}) tensors" if len(hx) == 2 else f"{dims} tensor"
            kind = "batched 3-D" if batched else "unbatched 2-D"
            raise RuntimeError(
                f"For {kind} input, {what} should also be {rank}-D but got {dims}"
                + ("" if batched else "; unbatched input takes a state without a batch axis")
            )
        return tuple(hx) if batched else tuple(a.unsqueeze(1) for a in hx)

    def check_input(self, input: Tensor, batch_sizes: Tensor | None) -> None:
        """nn.RNNBase's: input (T, B, D) (batch_first: (B, T, D)), or packed data (N, D)."""
        dtype = self.weight_ih_l0.dtype
        if input.dtype != dtype and not torch.is_autocast_enabled(input.device.type):
            raise ValueError(
                f"RNN input dtype ({input.dtype}) does not match weight dtype ({dtype}). "
                f"Convert input: input.to({dtype}), or convert model: model.to({input.dtype})"
            )
        expected_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_dim:
            raise RuntimeError(f"input must have {expected_dim} dimensions, got {input.dim()}")
        if input.size(-1) != self.input_size:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                f"{input.size(-1)}; the input's last dimension must be input_size = "
                f"{self.input_size}, got shape {tuple(input.shape)}"
            )

    def get_expected_cell_size(self, input: Tensor, batch_sizes: Tensor | None):
        """(L * num_directions, B, H): c_0's shape (the LSTM's; nn.LSTM's name)."""
        *head, _ = self.get_expected_hidden_size(input, batch_sizes)
        return (*head, self.hidden_size)

    def check_forward_args(self, input: Tensor, hidden, batch_sizes: Tensor | None) -> None:
        """nn.RNNBase's (nn.LSTM's for a pair): the input, then each state's shape."""
        self.check_input(input, batch_sizes)
        states = hidden if isinstance(hidden, tuple | list) else (hidden,)
        expected = [self.get_expected_hidden_size(input, batch_sizes)]
        if len(self.state_names) == 2:
            expected.append(self.get_expected_cell_size(input, batch_sizes))
        for k, (name, a, shape) in enumerate(zip(self.state_names, states, expected, strict=True)):
            which = f"hidden[{k}]" if len(states) > 1 else "hidden"
            self.check_hidden_size(
                a,
                shape,
                f"Expected {which} size {{}}, got {{}}; {name} is (num_layers * "
                "num_directions, B, " + ("H_out" if k == 0 else "H") + ")",
            )

    def permute_hidden(self, hx, permutation: Tensor | None):
        """hx (a tensor or a pair) with its batch axis in ``permutation``'s order."""
        if permutation is None:
            return hx
        if isinstance(hx, tuple):
            return tuple(a.index_select(1, permutation) for a in hx)
        return hx.index_select(1, permutation)
