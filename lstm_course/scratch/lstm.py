"""An LSTM from scratch in NumPy: forward and backward, for one step or a whole sequence.

The reference to compare against after deriving the LSTM by hand (chapters ``02_lstm_cell`` to ``04_numpy_lstm``). It is
PyTorch's ``nn.LSTM`` exactly: same equations, parameter names (minus the ``_l0``
suffix), layout and gate order i, f, g, o, so parameters copy across both ways.

Shapes: T time steps, B batch, D input size, H hidden size. One step, where ``split``
cuts a 4H vector into four blocks of H:

    i, f, g, o = split(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)
    i, f, o = sigmoid(i), sigmoid(f), sigmoid(o);   g = tanh(g)
    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(c_t)

Works in float32 and float64; every output has the dtype of the inputs. The parameters,
their initialization and the checks of every argument live in ``params``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike

from lstm_course.scratch.buffers import BufferPool
from lstm_course.scratch.params import (
    Array,
    Cache,
    LSTMParams,
    State,
    check_cache,
    check_pair,
    check_params,
    checked_array,
)

__all__ = [
    "sigmoid",
    "lstm_cell_forward",
    "lstm_cell_backward",
    "lstm_forward",
    "lstm_backward",
]


def sigmoid(z: Array) -> Array:
    """Logistic function 1 / (1 + exp(-z)), elementwise, same shape and dtype as z.

    Computed as (1 + tanh(z / 2)) / 2, the same function: it cannot overflow for any z,
    and tanh is one fast vectorised ufunc (see ``_GateActivations``).
    """
    return 0.5 + 0.5 * np.tanh(0.5 * z)


# --- the equations, arranged for NumPy ----------------------------------------------------
#
# Chapter ``04_numpy_lstm`` explains each speed trick used here:
# 1. The input projection x_t W_ih^T of all T steps is one matrix product before the loop;
#    only h_{t-1} W_hh^T has to wait for the previous step.
# 2. sigmoid(z) = (1 + tanh(z/2)) / 2. With the sigmoid gates' weight rows halved once
#    per call, one np.tanh covers all four gates of a step, and a per-column scale and
#    shift turns the i, f, o columns into sigmoids (``_GateActivations``).
# 3. No temporaries inside the time loops: buffers are allocated once per call and
#    written in place (``out=``, ``*=``); in the backward pass, every factor that does not
#    depend on the recursion (the gates' local derivatives) is computed for all steps at
#    once, before the loop.
# 4. The big arrays come from a pool that reuses the memory of earlier calls once nothing
#    refers to it (``lstm_course.scratch.buffers``): fresh memory costs a page fault per page.

_POOL = BufferPool()


class _GateActivations:
    """Per-column constants that turn tanh of the (pre-scaled) gates into i, f, g, o."""

    def __init__(self, H: int, dtype):
        # Columns of the sigmoid gates i, f, o get 1/2; the tanh candidate g keeps 1.
        self.half = np.full(4 * H, 0.5, dtype)
        self.half[2 * H : 3 * H] = 1
        self.shift = np.full(4 * H, 0.5, dtype)
        self.shift[2 * H : 3 * H] = 0

    def apply_(self, a: np.ndarray) -> np.ndarray:
        """In place: a holds the halved pre-activations (B, 4H); returns i, f, g, o."""
        np.tanh(a, out=a)
        a *= self.half
        a += self.shift
        return a


def _forward(x, p, h0, c0):
    """The layer over a sequence: x (T, B, D) -> the cache that ``_backward`` needs."""
    T, B, D = x.shape
    H = p["weight_hh"].shape[1]
    act = _GateActivations(H, x.dtype)
    w_ih = p["weight_ih"] * act.half[:, None]
    w_hh_t = (p["weight_hh"] * act.half[:, None]).T
    # gates[t] holds x_t W_ih^T + b first, then the activated i, f, g, o of step t.
    gates = _POOL.empty((T, B, 4 * H), x.dtype)
    np.matmul(x.reshape(T * B, D), w_ih.T, out=gates.reshape(T * B, 4 * H))
    gates += (p["bias_ih"] + p["bias_hh"]) * act.half
    hs = _POOL.empty((T + 1, B, H), x.dtype)  # h_0 .. h_T
    cs = _POOL.empty((T + 1, B, H), x.dtype)  # c_0 .. c_T
    tanh_cs = _POOL.empty((T, B, H), x.dtype)  # tanh(c_1) .. tanh(c_T)
    hs[0], cs[0] = h0, c0
    recurrent, i_times_g = np.empty((B, 4 * H), x.dtype), np.empty((B, H), x.dtype)
    for t in range(T):
        a = gates[t]
        a += np.matmul(hs[t], w_hh_t, out=recurrent)
        act.apply_(a)
        i, f, g, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
        np.multiply(f, cs[t], out=cs[t + 1])  # c_t = f * c_{t-1} + i * g
        cs[t + 1] += np.multiply(i, g, out=i_times_g)
        np.tanh(cs[t + 1], out=tanh_cs[t])  # h_t = o * tanh(c_t)
        np.multiply(o, tanh_cs[t], out=hs[t + 1])
    return {"x": x, "params": p, "gates": gates, "hs": hs, "cs": cs, "tanh_cs": tanh_cs}


def _backward(dy, cache, dh, dc):
    """Backpropagation through time. dy (T, B, H); dh, dc (B, H) arrive at the final
    state and are overwritten. Returns dx (T, B, D), grads, (dh_0, dc_0)."""
    x, p, gates, hs, cs, tanh_cs = (
        cache[k] for k in ("x", "params", "gates", "hs", "cs", "tanh_cs")
    )
    T, B, D = x.shape
    H = hs.shape[2]
    i, f, g, o = (gates[:, :, k * H : (k + 1) * H] for k in range(4))
    # da[t] will hold dL/d(pre-activations) of step t. First, for all steps at once, the
    # factors that do not depend on the recursion: what dc_t is multiplied by to give
    # da_i, da_f, da_g, and what dh_t is multiplied by to give da_o. Derivatives come
    # from the saved outputs: sigmoid' = s (1 - s), tanh' = 1 - t^2.
    da = _POOL.empty((T, B, 4 * H), x.dtype)
    da_i, da_f, da_g, da_o = (da[:, :, k * H : (k + 1) * H] for k in range(4))
    np.subtract(1, i, out=da_i)
    da_i *= i
    da_i *= g  # g * i (1 - i)
    np.subtract(1, f, out=da_f)
    da_f *= f
    da_f *= cs[:-1]  # c_{t-1} * f (1 - f)
    np.multiply(g, g, out=da_g)
    np.subtract(1, da_g, out=da_g)
    da_g *= i  # i * (1 - g^2)
    np.subtract(1, o, out=da_o)
    da_o *= o
    da_o *= tanh_cs  # tanh(c_t) * o (1 - o)
    # c_t reaches the loss two ways: through c_{t+1} and through h_t = o * tanh(c_t).
    dh_to_dc = np.multiply(tanh_cs, tanh_cs, out=_POOL.empty((T, B, H), x.dtype))
    np.subtract(1, dh_to_dc, out=dh_to_dc)
    dh_to_dc *= o  # o * (1 - tanh(c_t)^2)
    w_hh = p["weight_hh"]
    dh_t = np.empty((B, H), x.dtype)
    for t in reversed(range(T)):
        # h_t feeds both the output y_t and step t + 1, so its gradient is the sum of both.
        np.add(dy[t], dh, out=dh_t)
        da_o[t] *= dh_t
        dh_to_dc[t] *= dh_t
        dc += dh_to_dc[t]
        da_i[t] *= dc
        da_f[t] *= dc
        da_g[t] *= dc
        dc *= f[t]  # dL/dc_{t-1}: the carousel, scaled by the forget gate
        np.matmul(da[t], w_hh, out=dh)  # dL/dh_{t-1} through the recurrent weights
    # The weights are shared by every step and batch row, so their gradients sum over
    # both: flattening those axes lets one matrix product do the whole sum.
    da2 = da.reshape(T * B, 4 * H)
    db = da2.sum(axis=0)
    grads = {
        "weight_ih": da2.T @ x.reshape(T * B, D),
        "weight_hh": da2.T @ hs[:-1].reshape(T * B, H),
        # The two biases only ever appear as a sum, so they get the same gradient (a
        # copy, so that updating one in place leaves the other alone).
        "bias_ih": db,
        "bias_hh": db.copy(),
    }
    dx = np.matmul(da2, p["weight_ih"], out=_POOL.empty((T * B, D), x.dtype))
    dx = dx.reshape(T, B, D)
    return dx, grads, (dh, dc)


# --- the public API -----------------------------------------------------------------------


def lstm_cell_forward(
    x: ArrayLike, params: Mapping[str, ArrayLike], state: tuple[ArrayLike, ArrayLike] | None = None
) -> tuple[State, Cache]:
    """One LSTM step, the unit chapter ``03_lstm_backward`` derives.

    Args:
        x: inputs of one step, shape (B, D).
        params: as for ``lstm_forward``.
        state: ``(h_prev, c_prev)``, each (B, H); zeros when None.

    Returns:
        ``((h, c), cache)``: the new state, each (B, H), and what ``lstm_cell_backward``
        needs.
    """
    p, D, H = check_params(params)
    x = checked_array(
        "x",
        x,
        "(B, D)",
        (None, D),
        p["weight_ih"].dtype,
        hint=f" (D = {D}, from weight_ih); for a whole sequence (T, B, D) use lstm_forward",
    )
    h, c = check_pair("state", state, ("h_prev", "c_prev"), x.shape[0], H, x.dtype)
    cache = _forward(x[None], p, h, c)
    cache["made_by"] = "lstm_cell_forward"
    return (cache["hs"][1].copy(), cache["cs"][1].copy()), cache


def lstm_cell_backward(
    dh: ArrayLike, cache: Cache, dc: ArrayLike | None = None
) -> tuple[Array, LSTMParams, State]:
    """Back through one step.

    Args:
        dh: dL/dh of the step's output, shape (B, H).
        cache: from ``lstm_cell_forward``.
        dc: dL/dc (B, H), the gradient arriving through the cell state; zeros when None.

    Returns:
        ``(dx, grads, (dh_prev, dc_prev))``: dx (B, D), grads keyed like params, and the
        gradients with respect to the step's input state, each (B, H).
    """
    cache = check_cache(cache, "lstm_cell_forward")
    x = cache["x"]
    B, H = x.shape[1], cache["hs"].shape[2]
    dh = checked_array("dh", dh, "(B, H)", (B, H), x.dtype)
    dc = np.zeros_like(dh) if dc is None else checked_array("dc", dc, "(B, H)", (B, H), x.dtype)
    dx, grads, dstate = _backward(dh[None], cache, np.zeros_like(dh), dc.copy())
    return dx[0], grads, dstate


def lstm_forward(
    x: ArrayLike, params: Mapping[str, ArrayLike], state: tuple[ArrayLike, ArrayLike] | None = None
) -> tuple[Array, State, Cache]:
    """Run an LSTM over a sequence, like ``nn.LSTM`` with one layer.

    Args:
        x: inputs, shape (T, B, D), T >= 1.
        params: dict with ``weight_ih`` (4H, D), ``weight_hh`` (4H, H), ``bias_ih`` and
            ``bias_hh`` (4H,), all of one dtype (see ``init_params``).
        state: ``(h0, c0)``, each (B, H); zeros when None.

    Returns:
        ``(y, (h_T, c_T), cache)``: y (T, B, H) holds h_1 .. h_T, the final state is two
        (B, H) arrays, and cache is what ``lstm_backward`` needs. y is a read-only view
        of the cache (the backward pass needs those values): copy it before changing it
        in place.
    """
    p, D, H = check_params(params)
    x = checked_array(
        "x",
        x,
        "(T, B, D)",
        (None, None, D),
        p["weight_ih"].dtype,
        hint=f" (D = {D}, from weight_ih)",
    )
    T, B, _ = x.shape
    if T == 0:
        raise ValueError("x has no time steps (T = 0): pass at least one, like nn.LSTM")
    h0, c0 = check_pair("state", state, ("h0", "c0"), B, H, x.dtype)
    cache = _forward(x, p, h0, c0)
    cache["made_by"] = "lstm_forward"
    y = cache["hs"][1:]
    y.flags.writeable = False
    return y, (cache["hs"][T].copy(), cache["cs"][T].copy()), cache


def lstm_backward(
    dy: ArrayLike, cache: Cache, dstate: tuple[ArrayLike, ArrayLike] | None = None
) -> tuple[Array, LSTMParams, State]:
    """Backpropagation through time for ``lstm_forward``.

    Args:
        dy: dL/dy, shape (T, B, H).
        cache: from ``lstm_forward``.
        dstate: ``(dh_T, dc_T)``, each (B, H), gradients arriving at the final state (when
            the loss also uses it, or a later chunk of the sequence); zeros when None.

    Returns:
        ``(dx, grads, (dh0, dc0))``: dx (T, B, D), grads keyed like params, and the
        gradients with respect to the initial state, each (B, H).
    """
    cache = check_cache(cache, "lstm_forward")
    x = cache["x"]
    T, B, _ = x.shape
    H = cache["hs"].shape[2]
    dy = checked_array("dy", dy, "(T, B, H)", (T, B, H), x.dtype, hint=" (the shape of y)")
    dh, dc = check_pair("dstate", dstate, ("dh_T", "dc_T"), B, H, x.dtype)
    # _backward overwrites dh and dc as it goes: never the caller's arrays.
    return _backward(dy, cache, np.array(dh), np.array(dc))
