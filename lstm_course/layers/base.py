"""The machinery ``rnn.LSTM`` and ``rnn.GRU`` share, written once.

An LSTM and a GRU differ only in what one layer does over time (``lstm_layer`` versus
``gru_layer``), in how many gates they stack (4 or 3) and in their state ((h, c) or h).
Everything else is ``torch.nn.RNNBase``'s API and lives here: argument checks, parameter
registration in PyTorch's names and order, initialization, the loop over layers and
directions with dropout between layers, batch_first, unbatched input, PackedSequence,
and the input and hx checks with their error messages.

Shapes: T time steps, B batch, D input size, H hidden size, L layers, and
num_directions = 2 if bidirectional else 1.
"""

from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence

from lstm_course.checks import check_bool, check_int, check_probability

__all__ = [
    "RecurrentBase",
]


class RecurrentBase(nn.Module):
    """A multi-layer, optionally bidirectional recurrent network with ``nn.RNNBase``'s API.

    Not used directly: a subclass sets three class attributes and one method.

    - ``num_gates``: how many gates are stacked by rows in each weight (LSTM 4, GRU 3).
    - ``state_names``: the initial state's names, ``("h_0", "c_0")`` or ``("h_0",)``.
      With one name, ``hx`` and the returned final state are a single tensor (as in
      ``nn.GRU``); with two, a tuple (as in ``nn.LSTM``).
    - ``reference``: the torch class it mirrors, e.g. ``"nn.GRU"``, for messages.
    - ``_run_layer(x, state, params, reverse, mask) -> (output, state)``: one layer in one
      direction; x (T, B, D_layer); state a tuple of (B, H) tensors in ``state_names``
      order; params the dict from :meth:`_layer_parameters`; mask None or (T, B, 1) bools
      (see ``lstm_layer``); output (T, B, H) in input order.

    Parameters, in PyTorch's order, for layer k and suffix "" (forward) or "_reverse":
    ``weight_ih_l{k}{suffix}`` (G*H, D for k = 0, else H * num_directions),
    ``weight_hh_l{k}{suffix}`` (G*H, H) and, with bias, ``bias_ih_l{k}{suffix}`` and
    ``bias_hh_l{k}{suffix}`` (G*H,), where G = ``num_gates``.
    """

    num_gates: int
    state_names: tuple[str, ...]
    reference: str

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
        super().__init__()
        try:
            self.dropout = check_probability("dropout", dropout, allow_one=True)
        except TypeError as error:  # nn.RNNBase says ValueError for a dropout of wrong type
            raise ValueError(str(error)) from None
        self.input_size = check_int("input_size", input_size)
        self.hidden_size = check_int("hidden_size", hidden_size)
        self.num_layers = check_int("num_layers", num_layers)
        self.bias = check_bool("bias", bias)
        self.batch_first = check_bool("batch_first", batch_first)
        self.bidirectional = bool(bidirectional)
        self.proj_size = 0  # as nn.RNNBase has it; only LSTMs may project, and ours do not
        if dropout > 0 and num_layers == 1:
            # Point at the user's line: one frame up for a subclass that keeps this
            # __init__ (GRU), two for one that wraps it (LSTM).
            inherited = type(self).__init__ is RecurrentBase.__init__
            warnings.warn(
                f"dropout={dropout} has no effect with num_layers=1: dropout acts "
                "between layers, on the outputs of every layer but the last",
                stacklevel=2 if inherited else 3,
            )
        G, H, factory = (
            self.num_gates * hidden_size,
            hidden_size,
            {"device": device, "dtype": dtype},
        )
        # Registered in PyTorch's order (layer, then direction, then name), so that
        # parameters() lines up with nn.LSTM's / nn.GRU's for optimizers and state dicts.
        for layer in range(num_layers):
            d_in = input_size if layer == 0 else H * self.num_directions
            for suffix in self._suffixes:
                shapes = {"weight_ih": (G, d_in), "weight_hh": (G, H)}
                if bias:
                    shapes.update(bias_ih=(G,), bias_hh=(G,))
                for name, shape in shapes.items():
                    param = nn.Parameter(torch.empty(shape, **factory))
                    self.register_parameter(f"{name}_l{layer}{suffix}", param)
        self.reset_parameters()

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def _suffixes(self) -> tuple[str, ...]:
        return ("", "_reverse") if self.bidirectional else ("",)

    def _layer_parameters(self, layer: int, suffix: str) -> dict[str, Tensor | None]:
        """weight_ih, weight_hh, bias_ih, bias_hh of one layer and direction (biases may
        be None)."""
        return {
            name: getattr(self, f"{name}_l{layer}{suffix}", None)
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        }

    def reset_parameters(self) -> None:
        """Every parameter uniform in (-1/sqrt(H), 1/sqrt(H)), as PyTorch's RNNs do."""
        bound = 1 / math.sqrt(self.hidden_size)
        for param in self.parameters():
            nn.init.uniform_(param, -bound, bound)

    _repr_defaults = (
        ("num_layers", 1),
        ("bias", True),
        ("batch_first", False),
        ("dropout", 0.0),
        ("bidirectional", False),
    )

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        for name, default in self._repr_defaults:
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        return s

    def _run_layer(
        self, x: Tensor, state: tuple[Tensor, ...], params: dict, reverse: bool, mask: Tensor | None
    ) -> tuple[Tensor, tuple[Tensor, ...]]:
        raise NotImplementedError("a subclass of RecurrentBase must implement _run_layer")

    def forward(self, input: Tensor | PackedSequence, hx=None):
        """Run the network over a batch of sequences; see the subclass for hx's form."""
        packed = isinstance(input, PackedSequence)
        x = self._check_input(input.data if packed else input, packed)
        batched = packed or x.dim() == 3
        mask = None
        if packed:
            x, lengths = pad_packed_sequence(input)  # (T, B, D), in the caller's batch order
            steps = torch.arange(x.shape[0])[:, None, None]
            mask = (steps < lengths[None, :, None]).to(x.device)
        elif not batched:
            x = x.unsqueeze(1)  # (T, D) -> (T, 1, D)
        elif self.batch_first:
            x = x.transpose(0, 1)  # the loop runs over time: (B, T, D) -> (T, B, D)
        initial = self._check_hx(hx, x, batched)  # each (L * num_directions, B, H)

        finals = [[] for _ in initial]  # per state tensor, one (B, H) per layer and direction
        for layer in range(self.num_layers):
            outputs = []
            for direction, suffix in enumerate(self._suffixes):
                k = layer * self.num_directions + direction
                out, state = self._run_layer(
                    x,
                    tuple(s[k] for s in initial),
                    self._layer_parameters(layer, suffix),
                    reverse=direction == 1,
                    mask=mask,
                )
                outputs.append(out)
                for final, s in zip(finals, state, strict=True):
                    final.append(s)
            x = torch.cat(outputs, dim=2)  # (T, B, H * num_directions): [forward, reverse]
            if layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, self.training)  # identity in eval mode
        state_n = tuple(torch.stack(final) for final in finals)

        if packed:
            output = _pack_like(x, input)
        elif not batched:
            output, state_n = x.squeeze(1), tuple(s.squeeze(1) for s in state_n)
        else:
            output = x.transpose(0, 1) if self.batch_first else x
        return output, (state_n if len(state_n) > 1 else state_n[0])

    # --- checks: every error says what was wrong and what to do --------------------------

    def _check_input(self, x, packed: bool) -> Tensor:
        layout = "(B, T, D)" if self.batch_first else "(T, B, D)"
        if not isinstance(x, Tensor):
            raise TypeError(
                f"input must be a tensor of shape {layout} or a PackedSequence, "
                f"got {type(x).__name__}"
            )
        if not packed and x.dim() not in (2, 3):
            raise ValueError(
                f"input must have shape {layout}, or (T, D) for one unbatched "
                f"sequence; got {x.dim()}-D shape {tuple(x.shape)}"
            )
        if x.shape[-1] != self.input_size:
            raise ValueError(
                f"input's last dimension must be input_size = "
                f"{self.input_size}, got shape {tuple(x.shape)}"
                + ("" if packed else f" (expected {layout}, D = {self.input_size})")
            )
        if not packed and x.shape[1 if self.batch_first and x.dim() == 3 else 0] == 0:
            raise ValueError(
                f"input has no time steps (T = 0): got shape {tuple(x.shape)} "
                f"for {layout}; pass at least one step, like {self.reference}"
            )
        dtype = self.weight_ih_l0.dtype
        if x.dtype != dtype:
            raise ValueError(
                f"input is {x.dtype} but the parameters are {dtype}: convert "
                f"one, e.g. input.to({dtype}) or model.to({x.dtype})"
            )
        return x

    def _check_hx(self, hx, x: Tensor, batched: bool) -> tuple[Tensor, ...]:
        """The initial state as a tuple in ``state_names`` order, each (L * num_directions,
        B, H) (a batch axis of 1 added for unbatched input); zeros when hx is None."""
        names, B = self.state_names, x.shape[1]
        shape = (self.num_layers * self.num_directions, B, self.hidden_size)
        if hx is None:
            zeros = torch.zeros(shape, dtype=x.dtype, device=x.device)
            return (zeros,) * len(names)
        want = shape if batched else (shape[0], shape[2])
        spec = "(num_layers * num_directions, " + ("B, " if batched else "") + "H)"
        if len(names) == 1:
            if not isinstance(hx, Tensor):
                raise TypeError(
                    f"hx must be None or one tensor {names[0]} of shape {spec} "
                    f"= {want}, got {type(hx).__name__}: {self.reference} has "
                    "no cell state, so pass h_0 alone, not a tuple"
                )
            hx = (hx,)
        elif not isinstance(hx, tuple | list) or len(hx) != len(names):
            error = ValueError if isinstance(hx, tuple | list) else TypeError
            raise error(
                f"hx must be None or a pair ({', '.join(names)}) of tensors, "
                f"got {type(hx).__name__}"
            )
        for name, a in zip(names, hx, strict=True):
            if not isinstance(a, Tensor) or tuple(a.shape) != want:
                got = tuple(a.shape) if isinstance(a, Tensor) else type(a).__name__
                error = ValueError if isinstance(a, Tensor) else TypeError
                raise error(
                    f"{name} must have shape {spec} = {want}, got {got}"
                    + ("" if batched else " (unbatched input: no batch axis)")
                )
            if a.dtype != x.dtype:
                raise ValueError(
                    f"{name} is {a.dtype} but the input is {x.dtype}: convert "
                    f"it, e.g. {name}.to({x.dtype})"
                )
        return tuple(hx) if batched else tuple(a.unsqueeze(1) for a in hx)


def _pack_like(x: Tensor, like: PackedSequence) -> PackedSequence:
    """Pack x (T, B, F), in the caller's batch order, with the lengths and order of like."""
    if like.sorted_indices is not None:
        x = x.index_select(1, like.sorted_indices)  # longest sequence first
    # Sorted, step t holds the first batch_sizes[t] sequences: row-major boolean indexing
    # gathers exactly those, step by step, which is PackedSequence's layout.
    rows = torch.arange(x.shape[1])[None, :]
    keep = (rows < like.batch_sizes[:, None]).to(x.device)
    return PackedSequence(x[keep], like.batch_sizes, like.sorted_indices, like.unsorted_indices)
