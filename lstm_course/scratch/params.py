"""The NumPy LSTM's parameters, and the checks every function of ``lstm`` runs first.

Parameters follow ``nn.LSTM``'s names (without the ``_l0`` suffix), layout and gate order
i, f, g, o: ``weight_ih`` (4H, D), ``weight_hh`` (4H, H), ``bias_ih`` (4H,), ``bias_hh``
(4H,). ``init_params`` draws them as ``nn.LSTM`` does.

The checks turn what a caller passed into arrays of one supported dtype (float32 or
float64) and the expected shapes, or raise an error that says what was wrong and what
to do (TypeError for a wrong type, ValueError for a wrong value).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias, TypedDict

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from lstm_course.checks import check_int

__all__ = [
    "KEYS",
    "Array",
    "State",
    "Cache",
    "LSTMParams",
    "init_params",
    "check_params",
    "checked_array",
    "check_pair",
    "check_cache",
]

#: Parameter names and shapes: weight_ih (4H, D), weight_hh (4H, H), bias_ih/hh (4H,).
KEYS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

#: A float32 or float64 array; every output has the dtype of the inputs.
Array: TypeAlias = NDArray[np.floating]
#: A state (h, c) or its gradient (dh, dc), each (B, H).
State: TypeAlias = tuple[Array, Array]
#: What a forward function returns for its backward function; not to be changed.
Cache: TypeAlias = dict[str, Any]


class LSTMParams(TypedDict):
    """The parameters (and the gradients ``lstm_backward`` returns), named and laid out
    as ``nn.LSTM``'s without the ``_l0`` suffix, gates stacked by rows i, f, g, o.

    The functions accept any mapping with these keys whose values convert to arrays
    (``np.asarray``), e.g. ``{k: t.numpy() for k, t in ...}``.
    """

    weight_ih: Array  # (4H, D)
    weight_hh: Array  # (4H, H)
    bias_ih: Array  # (4H,)
    bias_hh: Array  # (4H,)


def init_params(
    input_size: int,
    hidden_size: int,
    rng: int | np.random.Generator | None = None,
    dtype: DTypeLike = np.float64,
) -> LSTMParams:
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
    input_size = check_int("input_size", input_size)
    hidden_size = check_int("hidden_size", hidden_size)
    if np.dtype(dtype) not in _DTYPES:
        raise ValueError(f"dtype {np.dtype(dtype)} is not supported: use np.float32 or np.float64")
    rng = np.random.default_rng(rng)
    k = 1 / np.sqrt(hidden_size)
    D, H = input_size, hidden_size
    shapes = {
        "weight_ih": (4 * H, D),
        "weight_hh": (4 * H, H),
        "bias_ih": (4 * H,),
        "bias_hh": (4 * H,),
    }
    return {name: rng.uniform(-k, k, shape).astype(dtype) for name, shape in shapes.items()}


# --- checks: every error says what was wrong and what to do -------------------------------


def _check_dtype(
    name: str, a: np.ndarray, dtype: DTypeLike | None = None, ref: str = "the parameters"
) -> None:
    if a.dtype not in _DTYPES:
        raise ValueError(
            f"{name} has dtype {a.dtype}, which is not supported: use float32 "
            f"or float64, e.g. {name}.astype(np.float64)"
        )
    if dtype is not None and a.dtype != dtype:
        raise ValueError(
            f"{name} is {a.dtype} but {ref} {dtype}: use one dtype for "
            f"everything, e.g. {name}.astype(np.{dtype})"
        )


def checked_array(
    name: str,
    a: ArrayLike,
    spec: str,
    shape: tuple[int | None, ...],
    dtype: DTypeLike | None,
    ref: str = "the parameters are",
    hint: str = "",
) -> Array:
    """``a`` as an array, checked against ``shape`` (None: any size), spelled ``spec`` in
    the message (e.g. ``"(B, H)"``), and of dtype ``dtype`` (None: float32 or float64)."""
    a = np.asarray(a)
    if a.ndim != len(shape) or any(n not in (None, m) for n, m in zip(shape, a.shape, strict=True)):
        want = str(tuple("?" if n is None else n for n in shape)).replace("'", "")
        raise ValueError(f"{name} must have shape {spec} = {want}, got {a.shape}{hint}")
    _check_dtype(name, a, dtype, ref)
    return a


def check_params(params: Mapping[str, ArrayLike]) -> tuple[dict[str, Array], int, int]:
    """``(p, D, H)``: the validated params as a dict of arrays of one dtype, ``weight_ih``
    (4H, D), ``weight_hh`` (4H, H), ``bias_ih`` and ``bias_hh`` (4H,)."""
    if not isinstance(params, Mapping):
        raise TypeError(
            f"params must be a dict with keys {', '.join(KEYS)} (see "
            f"init_params), got {type(params).__name__}"
        )
    missing = [k for k in KEYS if k not in params]
    extra = [k for k in params if k not in KEYS]
    if missing or extra:
        hint = (
            "; nn.LSTM's names end in _l0: drop that suffix"
            if any(str(k).endswith("_l0") for k in extra)
            else ""
        )
        raise ValueError(
            f"params must have exactly the keys {', '.join(KEYS)}: missing "
            f"{missing}, unexpected {extra}{hint}"
        )
    w_ih = np.asarray(params["weight_ih"])
    if w_ih.ndim != 2 or w_ih.shape[0] % 4 or 0 in w_ih.shape:
        raise ValueError(
            f"weight_ih must have shape (4H, D), the gates i, f, g, o stacked "
            f"by rows, with H, D >= 1; got {w_ih.shape}"
        )
    _check_dtype("weight_ih", w_ih)
    H, D = w_ih.shape[0] // 4, w_ih.shape[1]
    p = {"weight_ih": w_ih}
    for name, spec, shape in (
        ("weight_hh", "(4H, H)", (4 * H, H)),
        ("bias_ih", "(4H,)", (4 * H,)),
        ("bias_hh", "(4H,)", (4 * H,)),
    ):
        p[name] = checked_array(
            name,
            params[name],
            spec,
            shape,
            w_ih.dtype,
            ref="weight_ih is",
            hint=f" (H = {H}, from weight_ih)",
        )
    return p, D, H


def check_pair(
    name: str,
    pair: Sequence[ArrayLike] | None,
    names: tuple[str, str],
    B: int,
    H: int,
    dtype: DTypeLike,
) -> State:
    """Two (B, H) arrays of dtype ``dtype``; zeros when ``pair`` is None."""
    if pair is None:
        return np.zeros((B, H), dtype), np.zeros((B, H), dtype)
    if not isinstance(pair, tuple | list) or len(pair) != 2:
        error = ValueError if isinstance(pair, tuple | list) else TypeError
        raise error(
            f"{name} must be None or a pair ({', '.join(names)}) of (B, H) "
            f"arrays, got {type(pair).__name__}"
        )
    hint = f" (B = {B}, from x; H = {H}, from the parameters)"
    return tuple(
        checked_array(n, a, "(B, H)", (B, H), dtype, hint=hint)
        for n, a in zip(names, pair, strict=True)
    )


def check_cache(cache: Cache, forward: str) -> Cache:
    """``cache`` itself, once it is known to come from the function named ``forward``."""
    if not isinstance(cache, dict) or cache.get("made_by") != forward:
        raise ValueError(f"cache must be the cache returned by {forward}")
    return cache
