"""The machinery ``rnn.LSTM`` and ``rnn.GRU`` share, written once.

An LSTM and a GRU differ only in what one layer does over time (``lstm_layer`` versus
``gru_layer``), in how many gates they stack (4 or 3) and in their state ((h, c) or h).
Everything else is ``torch.nn.RNNBase``'s API and lives here: argument checks, the loop
over layers and directions with dropout between layers, batch_first, unbatched input,
PackedSequence and autocast. The input and hx checks with their error messages are
``rnn_checks.RecurrentChecks``'s, which ``RecurrentBase`` subclasses.

``RecurrentBase`` subclasses ``nn.RNNBase``, so ``isinstance(m, nn.RNNBase)`` holds and
code that reads an RNN's bookkeeping (``_flat_weights``, ``all_weights``, weight norm,
``torch.save`` of the whole module) works unchanged. What it takes from ``nn.RNNBase`` is
that bookkeeping only: the parameters in PyTorch's names, shapes and order, and their
uniform initialization. ``nn.RNNBase`` has no forward pass; the one here is the course's
own and calls ``functional.lstm_layer`` / ``gru_layer``, never torch's RNN kernels.

Shapes: T time steps, B batch, D input size, H hidden size, H_out = proj_size or H,
L layers, and num_directions = 2 if bidirectional else 1.
"""

from __future__ import annotations

import warnings
from contextlib import nullcontext

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence

from lstm_course.checks import check_bool, check_int, check_probability
from lstm_course.layers.rnn_checks import RecurrentChecks

__all__ = [
    "RecurrentBase",
]


def _checked(torch_message: str, check, *args):
    """``check(*args)``; on failure, the same exception type with torch's message first and
    the course's (what was wrong, what was got) after it."""
    try:
        return check(*args)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{torch_message}; {error}") from None


def _check_size(name: str, value) -> int:
    kind = type(value).__name__
    return _checked(
        f"{name} should be of type int, got: {kind}"
        if isinstance(value, bool) or not isinstance(value, int)
        else f"{name} must be greater than zero",
        check_int,
        name,
        value,
    )


class RecurrentBase(RecurrentChecks):
    """A multi-layer, optionally bidirectional recurrent network: ``nn.RNNBase`` with the
    course's forward pass.

    Not used directly: a subclass sets three class attributes and one method.

    - ``num_gates``: how many gates are stacked by rows in each weight (LSTM 4, GRU 3);
      ``mode`` ("LSTM" or "GRU", ``nn.RNNBase``'s attribute) follows from it.
    - ``state_names``: the initial state's names, ``("h_0", "c_0")`` or ``("h_0",)``.
      With one name, ``hx`` and the returned final state are a single tensor (as in
      ``nn.GRU``); with two, a tuple (as in ``nn.LSTM``).
    - ``reference``: the torch class it mirrors, e.g. ``"nn.GRU"``, for messages.
    - ``_run_layer(x, state, params, reverse, mask) -> (output, state)``: one layer in one
      direction; x (T, B, D_layer); state a tuple of (B, H_out) / (B, H) tensors in
      ``state_names`` order; params the dict from :meth:`_layer_parameters`; mask None or
      (T, B, 1) bools (see ``lstm_layer``); output (T, B, H_out) in input order.

    Parameters, in PyTorch's order, for layer k and suffix "" (forward) or "_reverse":
    ``weight_ih_l{k}{suffix}`` (G*H, D for k = 0, else H_out * num_directions),
    ``weight_hh_l{k}{suffix}`` (G*H, H_out), with bias ``bias_ih_l{k}{suffix}`` and
    ``bias_hh_l{k}{suffix}`` (G*H,), and with ``proj_size`` ``weight_hr_l{k}{suffix}``
    (H_out, H), where G = ``num_gates``. All uniform in (-1/sqrt(H), 1/sqrt(H)).

    The input and hx checks (``check_input``, ``check_forward_args``, ...) are inherited
    from ``rnn_checks.RecurrentChecks``, a subclass of ``nn.RNNBase``.
    """

    num_gates: int
    state_names: tuple[str, ...]
    reference: str

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None):  # fmt: skip
        # nn.RNNBase's checks, in its order, with its exception types and messages, and
        # the course's (the value that was got) after them.
        torch_dropout = (
            "dropout should be a number in range [0, 1] representing the probability of "
            "an element being zeroed"
        )
        try:
            check_probability("dropout", dropout, allow_one=True)
        except (TypeError, ValueError) as error:  # ValueError for either, as nn.RNNBase
            raise ValueError(f"{torch_dropout}; {error}") from None
        for name, flag in (("bias", bias), ("batch_first", batch_first)):
            _checked(f"{name} should be of type bool, got: {type(flag).__name__}",
                     check_bool, name, flag)  # fmt: skip
        for name, size in (("input_size", input_size), ("hidden_size", hidden_size),
                           ("num_layers", num_layers)):  # fmt: skip
            _check_size(name, size)
        if isinstance(proj_size, bool) or not isinstance(proj_size, int):
            raise TypeError(f"proj_size should be of type int, got: {type(proj_size).__name__}")
        if proj_size < 0:
            raise ValueError(
                "proj_size should be a positive integer or zero to disable projections"
                f"; got {proj_size}"
            )
        if proj_size >= hidden_size:
            raise ValueError(
                f"proj_size has to be smaller than hidden_size; got proj_size={proj_size} "
                f">= hidden_size={hidden_size} (the projection shrinks h)"
            )
        if dropout > 0 and num_layers == 1:
            # Point at the user's line: one frame up for a subclass that keeps this
            # __init__, two for one that wraps it (LSTM, GRU).
            inherited = type(self).__init__ is RecurrentBase.__init__
            warnings.warn(
                f"dropout={dropout} has no effect with num_layers=1: dropout acts "
                "between layers, on the outputs of every layer but the last",
                stacklevel=2 if inherited else 3,
            )
        # dropout=0 here only so that nn.RNNBase does not warn a second time.
        mode = {4: "LSTM", 3: "GRU"}[self.num_gates]  # nn.RNNBase's name for the cell
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first,
                         0.0, bidirectional, proj_size, device, dtype)  # fmt: skip
        self.dropout = float(dropout)

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def _suffixes(self) -> tuple[str, ...]:
        return ("", "_reverse") if self.bidirectional else ("",)

    def _layer_parameters(self, layer: int, suffix: str) -> dict[str, Tensor | None]:
        """weight_ih, weight_hh, bias_ih, bias_hh, weight_hr of one layer and direction
        (None where absent)."""
        return {
            name: getattr(self, f"{name}_l{layer}{suffix}", None)
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
        }

    def flatten_parameters(self) -> None:
        """A no-op. ``nn.RNNBase`` copies the weights into one cuDNN buffer here, for
        cuDNN's fused kernel; this forward pass reads each weight on its own and never
        calls cuDNN, so there is nothing to flatten. Kept so that code that calls it
        (e.g. after loading a model) runs unchanged."""

    def _run_layer(
        self, x: Tensor, state: tuple[Tensor, ...], params: dict, reverse: bool, mask: Tensor | None
    ) -> tuple[Tensor, tuple[Tensor, ...]]:
        raise NotImplementedError("a subclass of RecurrentBase must implement _run_layer")

    def _lowers_under_autocast(self, device_type: str) -> bool:
        """Whether autocast runs ``reference`` in its low dtype on this device (subclasses
        say); if not, it runs in the input's dtype, as autocast leaves the op alone."""
        return True

    def forward(self, input: Tensor | PackedSequence, hx=None):
        """Run the network over a batch of sequences; see the subclass for hx's form.

        Under ``torch.autocast`` it computes in the dtype ``reference`` computes in there:
        autocast's dtype (input, state and weights cast to it; the parameters stay as
        they are and gradients flow back through the casts) where autocast lowers torch's
        op, else the input's dtype.
        """
        self._update_flat_weights()  # nn.RNNBase's: new weights, e.g. from functional_call
        packed = isinstance(input, PackedSequence)
        x, batch_sizes = (input.data, input.batch_sizes) if packed else (input, None)
        layout = "(B, T, D)" if self.batch_first else "(T, B, D)"
        if not isinstance(x, Tensor):
            raise TypeError(
                f"input must be a tensor of shape {layout} or (T, D), or a PackedSequence, "
                f"got {type(x).__name__}"
            )
        if not packed and x.dim() not in (2, 3):
            raise ValueError(
                f"{self.mode}: Expected input to be 2D or 3D, got {x.dim()}D instead; input "
                f"must have shape {layout}, or (T, D) for one unbatched sequence; got "
                f"{x.dim()}-D shape {tuple(x.shape)}"
            )
        shape, batched, cast = tuple(x.shape), packed or x.dim() == 3, None
        autocast = torch.is_autocast_enabled(x.device.type)
        if autocast and self._lowers_under_autocast(x.device.type) and x.is_floating_point():
            cast = torch.get_autocast_dtype(x.device.type)
            x = x.to(cast)
        if not batched:
            x = x.unsqueeze(0 if self.batch_first else 1)  # a batch of one, as nn.LSTM does
        hx = self._initial_state(x, hx, batched, batch_sizes)
        self.check_forward_args(x, hx if len(hx) > 1 else hx[0], batch_sizes)
        hx = hx if cast is None else tuple(a.to(cast) for a in hx)
        for name, a in zip(self.state_names, hx, strict=True):
            if a.dtype != x.dtype:
                raise RuntimeError(
                    f"{name} is {a.dtype} but the input is {x.dtype}: expected the input's "
                    f"dtype; convert it, e.g. {name}.to({x.dtype})"
                )
        mask = None
        if packed:
            x, lengths = pad_packed_sequence(PackedSequence(x, *input[1:]))  # caller's order
            steps = torch.arange(x.shape[0])[:, None, None]
            mask = (steps < lengths[None, :, None]).to(x.device)
        elif self.batch_first:
            x = x.transpose(0, 1)  # the loop runs over time: (B, T, D) -> (T, B, D)
        if x.shape[0] == 0:
            raise RuntimeError(
                "Expected sequence length to be larger than 0 in RNN; the input has no time "
                f"steps (T = 0): got shape {shape} for {layout}"
            )
        # The dtypes are chosen above: autocast must not change them inside the loop.
        with torch.autocast(x.device.type, enabled=False) if autocast else nullcontext():
            output, state_n = self._layers(x, hx, mask, cast)
        if packed:
            output = _pack_like(output, input)
        elif self.batch_first:
            output = output.transpose(0, 1)  # a view, as nn.LSTM returns it
        if not batched:
            output = output.squeeze(0 if self.batch_first else 1)
            state_n = tuple(s.squeeze(1) for s in state_n)
        return output, (state_n if len(state_n) > 1 else state_n[0])

    def _layers(self, x: Tensor, initial: tuple[Tensor, ...], mask, cast):
        """The stack over x (T, B, D); initial states each (L * num_directions, B, .).
        Returns the last layer's output (T, B, H_out * num_directions) and the final states."""
        finals = [[] for _ in initial]  # per state tensor, one (B, .) per layer and direction
        for layer in range(self.num_layers):
            outputs = []
            for direction, suffix in enumerate(self._suffixes):
                k = layer * self.num_directions + direction
                params = self._layer_parameters(layer, suffix)
                if cast is not None:
                    params = {n: p if p is None else p.to(cast) for n, p in params.items()}
                out, state = self._run_layer(
                    x, tuple(s[k] for s in initial), params, reverse=direction == 1, mask=mask
                )
                outputs.append(out)
                for final, s in zip(finals, state, strict=True):
                    final.append(s)
            x = torch.cat(outputs, dim=2)  # (T, B, H_out * num_directions): [forward, reverse]
            if layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, self.training)  # identity in eval mode
        return x, tuple(torch.stack(final) for final in finals)


def _pack_like(x: Tensor, like: PackedSequence) -> PackedSequence:
    """Pack x (T, B, F), in the caller's batch order, with the lengths and order of like."""
    if like.sorted_indices is not None:
        x = x.index_select(1, like.sorted_indices)  # longest sequence first
    # Sorted, step t holds the first batch_sizes[t] sequences: row-major boolean indexing
    # gathers exactly those, step by step, which is PackedSequence's layout.
    rows = torch.arange(x.shape[1])[None, :]
    keep = (rows < like.batch_sizes[:, None]).to(x.device)
    return PackedSequence(x[keep], like.batch_sizes, like.sorted_indices, like.unsorted_indices)
