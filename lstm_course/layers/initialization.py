"""Initializations that decide whether a recurrent network can learn a long lag.

Each works in place on a ``torch.nn.LSTM`` / ``nn.RNN`` or on the course's drop-ins
(same parameter names), on every layer and direction, and returns the module:

- :func:`set_gate_bias_`: one gate (i, f, g or o) starts near ``sigmoid(value)``, and
  :func:`set_forget_bias_`, the forget gate's;
- :func:`chrono_init_`: chrono initialization (Tallec & Ollivier 2018), forget biases
  spread so that the cells' memory times cover 1 to ``max_lag`` steps;
- :func:`chrono_gru_init_`: the GRU's counterpart, for its update gate;
- :func:`remove_forget_gate_`: the forget gate pinned open (f = 1 exactly, and it stays
  so in training), which is the 1997 LSTM's cell: ``c_t = c_{t-1} + i_t * g_t``;
- :func:`orthogonal_recurrent_`: a plain RNN's W_hh orthogonal, biases zero, the standard
  strong initialization of a tanh RNN (Saxe et al. 2014; Henaff et al. 2016).

PyTorch stacks an LSTM's gate rows as i, f, g, o, each block ``hidden_size`` rows.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from lstm_course.checks import check_int

__all__ = [
    "set_gate_bias_",
    "set_forget_bias_",
    "chrono_init_",
    "chrono_gru_init_",
    "remove_forget_gate_",
    "orthogonal_recurrent_",
    "PINNED_FORGET_BIAS",
]

#: sigmoid(100) rounds to exactly 1 in float32 and float64, and so does the gate's
#: derivative f(1 - f) to 0: no gradient reaches the pinned rows, and Adam leaves them.
PINNED_FORGET_BIAS = 100.0


def _layer_suffixes(module: nn.Module, prefix: str) -> list[str]:
    """The suffixes ('l0', 'l0_reverse', ...) of the module's ``prefix`` parameters."""
    names = [name for name, _ in module.named_parameters() if name.startswith(prefix)]
    if not names:
        raise ValueError(
            f"{type(module).__name__} has no {prefix}* parameters: pass a recurrent layer "
            "(torch.nn.LSTM/RNN or the course's drop-ins) built with bias=True"
        )
    return [name[len(prefix) :] for name in names]


def _check_mode(module: nn.Module, mode: str) -> None:
    """``nn.RNNBase``'s ``mode`` ("LSTM", "GRU", ...), which the course's drop-ins share."""
    if getattr(module, "mode", None) != mode:
        raise ValueError(f"expected an {mode}, got {type(module).__name__}")


def _gate_block(module: nn.Module, gate: int) -> slice:
    """Rows of gate ``gate`` (PyTorch's order i, f, g, o = 0..3) in an LSTM's weights."""
    _check_mode(module, "LSTM")
    hidden = module.hidden_size
    return slice(gate * hidden, (gate + 1) * hidden)


@torch.no_grad()
def set_gate_bias_(lstm: nn.Module, gate: str, value: float) -> nn.Module:
    """Gate ``gate``'s block ("i", "f", "g" or "o") of ``bias_ih`` set to ``value``, of
    ``bias_hh`` to 0, so that the gate starts near ``sigmoid(value)``."""
    if gate not in ("i", "f", "g", "o"):
        raise ValueError(f"gate must be one of 'i', 'f', 'g', 'o' (PyTorch's order), got {gate!r}")
    rows = _gate_block(lstm, "ifgo".index(gate))
    for suffix in _layer_suffixes(lstm, "bias_ih_"):
        getattr(lstm, f"bias_ih_{suffix}")[rows] = value
        getattr(lstm, f"bias_hh_{suffix}")[rows] = 0.0
    return lstm


def set_forget_bias_(lstm: nn.Module, value: float) -> nn.Module:
    """Forget-gate block of ``bias_ih`` set to ``value``, of ``bias_hh`` to 0."""
    return set_gate_bias_(lstm, "f", value)


@torch.no_grad()
def chrono_init_(
    lstm: nn.Module,
    max_lag: int,
    generator: torch.Generator | None = None,
    input_gate: bool = True,
) -> nn.Module:
    """Chrono initialization (Tallec & Ollivier 2018, "Can recurrent neural networks warp
    time?"): ``b_f = log(u)`` with u drawn uniformly from [1, max_lag - 1] per unit, and
    ``b_i = -b_f``, in ``bias_ih`` (``bias_hh``'s blocks are zeroed).

    A unit whose forget gate sits at sigmoid(log u) = u / (1 + u) keeps a fraction
    1 - 1/(1 + u) per step, a memory of about u steps, so the units' memories spread over
    the range of lags the task may need; the input gate starts about as shut as the
    forget gate is open. ``input_gate=False`` leaves the input gate's biases as they
    are, to tell the two halves' effects apart.
    """
    check_int("max_lag", max_lag, 3, why=" (u is drawn from [1, max_lag - 1])")
    input_rows, forget = _gate_block(lstm, 0), _gate_block(lstm, 1)
    for suffix in _layer_suffixes(lstm, "bias_ih_"):
        bias_ih, bias_hh = getattr(lstm, f"bias_ih_{suffix}"), getattr(lstm, f"bias_hh_{suffix}")
        u = 1 + (max_lag - 2) * torch.rand(lstm.hidden_size, generator=generator)
        b_f = torch.log(u).to(bias_ih.dtype)
        bias_ih[forget], bias_hh[forget] = b_f, 0.0
        if input_gate:
            bias_ih[input_rows], bias_hh[input_rows] = -b_f, 0.0
    return lstm


@torch.no_grad()
def chrono_gru_init_(
    gru: nn.Module, max_lag: int, generator: torch.Generator | None = None
) -> nn.Module:
    """Chrono initialization for a GRU (Tallec & Ollivier 2018): in PyTorch's convention
    ``h_t = (1 - z_t) * n_t + z_t * h_{t-1}`` the update gate z keeps the state, so its
    ``bias_ih`` block gets ``log(u)``, u uniform on [1, max_lag - 1] per unit, and its
    ``bias_hh`` block 0 (rows r, z, n; z is the second block)."""
    check_int("max_lag", max_lag, 3, why=" (u is drawn from [1, max_lag - 1])")
    _check_mode(gru, "GRU")
    update = slice(gru.hidden_size, 2 * gru.hidden_size)
    for suffix in _layer_suffixes(gru, "bias_ih_"):
        u = 1 + (max_lag - 2) * torch.rand(gru.hidden_size, generator=generator)
        bias_ih = getattr(gru, f"bias_ih_{suffix}")
        bias_ih[update] = torch.log(u).to(bias_ih.dtype)
        getattr(gru, f"bias_hh_{suffix}")[update] = 0.0
    return gru


@torch.no_grad()
def remove_forget_gate_(lstm: nn.Module) -> nn.Module:
    """Pin the forget gate open: its weight rows zero and its bias
    :data:`PINNED_FORGET_BIAS`, so f = 1 exactly and the cell update is the 1997 LSTM's
    ``c_t = c_{t-1} + i_t * g_t``. Training cannot reopen it: the gate's derivative is 0
    in floating point, so those rows get zero gradients (and Adam zero steps)."""
    forget = _gate_block(lstm, 1)
    for suffix in _layer_suffixes(lstm, "weight_ih_"):
        getattr(lstm, f"weight_ih_{suffix}")[forget] = 0.0
        getattr(lstm, f"weight_hh_{suffix}")[forget] = 0.0
    for suffix in _layer_suffixes(lstm, "bias_ih_"):
        getattr(lstm, f"bias_ih_{suffix}")[forget] = PINNED_FORGET_BIAS
        getattr(lstm, f"bias_hh_{suffix}")[forget] = 0.0
    return lstm


@torch.no_grad()
def orthogonal_recurrent_(rnn: nn.Module, gain: float = 1.0) -> nn.Module:
    """Every ``weight_hh`` orthogonal (times ``gain``), every bias zero; ``weight_ih``
    keeps PyTorch's uniform draw. An orthogonal W_hh preserves the norm of a vector, so
    at initialization the backward product shrinks only through tanh's derivative."""
    if math.isclose(gain, 0.0):
        raise ValueError("gain must be non-zero: a zero W_hh is no recurrent network")
    for suffix in _layer_suffixes(rnn, "weight_hh_"):
        nn.init.orthogonal_(getattr(rnn, f"weight_hh_{suffix}"), gain=gain)
    for name, parameter in rnn.named_parameters():
        if name.startswith("bias_"):
            parameter.zero_()
    return rnn
