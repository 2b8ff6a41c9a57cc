"""An LSTM from scratch as a ``torch.nn.Module``: a drop-in for ``torch.nn.LSTM``.

Chapter 5 builds it. ``lstm_course.scratch`` did the calculus by hand; here autograd does
the backward pass, so all that is left is to lay out the forward pass exactly the way
``nn.LSTM`` does: same constructor, same parameter names, shapes and order (so state
dicts load both ways), same outputs and shapes, layer by layer and direction by direction.

Shapes: T time steps, B batch, D input size, H hidden size, L layers, and
num_directions = 2 if bidirectional else 1. One step, gate order i, f, g, o:

    i, f, g, o = split(x_t W_ih^T + b_ih + b_hh + h_{t-1} W_hh^T)
    c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g)
    h_t = sigmoid(o) * tanh(c_t)

Works on any device, in float32 and float64; PackedSequence input is supported too.
"""

from __future__ import annotations

import math
import numbers
import warnings

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence

from lstm_course.fused import lstm_loop


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


def lstm_layer(x: Tensor, h: Tensor, c: Tensor, weight_ih: Tensor, weight_hh: Tensor,
               bias: Tensor | None = None, reverse: bool = False,
               mask: Tensor | None = None, handwritten_backward: bool = False
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


def _check_int(name, n, minimum=1):
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {n!r}")
    return int(n)


def _check_bool(name, b):
    if not isinstance(b, bool):
        raise ValueError(f"{name} must be True or False, got {b!r}")
    return b


class LSTM(nn.Module):
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
            backward pass written by hand (``lstm_course.fused``) instead of recorded
            by autograd; same results, faster on the CPU (chapter 6). PackedSequence
            input always takes the autograd path.

    Parameters, in ``nn.LSTM``'s order, for layer k with suffix "" (forward) or
    "_reverse" (backward direction): ``weight_ih_l{k}{suffix}`` (4H, D for k = 0, else
    H * num_directions), ``weight_hh_l{k}{suffix}`` (4H, H) and, with bias,
    ``bias_ih_l{k}{suffix}`` and ``bias_hh_l{k}{suffix}`` (4H,); gates stacked i, f, g, o.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None,
                 *, handwritten_backward: bool = False):
        super().__init__()
        if proj_size != 0:
            raise NotImplementedError(f"proj_size={proj_size!r} is not supported: this LSTM "
                                      "has no projection (proj_size=0); use torch.nn.LSTM "
                                      "for LSTMs with projections")
        if (isinstance(dropout, bool) or not isinstance(dropout, numbers.Real)
                or not 0 <= dropout <= 1):
            raise ValueError(f"dropout must be a probability in [0, 1], got {dropout!r}")
        self.input_size = _check_int("input_size", input_size)
        self.hidden_size = _check_int("hidden_size", hidden_size)
        self.num_layers = _check_int("num_layers", num_layers)
        self.bias = _check_bool("bias", bias)
        self.batch_first = _check_bool("batch_first", batch_first)
        self.dropout = float(dropout)
        self.bidirectional = bool(bidirectional)
        self.handwritten_backward = _check_bool("handwritten_backward", handwritten_backward)
        self.proj_size = 0
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"dropout={dropout} has no effect with num_layers=1: dropout acts "
                          "between layers, on the outputs of every layer but the last",
                          stacklevel=2)
        H, factory = hidden_size, {"device": device, "dtype": dtype}
        # Registered in nn.LSTM's order (layer, then direction, then name), so that
        # parameters() lines up with nn.LSTM's for optimizers and state dicts.
        for layer in range(num_layers):
            d_in = input_size if layer == 0 else H * self.num_directions
            for suffix in self._suffixes:
                shapes = {"weight_ih": (4 * H, d_in), "weight_hh": (4 * H, H)}
                if bias:
                    shapes.update(bias_ih=(4 * H,), bias_hh=(4 * H,))
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

    def reset_parameters(self) -> None:
        """Every parameter uniform in (-1/sqrt(H), 1/sqrt(H)), as ``nn.LSTM`` does."""
        bound = 1 / math.sqrt(self.hidden_size)
        for param in self.parameters():
            nn.init.uniform_(param, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        for name, default in (("num_layers", 1), ("bias", True), ("batch_first", False),
                              ("dropout", 0.0), ("bidirectional", False),
                              ("handwritten_backward", False)):
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        return s

    def forward(self, input: Tensor | PackedSequence,
                hx: tuple[Tensor, Tensor] | None = None):
        """Run the LSTM over a batch of sequences.

        Args:
            input: (T, B, D), or (B, T, D) with ``batch_first``; (T, D) for one unbatched
                sequence; or a ``PackedSequence`` of sequences of different lengths.
            hx: ``(h_0, c_0)``, each (L * num_directions, B, H), or (L * num_directions,
                H) for unbatched input; zeros when None. Index k = layer * num_directions
                + direction, direction 1 being the reverse one.

        Returns:
            ``(output, (h_n, c_n))``: output (T, B, H * num_directions) (or (B, T, ...)
            with ``batch_first``, (T, ...) unbatched, packed for packed input) holds the
            last layer's h_t, forward features first; h_n and c_n have hx's shape and
            hold every layer's and direction's final state (for packed input, the state
            at each sequence's own end).
        """
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
        h_0, c_0 = self._check_hx(hx, x, batched)

        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction, suffix in enumerate(self._suffixes):
                k = layer * self.num_directions + direction
                weight_ih, weight_hh = (getattr(self, f"{name}_l{layer}{suffix}")
                                        for name in ("weight_ih", "weight_hh"))
                bias = None
                if self.bias:  # the two biases only ever appear as a sum: add them once
                    bias = (getattr(self, f"bias_ih_l{layer}{suffix}")
                            + getattr(self, f"bias_hh_l{layer}{suffix}"))
                out, (h, c) = lstm_layer(x, h_0[k], c_0[k], weight_ih, weight_hh, bias,
                                         reverse=direction == 1, mask=mask,
                                         handwritten_backward=self.handwritten_backward)
                outputs.append(out)
                h_n.append(h)
                c_n.append(c)
            x = torch.cat(outputs, dim=2)  # (T, B, H * num_directions): [forward, reverse]
            if layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, self.training)  # identity in eval mode
        h_n, c_n = torch.stack(h_n), torch.stack(c_n)

        if packed:
            return _pack_like(x, input), (h_n, c_n)
        if not batched:
            return x.squeeze(1), (h_n.squeeze(1), c_n.squeeze(1))
        return (x.transpose(0, 1) if self.batch_first else x), (h_n, c_n)

    # --- checks: every error says what was wrong and what to do --------------------------

    def _check_input(self, x, packed: bool) -> Tensor:
        layout = "(B, T, D)" if self.batch_first else "(T, B, D)"
        if not isinstance(x, Tensor):
            raise ValueError(f"input must be a tensor of shape {layout} or a PackedSequence, "
                             f"got {type(x).__name__}")
        if not packed and x.dim() not in (2, 3):
            raise ValueError(f"input must have shape {layout}, or (T, D) for one unbatched "
                             f"sequence; got {x.dim()}-D shape {tuple(x.shape)}")
        if x.shape[-1] != self.input_size:
            raise ValueError(f"input's last dimension must be input_size = "
                             f"{self.input_size}, got shape {tuple(x.shape)}"
                             + ("" if packed else f" (expected {layout}, D = {self.input_size})"))
        if not packed and x.shape[1 if self.batch_first and x.dim() == 3 else 0] == 0:
            raise ValueError(f"input has no time steps (T = 0): got shape {tuple(x.shape)} "
                             f"for {layout}; pass at least one step, like nn.LSTM")
        dtype = self.weight_ih_l0.dtype
        if x.dtype != dtype:
            raise ValueError(f"input is {x.dtype} but the parameters are {dtype}: convert "
                             f"one, e.g. input.to({dtype}) or model.to({x.dtype})")
        return x

    def _check_hx(self, hx, x: Tensor, batched: bool) -> tuple[Tensor, Tensor]:
        """(h_0, c_0), each (L * num_directions, B, H); zeros when hx is None."""
        B = x.shape[1]
        shape = (self.num_layers * self.num_directions, B, self.hidden_size)
        if hx is None:
            zeros = torch.zeros(shape, dtype=x.dtype, device=x.device)
            return zeros, zeros
        if not isinstance(hx, tuple | list) or len(hx) != 2:
            raise ValueError(f"hx must be None or a pair (h_0, c_0) of tensors, got "
                             f"{type(hx).__name__}")
        want = shape if batched else (shape[0], shape[2])
        spec = "(num_layers * num_directions, " + ("B, " if batched else "") + "H)"
        for name, a in zip(("h_0", "c_0"), hx, strict=True):
            if not isinstance(a, Tensor) or tuple(a.shape) != want:
                got = tuple(a.shape) if isinstance(a, Tensor) else type(a).__name__
                raise ValueError(f"{name} must have shape {spec} = {want}, got {got}"
                                 + ("" if batched else " (unbatched input: no batch axis)"))
            if a.dtype != x.dtype:
                raise ValueError(f"{name} is {a.dtype} but the input is {x.dtype}: convert "
                                 f"it, e.g. {name}.to({x.dtype})")
        h_0, c_0 = hx
        return (h_0, c_0) if batched else (h_0.unsqueeze(1), c_0.unsqueeze(1))


def _pack_like(x: Tensor, like: PackedSequence) -> PackedSequence:
    """Pack x (T, B, F), in the caller's batch order, with the lengths and order of like."""
    if like.sorted_indices is not None:
        x = x.index_select(1, like.sorted_indices)  # longest sequence first
    # Sorted, step t holds the first batch_sizes[t] sequences: row-major boolean indexing
    # gathers exactly those, step by step, which is PackedSequence's layout.
    rows = torch.arange(x.shape[1])[None, :]
    keep = (rows < like.batch_sizes[:, None]).to(x.device)
    return PackedSequence(x[keep], like.batch_sizes, like.sorted_indices,
                          like.unsorted_indices)
