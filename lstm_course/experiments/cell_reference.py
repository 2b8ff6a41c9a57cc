"""``nn.LSTMCell``'s step written out as a step function, and the check of any step against it.

A step function has the signature ``step(x, (h_prev, c_prev), params) -> (h, c)`` with
``x`` of shape (B, D), ``h_prev`` and ``c_prev`` (B, H), and ``params`` a dict of tensors
in PyTorch's layout and gate order i, f, g, o: ``weight_ih`` (4H, D), ``weight_hh``
(4H, H), ``bias_ih`` and ``bias_hh`` (4H,). ``cell_params`` reads them off an
``nn.LSTMCell`` and ``lstm_step`` is what the cell computes; ``preactivations`` and
``gate_blocks`` are the first half of every step, right or wrong. ``max_abs_difference``
and ``matches_cell`` run any step function against an ``nn.LSTMCell`` with the same
weights. ``wrong_equations`` builds the popular articles' wrong steps on these.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
from torch import Tensor, nn

from lstm_course.checks import check_int
from lstm_course.scratch import KEYS

__all__ = [
    "cell_params",
    "preactivations",
    "gate_blocks",
    "lstm_step",
    "max_abs_difference",
    "matches_cell",
]

State = tuple[Tensor, Tensor]
Params = Mapping[str, Tensor]
StepFn = Callable[[Tensor, State, Params], State]


def cell_params(cell: nn.LSTMCell) -> dict[str, Tensor]:
    """The parameters of ``cell`` under the names ``scratch.KEYS``, detached from autograd.

    A cell built with ``bias=False`` gets zero biases, which is what it computes with.
    """
    if not isinstance(cell, nn.LSTMCell):
        raise TypeError(f"cell must be a torch.nn.LSTMCell, got {type(cell).__name__}")
    w = cell.weight_ih.detach()
    zeros = torch.zeros(w.shape[0], dtype=w.dtype, device=w.device)
    return {
        "weight_ih": w,
        "weight_hh": cell.weight_hh.detach(),
        "bias_ih": zeros if cell.bias_ih is None else cell.bias_ih.detach(),
        "bias_hh": zeros if cell.bias_hh is None else cell.bias_hh.detach(),
    }


def preactivations(x: Tensor, h_prev: Tensor, params: Params) -> Tensor:
    """The four gates' pre-activations, stacked: x W_ih^T + b_ih + h W_hh^T + b_hh, (B, 4H)."""
    missing = [k for k in KEYS if k not in params]
    if missing:
        raise ValueError(
            f"params lacks {missing}: pass a dict with keys {', '.join(KEYS)}, "
            "e.g. cell_params(cell)"
        )
    four_h, d = params["weight_ih"].shape
    if x.dim() != 2 or x.shape[1] != d:
        raise ValueError(f"x must have shape (B, D) = (B, {d}), got {tuple(x.shape)}")
    if h_prev.shape != (x.shape[0], four_h // 4):
        raise ValueError(
            f"h_prev must have shape (B, H) = ({x.shape[0]}, {four_h // 4}), "
            f"got {tuple(h_prev.shape)}"
        )
    return (
        x @ params["weight_ih"].T
        + params["bias_ih"]
        + h_prev @ params["weight_hh"].T
        + params["bias_hh"]
    )


def gate_blocks(x: Tensor, state: State, params: Params) -> tuple[Tensor, ...]:
    """Pre-activations split into the blocks i, f, g, o, each (B, H)."""
    h_prev, c_prev = state
    z = preactivations(x, h_prev, params)
    if c_prev.shape != h_prev.shape:
        raise ValueError(
            f"c_prev must have the shape of h_prev {tuple(h_prev.shape)}, got {tuple(c_prev.shape)}"
        )
    return z.chunk(4, dim=1)


# --- the right equations ------------------------------------------------------------------


def lstm_step(x: Tensor, state: State, params: Params) -> State:
    """One LSTM step as ``nn.LSTMCell`` computes it (gate order i, f, g, o).

        i, f, o = sigmoid(z_i), sigmoid(z_f), sigmoid(z_o);  g = tanh(z_g)
        c = f * c_prev + i * g
        h = o * tanh(c)

    where z = x W_ih^T + b_ih + h_prev W_hh^T + b_hh is split into four (B, H) blocks.
    """
    zi, zf, zg, zo = gate_blocks(x, state, params)
    i, f, g, o = torch.sigmoid(zi), torch.sigmoid(zf), torch.tanh(zg), torch.sigmoid(zo)
    c = f * state[1] + i * g
    return o * torch.tanh(c), c


# --- comparing a step function with nn.LSTMCell ------------------------------------------


def max_abs_difference(
    step: StepFn, cell: nn.LSTMCell, batch_size: int = 3, seed: int = 0
) -> float:
    """Largest |difference| between ``step`` and ``cell`` over h and c, on random inputs.

    Draws x (B, D), h_prev and c_prev (B, H) from a standard normal (seeded, in the
    cell's dtype and device), runs both with the cell's own weights, and compares.
    """
    if not callable(step):
        raise TypeError(f"step must be a function step(x, (h, c), params), got {step!r}")
    check_int("batch_size", batch_size)
    params = cell_params(cell)
    w = params["weight_ih"]
    gen = torch.Generator().manual_seed(seed)

    def draw(n):
        return torch.randn(batch_size, n, generator=gen, dtype=w.dtype).to(w.device)

    x, h_prev, c_prev = draw(cell.input_size), draw(cell.hidden_size), draw(cell.hidden_size)
    with torch.no_grad():
        h_ref, c_ref = cell(x, (h_prev, c_prev))
        h, c = step(x, (h_prev, c_prev), params)
    if h.shape != h_ref.shape or c.shape != c_ref.shape:
        raise ValueError(
            f"step returned shapes {tuple(h.shape)}, {tuple(c.shape)}; "
            f"nn.LSTMCell returns {tuple(h_ref.shape)} for both"
        )
    return max((h - h_ref).abs().max().item(), (c - c_ref).abs().max().item())


def matches_cell(
    step: StepFn, cell: nn.LSTMCell, batch_size: int = 3, seed: int = 0, atol: float | None = None
) -> bool:
    """True when ``step`` equals ``cell`` to ``atol`` on random inputs.

    ``atol`` defaults to 1e-6 for a float32 cell and 1e-12 for a float64 one.
    """
    if atol is None:
        atol = 1e-12 if cell.weight_ih.dtype == torch.float64 else 1e-6
    return max_abs_difference(step, cell, batch_size, seed) <= atol
