import re

import numpy as np
import pytest
import torch
from torch import nn

from lstm_course.scratch import (
    KEYS,
    init_params,
    lstm_backward,
    lstm_cell_backward,
    lstm_cell_forward,
    lstm_forward,
    sigmoid,
)

# (T, B, D, H), including the degenerate sizes T = 1, B = 1, H = 1.
SHAPES = [(1, 1, 1, 1), (1, 3, 2, 4), (5, 1, 3, 1), (4, 2, 5, 3), (8, 3, 2, 6)]


def _problem(T, B, D, H, seed=0, dtype=np.float64):
    """Params, inputs, initial state and upstream gradients, all random."""
    rng = np.random.default_rng(seed)
    params = init_params(D, H, rng=rng, dtype=dtype)
    x, h0, c0 = (rng.standard_normal(s).astype(dtype) for s in [(T, B, D), (B, H), (B, H)])
    dy, dh, dc = (rng.standard_normal(s).astype(dtype) for s in [(T, B, H), (B, H), (B, H)])
    return params, x, (h0, c0), dy, (dh, dc)


def _run(params, x, state, dy, dstate):
    """Forward and backward; everything as one flat dict."""
    y, (h, c), cache = lstm_forward(x, params, state)
    dx, grads, (dh0, dc0) = lstm_backward(dy, cache, dstate)
    return {"y": y, "h_T": h, "c_T": c, "dx": dx, "dh0": dh0, "dc0": dc0, **grads}


def _torch_run(params, x, state, dy, dstate):
    """The same through nn.LSTM and torch.autograd, float64."""
    D, H = x.shape[2], params["weight_hh"].shape[1]
    lstm = nn.LSTM(D, H).double()
    with torch.no_grad():
        for k in KEYS:
            getattr(lstm, k + "_l0").copy_(torch.from_numpy(params[k]))
    xt = torch.tensor(x, requires_grad=True)
    h0, c0 = (torch.tensor(s[None], requires_grad=True) for s in state)  # (1, B, H)
    y, (h, c) = lstm(xt, (h0, c0))
    dy, dh, dc = (torch.from_numpy(a) for a in (dy, *dstate))
    loss = (y * dy).sum() + (h[0] * dh).sum() + (c[0] * dc).sum()
    weights = [getattr(lstm, k + "_l0") for k in KEYS]
    dx, dh0, dc0, *dw = torch.autograd.grad(loss, [xt, h0, c0, *weights])
    out = {
        "y": y,
        "h_T": h[0],
        "c_T": c[0],
        "dx": dx,
        "dh0": dh0[0],
        "dc0": dc0[0],
        **dict(zip(KEYS, dw, strict=True)),
    }
    return {k: v.detach().numpy() for k, v in out.items()}


@pytest.mark.parametrize("T,B,D,H", SHAPES)
def test_matches_torch_lstm(T, B, D, H):
    problem = _problem(T, B, D, H, seed=T * 1000 + B * 100 + D * 10 + H)
    ours, theirs = _run(*problem), _torch_run(*problem)
    assert ours.keys() == theirs.keys()
    for k in ours:
        assert ours[k].shape == theirs[k].shape, k
        np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-10, atol=1e-10, err_msg=k)


def test_finite_differences():
    params, x, (h0, c0), dy, (dh, dc) = _problem(4, 3, 5, 4, seed=1)

    # A scalar loss whose gradient wrt y, h_T and c_T is (dy, dh, dc).
    def loss():
        y, (h, c), _ = lstm_forward(x, params, (h0, c0))
        return np.sum(y * dy) + np.sum(h * dh) + np.sum(c * dc)

    out = _run(params, x, (h0, c0), dy, (dh, dc))
    analytic = {**{k: out[k] for k in KEYS}, "x": out["dx"], "h0": out["dh0"], "c0": out["dc0"]}
    arrays = {**params, "x": x, "h0": h0, "c0": c0}
    rng, eps, worst = np.random.default_rng(2), 1e-5, {}
    for name, a in arrays.items():
        for flat in rng.choice(a.size, size=min(3, a.size), replace=False):
            idx = np.unravel_index(flat, a.shape)
            old = a[idx]
            a[idx] = old + eps
            up = loss()
            a[idx] = old - eps
            down = loss()
            a[idx] = old
            num, ana = (up - down) / (2 * eps), analytic[name][idx]
            # Rounding in L limits a central difference to ~1e-16 |L| / eps ~ 1e-11 absolute,
            # so entries far below the typical gradient (~0.1) are compared against 1e-3.
            rel = abs(num - ana) / max(abs(num), abs(ana), 1e-3)
            worst[name] = max(worst.get(name, 0.0), rel)
    assert max(worst.values()) < 1e-7, worst


def test_float32_stays_float32_and_agrees_with_float64():
    p64, x, state, dy, dstate = _problem(6, 3, 4, 5, seed=3)
    cast = lambda a: a.astype(np.float32)  # noqa: E731
    p32 = {k: cast(v) for k, v in p64.items()}
    out32 = _run(p32, cast(x), tuple(map(cast, state)), cast(dy), tuple(map(cast, dstate)))
    out64 = _run(p64, x, state, dy, dstate)
    for k in out64:
        assert out32[k].dtype == np.float32, k
        np.testing.assert_allclose(out32[k], out64[k], rtol=1e-5, atol=1e-5, err_msg=k)


def test_init_params():
    p = init_params(3, 5, rng=0)
    assert tuple(p) == KEYS
    assert {k: v.shape for k, v in p.items()} == {
        "weight_ih": (20, 3),
        "weight_hh": (20, 5),
        "bias_ih": (20,),
        "bias_hh": (20,),
    }
    assert all(v.dtype == np.float64 for v in p.values())
    bound = 1 / np.sqrt(5)
    assert all(np.abs(v).max() <= bound for v in p.values())
    assert np.abs(p["weight_ih"]).max() > 0.8 * bound  # uses the whole range
    again = init_params(3, 5, rng=np.random.default_rng(0))
    assert all(np.array_equal(p[k], again[k]) for k in KEYS)  # a seed is a Generator's seed
    assert init_params(3, 5, dtype=np.float32)["weight_hh"].dtype == np.float32


def test_defaults_are_zeros():
    params, x, _, dy, _ = _problem(3, 2, 4, 3, seed=4)
    zeros = (np.zeros((2, 3)), np.zeros((2, 3)))
    default, explicit = _run(params, x, None, dy, None), _run(params, x, zeros, dy, zeros)
    for k in default:
        np.testing.assert_array_equal(default[k], explicit[k], err_msg=k)


def test_cell_steps_match_sequence():
    params, x, state, dy, (dh, dc) = _problem(5, 2, 3, 4, seed=5)
    seq = _run(params, x, state, dy, (dh, dc))
    # Forward one step at a time, then back one step at a time, as chapter 3 does.
    caches, h, c = [], *state
    for t in range(len(x)):
        (h, c), cache = lstm_cell_forward(x[t], params, (h, c))
        np.testing.assert_allclose(h, seq["y"][t], rtol=1e-12, atol=1e-12)
        caches.append(cache)
    np.testing.assert_allclose(c, seq["c_T"], rtol=1e-12, atol=1e-12)
    grads = {k: 0.0 for k in KEYS}
    for t in reversed(range(len(x))):
        dx, g, (dh, dc) = lstm_cell_backward(dy[t] + dh, caches[t], dc)
        np.testing.assert_allclose(dx, seq["dx"][t], rtol=1e-12, atol=1e-12)
        grads = {k: grads[k] + g[k] for k in KEYS}
    for k in KEYS:
        np.testing.assert_allclose(grads[k], seq[k], rtol=1e-12, atol=1e-12, err_msg=k)
    np.testing.assert_allclose(dh, seq["dh0"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dc, seq["dc0"], rtol=1e-12, atol=1e-12)
    # Without a state or dc, both are zeros.
    (h, _), cache = lstm_cell_forward(x[0], params)
    (h_zero, _), _ = lstm_cell_forward(x[0], params, (np.zeros((2, 4)), np.zeros((2, 4))))
    np.testing.assert_array_equal(h, h_zero)
    assert lstm_cell_backward(dy[0], cache)[0].shape == (2, 3)


def test_saturated_gates_do_not_overflow():
    assert np.array_equal(sigmoid(np.array([-1000.0, 0.0, 1000.0])), [0.0, 0.5, 1.0])
    params, x, state, dy, dstate = _problem(3, 2, 3, 2, seed=6)
    params = {k: 1000 * v for k, v in params.items()}
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = _run(params, x, state, dy, dstate)
    assert all(np.isfinite(v).all() for v in out.values())


# --- errors -------------------------------------------------------------------------------

P, X, (H0, C0), DY, (DH, DC) = _problem(3, 2, 4, 5)
CACHE = lstm_forward(X, P)[2]


def _with(**changes):
    return {**P, **changes}


BAD_CALLS = {
    "x not 3-D": (lambda: lstm_forward(X[0], P), "(T, B, D)"),
    "x wrong D": (lambda: lstm_forward(X[..., :3], P), "D = 4"),
    "x empty": (lambda: lstm_forward(X[:0], P), "T = 0"),
    "x int": (lambda: lstm_forward(X.astype(int), P), "float32 or float64"),
    "x float16": (lambda: lstm_forward(X.astype(np.float16), P), "not supported"),
    "x float32, params float64": (lambda: lstm_forward(X.astype(np.float32), P), "one dtype"),
    "params mixed dtypes": (
        lambda: lstm_forward(X, _with(bias_hh=P["bias_hh"].astype(np.float32))),
        "one dtype",
    ),
    "missing key": (lambda: lstm_forward(X, {k: P[k] for k in KEYS[:3]}), "missing"),
    "torch names": (lambda: lstm_forward(X, {k + "_l0": v for k, v in P.items()}), "_l0"),
    "weight_ih not 4H": (lambda: lstm_forward(X, _with(weight_ih=P["weight_ih"][:-1])), "4H"),
    "weight_hh wrong": (
        lambda: lstm_forward(X, _with(weight_hh=P["weight_hh"][:, :-1])),
        "weight_hh",
    ),
    "bias wrong": (lambda: lstm_forward(X, _with(bias_ih=P["bias_ih"][:-4])), "bias_ih"),
    "state wrong shape": (lambda: lstm_forward(X, P, (H0[:, :-1], C0)), "h0"),
    "state wrong batch": (lambda: lstm_forward(X, P, (H0, C0[:1])), "c0"),
    "dy wrong shape": (lambda: lstm_backward(DY[:-1], CACHE), "dy"),
    "dy wrong dtype": (lambda: lstm_backward(DY.astype(np.float32), CACHE), "one dtype"),
    "dstate wrong shape": (lambda: lstm_backward(DY, CACHE, (DH[:, :-1], DC)), "dh_T"),
    "not a cache": (lambda: lstm_backward(DY, {}), "cache"),
    "cell cache": (lambda: lstm_backward(DY, lstm_cell_forward(X[0], P)[1]), "lstm_forward"),
    "cell x 3-D": (lambda: lstm_cell_forward(X, P), "lstm_forward"),
    "cell dh wrong": (lambda: lstm_cell_backward(DY, lstm_cell_forward(X[0], P)[1]), "dh"),
    "init hidden_size": (lambda: init_params(3, 0), "hidden_size"),
    "init dtype": (lambda: init_params(3, 2, dtype=np.float16), "float32"),
}


BAD_TYPES = {
    "params not a dict": (
        lambda: lstm_forward(X, list(P.values())),
        "params must be a dict with keys weight_ih",
    ),
    "state not a pair": (
        lambda: lstm_forward(X, P, H0),
        "state must be None or a pair (h0, c0) of (B, H) arrays, got ndarray",
    ),
    "init size a float": (lambda: init_params(3.0, 2), "input_size must be an int >= 1, got 3.0"),
    "init size a bool": (lambda: init_params(3, True), "hidden_size must be an int >= 1, got True"),
}


@pytest.mark.parametrize("name", BAD_CALLS)
def test_bad_input_raises_value_error(name):
    call, word = BAD_CALLS[name]
    with pytest.raises(ValueError, match=re.escape(word)):
        call()


@pytest.mark.parametrize("name", BAD_TYPES)
def test_input_of_the_wrong_type_raises_type_error(name):
    call, words = BAD_TYPES[name]
    with pytest.raises(TypeError, match=re.escape(words)):
        call()


def test_init_params_takes_numpy_ints():
    params = init_params(np.int64(3), np.int32(2))
    assert params["weight_ih"].shape == (8, 3) and params["weight_hh"].shape == (8, 2)


def test_y_is_read_only_and_inputs_are_left_alone():
    params, x, state, dy, dstate = _problem(4, 2, 3, 5, seed=7)
    before = [a.copy() for a in (x, *state, dy, *dstate, *params.values())]
    y, _, cache = lstm_forward(x, params, state)
    # y is a view of the cache: writing to it would corrupt the backward pass.
    with pytest.raises(ValueError, match="read-only"):
        y[0] = 0
    first = lstm_backward(dy, cache, dstate)
    second = lstm_backward(dy, cache, dstate)  # the same cache can be used twice
    after = [x, *state, dy, *dstate, *params.values()]
    for a, b in zip(before, after, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(first[0], second[0])
    for k in KEYS:
        np.testing.assert_array_equal(first[1][k], second[1][k])


def test_final_state_is_a_copy():
    params, x, state, _, _ = _problem(3, 2, 3, 4, seed=8)
    y, (h, c), cache = lstm_forward(x, params, state)
    h += 1  # the caller owns the final state
    np.testing.assert_array_equal(y[-1] + 1, h)
