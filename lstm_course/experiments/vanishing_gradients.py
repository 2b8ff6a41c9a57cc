"""Measure how far gradients travel back in time through a recurrent cell.

Used to show vanishing and exploding gradients (chapter ``01_rnn_gradients``) and how the LSTM's cell
path keeps them alive (chapters ``01_rnn_gradients`` and ``03_lstm_backward``).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = [
    "unroll",
    "gradient_norms_by_lag",
]


def unroll(cell: nn.Module, x: torch.Tensor, state=None):
    """Run a single-step cell over a whole sequence, keeping every state.

    Args:
        cell: an ``nn.RNNCell``/``nn.GRUCell`` (state ``h``) or ``nn.LSTMCell``
            (state ``(h, c)``), or any module with the same call signature.
        x: inputs of shape (T, B, D).
        state: initial state, as the cell takes it; zeros when None.

    Returns:
        ``(hs, cs)``: lists of T tensors of shape (B, H); ``cs`` is None for cells
        without a cell state.
    """
    if x.dim() != 3:
        raise ValueError(f"x must have shape (T, B, D), got {tuple(x.shape)}")
    hs, cs = [], []
    for x_t in x:
        out = cell(x_t, state)
        if isinstance(out, tuple):
            state = out
            hs.append(out[0])
            cs.append(out[1])
        else:
            state = out
            hs.append(out)
    return hs, (cs or None)


def gradient_norms_by_lag(loss: torch.Tensor, states: list[torch.Tensor]) -> np.ndarray:
    """Norm of dL/ds_t for each state s_t, ordered by time lag.

    Args:
        loss: a scalar that depends on the states, summed over the batch.
        states: the T states s_1..s_T, each of shape (B, H), all part of loss's graph.

    Returns:
        array of shape (T,): entry k is the batch mean of ||dL/ds_{T-k}||_2, so k = 0 is
        the last step and k = T-1 the first.
    """
    if loss.dim() != 0:
        raise ValueError(f"loss must be a scalar, got shape {tuple(loss.shape)}")
    if not states:
        raise ValueError("states is empty: pass the list returned by unroll()")
    grads = torch.autograd.grad(loss, states, allow_unused=True)
    norms = [0.0 if g is None else g.detach().flatten(1).norm(dim=1).mean().item() for g in grads]
    return np.asarray(norms[::-1])
