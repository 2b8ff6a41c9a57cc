"""An LSTM from scratch in NumPy: forward and backward, for one step or a whole sequence.

The reference to compare against after deriving the LSTM by hand (chapters 2-4). It is
PyTorch's ``nn.LSTM`` exactly: same equations, parameter names (minus the ``_l0``
suffix), layout and gate order i, f, g, o, so parameters copy across both ways.

Shapes: T time steps, B batch, D input size, H hidden size. One step, where ``split``
cuts a 4H vector into four blocks of H:

    i, f, g, o = split(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)
    i, f, o = sigmoid(i), sigmoid(f), sigmoid(o);   g = tanh(g)
    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(c_t)

Works in float32 and float64; every output has the dtype of the inputs.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

#: Parameter names and shapes: weight_ih (4H, D), weight_hh (4H, H), bias_ih/hh (4H,).
KEYS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function 1 / (1 + exp(-z)), elementwise, same shape and dtype as z."""
    # exp only ever sees -|z| <= 0, so it cannot overflow for large negative z.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def init_params(input_size: int, hidden_size: int, rng=None, dtype=np.float64) -> dict:
    """Random parameters as ``nn.LSTM`` draws them: uniform in (-1/sqrt(H), 1/sqrt(H)).

    Args:
        input_size: D.
        hidden_size: H.
        rng: a seed, a ``np.random.Generator``, or None for fresh entropy.
        dtype: ``np.float32`` or ``np.float64``.

    Returns:
        dict with ``weight_ih`` (4H, D), ``weight_hh`` (4H, H), ``bias_ih`` (4H,) and
        ``bias_hh`` (4H,), rows stacked in gate order i, f, g, o.
    """
    for name, n in (("input_size", input_size), ("hidden_size", hidden_size)):
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise ValueError(f"{name} must be a positive int, got {n!r}")
    if np.dtype(dtype) not in _DTYPES:
        raise ValueError(f"dtype {np.dtype(dtype)} is not supported: use np.float32 or np.float64")
    rng = np.random.default_rng(rng)
    k = 1 / np.sqrt(hidden_size)
    D, H = input_size, hidden_size
    shapes = {"weight_ih": (4 * H, D), "weight_hh": (4 * H, H), "bias_ih": (4 * H,),
              "bias_hh": (4 * H,)}
    return {name: rng.uniform(-k, k, shape).astype(dtype) for name, shape in shapes.items()}


# --- one step: the equations and their derivatives ---------------------------------------


def _step_forward(gx, h_prev, c_prev, w_hh):
    """One step, given the input projection gx = x_t W_ih^T + b_ih + b_hh of shape (B, 4H).

    Returns h, c (B, H) and the step's cache: exactly what ``_step_backward`` needs.
    """
    a = gx + h_prev @ w_hh.T
    ai, af, ag, ao = np.split(a, 4, axis=1)
    i, f, g, o = sigmoid(ai), sigmoid(af), np.tanh(ag), sigmoid(ao)
    c = f * c_prev + i * g
    tanh_c = np.tanh(c)
    h = o * tanh_c
    return h, c, (h_prev, c_prev, i, f, g, o, tanh_c)


def _step_backward(dh, dc, step, w_hh):
    """Back through one step.

    Args:
        dh, dc: dL/dh_t and dL/dc_t (B, H), summed over every path from later on.
        step: the step's cache from ``_step_forward``.

    Returns:
        da = dL/d(pre-activation gates) (B, 4H), dh_prev and dc_prev (B, H).
    """
    h_prev, c_prev, i, f, g, o, tanh_c = step
    do = dh * tanh_c
    # c_t reaches the loss two ways: through c_{t+1} (dc) and through h_t = o * tanh(c_t).
    dc = dc + dh * o * (1 - tanh_c**2)
    di, df, dg = dc * g, dc * c_prev, dc * i
    # Both derivatives come from the saved outputs: sigmoid' = s (1 - s), tanh' = 1 - t^2.
    da = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g**2),
                         do * o * (1 - o)], axis=1)
    return da, da @ w_hh, dc * f


def _grads_from_gates(da, x, h_prev, p):
    """dx (..., D) and the parameter gradients, from da (..., 4H) and the matching
    inputs x (..., D) and previous hidden states h_prev (..., H) of the same steps."""
    # The weights are shared by every step and batch row, so their gradients sum over
    # both: flattening those axes lets one matrix product do the whole sum.
    da2 = da.reshape(-1, da.shape[-1])
    db = da2.sum(axis=0)
    grads = {
        "weight_ih": da2.T @ x.reshape(-1, x.shape[-1]),
        "weight_hh": da2.T @ h_prev.reshape(-1, h_prev.shape[-1]),
        # The two biases only ever appear as a sum, so they get the same gradient (a
        # copy, so that updating one in place leaves the other alone).
        "bias_ih": db,
        "bias_hh": db.copy(),
    }
    return da @ p["weight_ih"], grads


# --- checks: every error says what was wrong and what to do -------------------------------


def _check_dtype(name, a, dtype=None, ref="the parameters"):
    if a.dtype not in _DTYPES:
        raise ValueError(f"{name} has dtype {a.dtype}, which is not supported: use float32 "
                         f"or float64, e.g. {name}.astype(np.float64)")
    if dtype is not None and a.dtype != dtype:
        raise ValueError(f"{name} is {a.dtype} but {ref} {dtype}: use one dtype for "
                         f"everything, e.g. {name}.astype(np.{dtype})")


def _array(name, a, spec, shape, dtype, ref="the parameters are", hint=""):
    """``a`` as an array, checked against ``shape`` (None: any size), spelled ``spec``."""
    a = np.asarray(a)
    if a.ndim != len(shape) or any(n not in (None, m)
                                   for n, m in zip(shape, a.shape, strict=True)):
        want = str(tuple("?" if n is None else n for n in shape)).replace("'", "")
        raise ValueError(f"{name} must have shape {spec} = {want}, got {a.shape}{hint}")
    _check_dtype(name, a, dtype, ref)
    return a


def _check_params(params):
    """Validated params as a dict of arrays, with D and H."""
    if not isinstance(params, Mapping):
        raise ValueError(f"params must be a dict with keys {', '.join(KEYS)} (see "
                         f"init_params), got {type(params).__name__}")
    missing = [k for k in KEYS if k not in params]
    extra = [k for k in params if k not in KEYS]
    if missing or extra:
        hint = ("; nn.LSTM's names end in _l0: drop that suffix"
                if any(str(k).endswith("_l0") for k in extra) else "")
        raise ValueError(f"params must have exactly the keys {', '.join(KEYS)}: missing "
                         f"{missing}, unexpected {extra}{hint}")
    w_ih = np.asarray(params["weight_ih"])
    if w_ih.ndim != 2 or w_ih.shape[0] % 4 or 0 in w_ih.shape:
        raise ValueError(f"weight_ih must have shape (4H, D), the gates i, f, g, o stacked "
                         f"by rows, with H, D >= 1; got {w_ih.shape}")
    _check_dtype("weight_ih", w_ih)
    H, D = w_ih.shape[0] // 4, w_ih.shape[1]
    p = {"weight_ih": w_ih}
    for name, spec, shape in (("weight_hh", "(4H, H)", (4 * H, H)),
                              ("bias_ih", "(4H,)", (4 * H,)), ("bias_hh", "(4H,)", (4 * H,))):
        p[name] = _array(name, params[name], spec, shape, w_ih.dtype,
                         ref="weight_ih is", hint=f" (H = {H}, from weight_ih)")
    return p, D, H


def _check_pair(name, pair, names, B, H, dtype):
    """Two (B, H) arrays; zeros when ``pair`` is None."""
    if pair is None:
        return np.zeros((B, H), dtype), np.zeros((B, H), dtype)
    if not isinstance(pair, tuple | list) or len(pair) != 2:
        raise ValueError(f"{name} must be None or a pair ({', '.join(names)}) of (B, H) "
                         f"arrays, got {type(pair).__name__}")
    hint = f" (B = {B}, from x; H = {H}, from the parameters)"
    return tuple(_array(n, a, "(B, H)", (B, H), dtype, hint=hint)
                 for n, a in zip(names, pair, strict=True))


def _unpack(cache, kind, forward):
    if not isinstance(cache, dict) or kind not in cache:
        raise ValueError(f"cache must be the cache returned by {forward}")
    return cache["x"], cache["params"], cache[kind]


# --- the public API -----------------------------------------------------------------------


def lstm_cell_forward(x, params, state=None):
    """One LSTM step, the unit chapter 3 derives.

    Args:
        x: inputs of one step, shape (B, D).
        params: as for ``lstm_forward``.
        state: ``(h_prev, c_prev)``, each (B, H); zeros when None.

    Returns:
        ``((h, c), cache)``: the new state, each (B, H), and what ``lstm_cell_backward``
        needs.
    """
    p, D, H = _check_params(params)
    x = _array("x", x, "(B, D)", (None, D), p["weight_ih"].dtype, hint=f" (D = {D}, from "
               "weight_ih); for a whole sequence (T, B, D) use lstm_forward")
    h, c = _check_pair("state", state, ("h_prev", "c_prev"), x.shape[0], H, x.dtype)
    gx = x @ p["weight_ih"].T + (p["bias_ih"] + p["bias_hh"])
    h, c, step = _step_forward(gx, h, c, p["weight_hh"])
    return (h, c), {"x": x, "params": p, "step": step}


def lstm_cell_backward(dh, cache, dc=None):
    """Back through one step.

    Args:
        dh: dL/dh of the step's output, shape (B, H).
        cache: from ``lstm_cell_forward``.
        dc: dL/dc (B, H), the gradient arriving through the cell state; zeros when None.

    Returns:
        ``(dx, grads, (dh_prev, dc_prev))``: dx (B, D), grads keyed like params, and the
        gradients with respect to the step's input state, each (B, H).
    """
    x, p, step = _unpack(cache, "step", "lstm_cell_forward")
    B, H = x.shape[0], p["weight_hh"].shape[1]
    dh = _array("dh", dh, "(B, H)", (B, H), x.dtype)
    dc = np.zeros_like(dh) if dc is None else _array("dc", dc, "(B, H)", (B, H), x.dtype)
    da, dh_prev, dc_prev = _step_backward(dh, dc, step, p["weight_hh"])
    dx, grads = _grads_from_gates(da, x, step[0], p)
    return dx, grads, (dh_prev, dc_prev)


def lstm_forward(x, params, state=None):
    """Run an LSTM over a sequence, like ``nn.LSTM`` with one layer.

    Args:
        x: inputs, shape (T, B, D), T >= 1.
        params: dict with ``weight_ih`` (4H, D), ``weight_hh`` (4H, H), ``bias_ih`` and
            ``bias_hh`` (4H,), all of one dtype (see ``init_params``).
        state: ``(h0, c0)``, each (B, H); zeros when None.

    Returns:
        ``(y, (h_T, c_T), cache)``: y (T, B, H) holds h_1 .. h_T, the final state is two
        (B, H) arrays, and cache is what ``lstm_backward`` needs.
    """
    p, D, H = _check_params(params)
    x = _array("x", x, "(T, B, D)", (None, None, D), p["weight_ih"].dtype,
               hint=f" (D = {D}, from weight_ih)")
    T, B, _ = x.shape
    if T == 0:
        raise ValueError("x has no time steps (T = 0): pass at least one, like nn.LSTM")
    h, c = _check_pair("state", state, ("h0", "c0"), B, H, x.dtype)
    # The input projection does not depend on the recurrence, so all T steps take one
    # matrix product; only h_{t-1} W_hh^T has to wait for the previous step.
    gx = x @ p["weight_ih"].T + (p["bias_ih"] + p["bias_hh"])
    y = np.empty((T, B, H), dtype=x.dtype)
    steps = []
    for t in range(T):
        h, c, step = _step_forward(gx[t], h, c, p["weight_hh"])
        y[t] = h
        steps.append(step)
    return y, (h, c), {"x": x, "params": p, "steps": steps}


def lstm_backward(dy, cache, dstate=None):
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
    x, p, steps = _unpack(cache, "steps", "lstm_forward")
    T, B, _ = x.shape
    H = p["weight_hh"].shape[1]
    dy = _array("dy", dy, "(T, B, H)", (T, B, H), x.dtype, hint=" (the shape of y)")
    dh, dc = _check_pair("dstate", dstate, ("dh_T", "dc_T"), B, H, x.dtype)
    da = np.empty((T, B, 4 * H), dtype=x.dtype)
    for t in reversed(range(T)):
        # h_t feeds both the output y_t and step t + 1, so its gradient is the sum of both.
        da[t], dh, dc = _step_backward(dy[t] + dh, dc, steps[t], p["weight_hh"])
    h_prev = np.stack([step[0] for step in steps])  # h_0 .. h_{T-1}, (T, B, H)
    dx, grads = _grads_from_gates(da, x, h_prev, p)
    return dx, grads, (dh, dc)
