"""Wrong LSTM equations that circulate in popular articles, each runnable, beside the right one.

Every step function here has the signature ``step(x, (h_prev, c_prev), params) -> (h, c)``
with ``x`` of shape (B, D), ``h_prev`` and ``c_prev`` (B, H), and ``params`` a dict of
tensors in PyTorch's layout and gate order i, f, g, o: ``weight_ih`` (4H, D),
``weight_hh`` (4H, H), ``bias_ih`` and ``bias_hh`` (4H,) (``cell_params`` reads them off an
``nn.LSTMCell``). ``lstm_step`` is what ``nn.LSTMCell`` computes; every ``step_*``
function embodies one error and says in its docstring what is wrong and what is right.
``MISTAKES`` lists the errors that several articles make; ``ARTICLE_MISTAKES`` two more,
from one article's cell (``step_gates_scale_cell``, ``step_output_from_gate``).
``max_abs_difference`` and ``matches_cell`` run any of them against an ``nn.LSTMCell``
with the same weights, so a chapter can show in one line that a formula is not the LSTM.

The right step, ``cell_params`` and the comparison live in ``cell_reference`` and are
re-exported here, so the chapters import everything from this one module.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from lstm_course.experiments.cell_reference import (
    Params,
    State,
    StepFn,
    cell_params,
    gate_blocks,
    lstm_step,
    matches_cell,
    max_abs_difference,
    preactivations,
)

__all__ = [
    "MISTAKES",
    "ARTICLE_MISTAKES",
    "cell_params",
    "preactivations",
    "lstm_step",
    "step_all_sigmoid",
    "step_cell_feeds_gates",
    "step_output_from_candidate",
    "step_no_output_gate",
    "step_update_gate",
    "step_gates_scale_cell",
    "step_output_from_gate",
    "Mistake",
    "max_abs_difference",
    "matches_cell",
]

# --- the errors -----------------------------------------------------------------------------


def step_all_sigmoid(x: Tensor, state: State, params: Params) -> State:
    """WRONG: all four of i, f, g, o pass through a sigmoid.

    Right: only the gates i, f, o use the sigmoid (they are fractions in (0, 1)); the
    candidate g uses tanh, so it can write negative as well as positive values. With a
    sigmoid candidate every write is positive: starting from c = 0 the cell state, and
    with it h, can never become negative.
    """
    zi, zf, zg, zo = gate_blocks(x, state, params)
    i, f, g, o = (torch.sigmoid(z) for z in (zi, zf, zg, zo))
    c = f * state[1] + i * g
    return o * torch.tanh(c), c


def step_cell_feeds_gates(
    x: Tensor, state: State, params: Params, weight_ch: Tensor | None = None
) -> State:
    """WRONG: an extra term ``W_h [h_{t-1}, c~]`` feeds the cell into all four gates.

    The articles write the gates as ``sigma(W_x [x_t, h_{t-1}] + W_h [h_{t-1}, c~] + b)``.
    The candidate c~ is computed *from* these pre-activations, so that formula is
    circular; the only computable reading lets the previous cell state c_{t-1} enter
    every pre-activation through a full (4H, H) matrix ``weight_ch`` (by default the
    recurrent weights ``weight_hh`` reused, as the shared ``W_h`` suggests).

    Right: each gate and the candidate is an affine map of [x_t, h_{t-1}] only. The
    peephole variant (not in PyTorch) does let the cell into the gates, but through a
    diagonal weight per gate, into i, f and o only, and the output gate sees c_t.
    """
    h_prev, c_prev = state
    weight_ch = params["weight_hh"] if weight_ch is None else weight_ch
    if weight_ch.shape != params["weight_hh"].shape:
        raise ValueError(
            f"weight_ch must have shape (4H, H) = {tuple(params['weight_hh'].shape)}, "
            f"got {tuple(weight_ch.shape)}"
        )
    z = preactivations(x, h_prev, params) + c_prev @ weight_ch.T
    zi, zf, zg, zo = z.chunk(4, dim=1)
    i, f, g, o = torch.sigmoid(zi), torch.sigmoid(zf), torch.tanh(zg), torch.sigmoid(zo)
    c = f * c_prev + i * g
    return o * torch.tanh(c), c


def step_output_from_candidate(x: Tensor, state: State, params: Params) -> State:
    """WRONG: the output is ``y_t = tanh(g_t) * c_t``.

    Right: ``h_t = o_t * tanh(c_t)``: the cell state is squashed by tanh and scaled by the
    output gate. The wrong formula has no output gate, squashes the candidate a second
    time and lets the unbounded cell state through unsquashed. (The cell state c_t itself
    is updated correctly here, so the error shows in h.)
    """
    zi, zf, zg, _ = gate_blocks(x, state, params)
    i, f, g = torch.sigmoid(zi), torch.sigmoid(zf), torch.tanh(zg)
    c = f * state[1] + i * g
    return torch.tanh(g) * c, c


def step_no_output_gate(x: Tensor, state: State, params: Params) -> State:
    """WRONG: a "basic LSTM" with an input and a forget gate but no output gate.

    Right: ``h_t = o_t * tanh(c_t)`` has an output gate; so did the first LSTM
    (Hochreiter & Schmidhuber, 1997), which had input and output gates and *no* forget
    gate, added by Gers, Schmidhuber & Cummins (2000). The "basic LSTM" of these
    articles, h_t = tanh(c_t), is neither the original nor the standard cell. The o
    block of the parameters is ignored.
    """
    zi, zf, zg, _ = gate_blocks(x, state, params)
    i, f, g = torch.sigmoid(zi), torch.sigmoid(zf), torch.tanh(zg)
    c = f * state[1] + i * g
    return torch.tanh(c), c


def step_update_gate(x: Tensor, state: State, params: Params) -> State:
    """WRONG: an "update gate" inside the LSTM.

    Here the f block becomes a GRU-style update gate u that interpolates between the old
    cell and the candidate, ``c_t = u * c_{t-1} + (1 - u) * g_t``, and the input gate is
    dropped. Right: the update gate belongs to the GRU (Cho et al., 2014), which has an
    update and a reset gate and no cell state; the LSTM keeps separate input and forget
    gates, ``c_t = f_t * c_{t-1} + i_t * g_t``, which need not sum to 1. (Tying them is a
    variant of its own, the coupled input-forget gate, not what ``nn.LSTM`` computes.)
    """
    _, zu, zg, zo = gate_blocks(x, state, params)
    u, g, o = torch.sigmoid(zu), torch.tanh(zg), torch.sigmoid(zo)
    c = u * state[1] + (1 - u) * g
    return o * torch.tanh(c), c


def step_gates_scale_cell(x: Tensor, state: State, params: Params) -> State:
    """WRONG: the input gate multiplies the old cell instead of a candidate.

    One article writes the input gate's contribution as ``sigma(a^i) * C_i`` next to the
    forget gate's ``sigma(a^f) * C_f``, both scaling the previous cell state, so
    ``c_t = (i_t + f_t) * c_{t-1}`` and no candidate g_t is ever written. A cell that
    starts at zero then stays zero whatever the input. Right: ``c_t = f_t * c_{t-1} +
    i_t * g_t`` with ``g_t = tanh(a^g_t)``: the input gate scales *new* content. (The
    output, ``h_t = o_t * tanh(c_t)``, is the right one here.) x is (B, D), the state and
    the returned h and c (B, H); the g block of the parameters is ignored.
    """
    ai, af, _, ao = gate_blocks(x, state, params)
    c = torch.sigmoid(ai) * state[1] + torch.sigmoid(af) * state[1]
    return torch.sigmoid(ao) * torch.tanh(c), c


def step_output_from_gate(x: Tensor, state: State, params: Params) -> State:
    """WRONG: the output is computed from the output gate's own pre-activation.

    The same article writes ``C'_o = a^o * sigma(a^o)`` and the output ``tanh(C'_o)``:
    the output gate gates its own pre-activation, and the cell state never reaches the
    output, so h_t does not depend on c_{t-1} at all. Right: ``h_t = o_t * tanh(c_t)``,
    the gate scales the squashed cell state. (The cell update is the right one here.)
    x is (B, D), the state and the returned h and c (B, H).
    """
    ai, af, ag, ao = gate_blocks(x, state, params)
    c = torch.sigmoid(af) * state[1] + torch.sigmoid(ai) * torch.tanh(ag)
    return torch.tanh(ao * torch.sigmoid(ao)), c


@dataclass(frozen=True)
class Mistake:
    """One error: its step function, what the articles write, and what is right."""

    step: StepFn
    wrong: str
    right: str


#: The errors of the popular articles, by name, for the chapters that show them.
MISTAKES: dict[str, Mistake] = {
    "all_sigmoid": Mistake(
        step_all_sigmoid, "i, f, g, o = sigmoid(...)", "g_t = tanh(...); only i, f, o use sigmoid"
    ),
    "cell_feeds_gates": Mistake(
        step_cell_feeds_gates,
        "gates = sigmoid(W_x[x, h] + W_h[h, c~] + b)",
        "each gate is an affine map of [x_t, h_{t-1}]",
    ),
    "output_from_candidate": Mistake(
        step_output_from_candidate, "y_t = tanh(g_t) * c_t", "h_t = o_t * tanh(c_t)"
    ),
    "no_output_gate": Mistake(
        step_no_output_gate,
        "'basic LSTM': input and forget gates, h_t = tanh(c_t)",
        "1997: input and output gates; forget gate added in 2000",
    ),
    "update_gate": Mistake(
        step_update_gate,
        "an update gate inside the LSTM",
        "the update gate is the GRU's; the LSTM has i and f",
    ),
}

#: Two errors of one article's cell, beyond ``MISTAKES``, each with the rest of the step right.
ARTICLE_MISTAKES: dict[str, Mistake] = {
    "gates_scale_cell": Mistake(
        step_gates_scale_cell,
        "c_t = sigmoid(a^i) * c_{t-1} + sigmoid(a^f) * c_{t-1}",
        "c_t = f_t * c_{t-1} + i_t * g_t",
    ),
    "output_from_gate": Mistake(
        step_output_from_gate,
        "h_t = tanh(a^o * sigmoid(a^o))",
        "h_t = o_t * tanh(c_t)",
    ),
}
