"""Checking hand-derived gradients against finite differences.

A backward pass written by hand is checked by nudging each input entry up and down
and watching the loss move (chapters ``03_lstm_backward`` and ``04_numpy_lstm``):

    numerical_gradient(f, x)        dL/dx by central differences, one entry at a time
    relative_error(a, b)            one number: how far two gradients are apart
    check_gradients(f, arrays, analytic)   both, for a dict of named arrays at once
    errors_below(errors, bar, what)        assert them below a bar, say so in one sentence

Central differences, (f(x + eps) - f(x - eps)) / (2 eps), have a truncation error of
order eps^2 and a rounding error of order (machine epsilon) |f| / eps. In float64
(machine epsilon 2.2e-16) eps = 1e-6 balances the two at about 1e-10 relative; in
float32 (1.2e-7) the two balance only near eps = 1e-2 to 1e-3, and that step has to be
searched for: chapter ``03_lstm_backward`` measures about 1e-5 at the best step and noise at small ones,
tens of times coarser than float64 and useless at an untuned step. So everything here
requires float64.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Mapping

import numpy as np
from numpy.typing import ArrayLike, NDArray

from lstm_course.checks import check_int, check_positive

__all__ = [
    "numerical_gradient",
    "relative_error",
    "check_gradients",
    "errors_below",
]

_TINY = np.finfo(np.float64).tiny


def _check_float64(name: str, x) -> None:
    if not isinstance(x, np.ndarray):
        raise TypeError(
            f"{name} must be a NumPy array (it is perturbed in place), got "
            f"{type(x).__name__}: pass np.asarray(..., dtype=np.float64)"
        )
    if x.dtype != np.float64:
        raise ValueError(
            f"{name} has dtype {x.dtype}, but finite differences need float64 "
            f"(in float32 rounding swamps the difference): convert it and the "
            f"function's other inputs with .astype(np.float64)"
        )
    if not x.flags.writeable:
        raise ValueError(
            f"{name} is read-only, but it must be perturbed in place: pass a "
            f"writeable array (e.g. {name}.copy(), then make f use the copy)"
        )


def _scalar(value, where: str) -> float:
    value = np.asarray(value)
    if value.size != 1:
        raise ValueError(
            f"f must return a scalar loss, but returned shape {value.shape} "
            f"{where}: sum or average it to one number"
        )
    value = float(value.reshape(()))
    if not np.isfinite(value):
        raise ValueError(
            f"f returned {value} {where}: the loss must be finite there "
            f"(try a smaller eps or inputs away from a singularity)"
        )
    return value


def numerical_gradient(
    f: Callable[[], ArrayLike], x: NDArray[np.float64], eps: float = 1e-6
) -> NDArray[np.float64]:
    """Gradient of the scalar ``f()`` with respect to ``x``, by central differences.

    Each entry of ``x`` is set to ``x_j + eps`` and to ``x_j - eps`` in place, ``f`` is
    called each time, and the entry is restored to its exact original value (also when
    ``f`` raises). So ``f`` takes no arguments and must read this very array ``x``
    (through a closure or a dict holding it), not a copy of it.

    Args:
        f: function of no arguments returning a scalar (a float or a size-1 array).
        x: float64 array of any shape, modified during the call and restored after.
        eps: the step; 1e-6 suits float64 losses of order 1.

    Returns:
        float64 array with the shape of ``x``: entry j is
        ``(f(x + eps e_j) - f(x - eps e_j)) / (2 eps)``. Costs 2 ``x.size`` calls of f.
    """
    _check_float64("x", x)
    eps = check_positive("eps", eps)
    grad = np.empty(x.shape, dtype=np.float64)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        try:
            x[idx] = old + eps
            up = _scalar(f(), f"at x{list(idx)} + eps")
            x[idx] = old - eps
            down = _scalar(f(), f"at x{list(idx)} - eps")
        finally:
            # Assigning the saved value (not old + eps - eps) restores x bit for bit.
            x[idx] = old
        grad[idx] = (up - down) / (2 * eps)
    return grad


def relative_error(a: ArrayLike, b: ArrayLike) -> float:
    """How far apart two arrays are, relative to their size, as one number in [0, 1].

    ``max_j |a_j - b_j| / max_j (|a_j| + |b_j|)``: the largest discrepancy measured
    against the largest entry, not entry by entry, so entries that are nearly zero (whose
    finite-difference estimate is pure rounding noise) cannot blow it up. It is 0 when
    the arrays are equal (including both zero), 1 when one is zero and the other is not
    (or when every entry has the opposite sign), and unchanged when both are scaled by the same
    factor. A correct float64 gradient checked with ``numerical_gradient`` is typically
    below 1e-9; a wrong one is typically above 1e-3.

    Args:
        a, b: arrays (or numbers) of the same shape.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(
            f"cannot compare arrays of shapes {a.shape} and {b.shape}: pass "
            f"gradients of the same array"
        )
    if a.size == 0:
        return 0.0
    # The denominator is floored at the smallest normal float so that two zero arrays
    # give 0 / tiny = 0 instead of 0 / 0.
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a) + np.abs(b)), _TINY))


def check_gradients(
    loss_fn: Callable[[], ArrayLike],
    arrays: Mapping[str, NDArray[np.float64]],
    analytic: Mapping[str, ArrayLike],
    eps: float = 1e-6,
) -> dict[str, float]:
    """Compare analytic gradients with finite differences, for several named arrays.

    Args:
        loss_fn: function of no arguments returning the scalar loss, computed from the
            arrays in ``arrays`` themselves (they are perturbed in place and restored).
        arrays: name -> float64 input array, e.g. ``{**params, "x": x}``.
        analytic: name -> the gradient of the loss with respect to that array, as the
            backward pass being checked computed it; the same names and shapes.
        eps: the finite-difference step (see ``numerical_gradient``).

    Returns:
        dict name -> ``relative_error(analytic, numerical)``, in the order of ``arrays``.
    """
    if set(arrays) != set(analytic):
        raise ValueError(
            f"arrays and analytic must have the same names: only in arrays "
            f"{sorted(set(arrays) - set(analytic))}, only in analytic "
            f"{sorted(set(analytic) - set(arrays))}"
        )
    errors = {}
    for name, x in arrays.items():
        _check_float64(f"arrays[{name!r}]", x)
        grad = np.asarray(analytic[name])
        if grad.shape != x.shape:
            raise ValueError(
                f"analytic[{name!r}] has shape {grad.shape} but arrays[{name!r}] "
                f"has shape {x.shape}: a gradient has its array's shape"
            )
        errors[name] = relative_error(grad, numerical_gradient(loss_fn, x, eps))
    return errors


def _shown(bar: float) -> str:
    """The bar as a reader writes it: "1e-07" -> "1e-7", and not rounded (2.5e-7)."""
    return re.sub(r"e([+-])0+(\d)", r"e\1\2", f"{bar:g}")


def errors_below(
    errors: Mapping[str, float], bar: float = 1e-7, what: str = "gradients", width: int = 88
) -> str:
    """Assert that every relative error is below ``bar``; say so in one sentence.

    A check of many arrays reads as one sentence, not one line per array:
    ``"step against finite differences: all 7 relative errors below 1e-7 (weight_ih, ...)"``
    wrapped to ``width`` columns (a name is never split across lines). It shows the bar, not the errors' digits, which vary from machine to machine, so the text
    is the same wherever the check holds and nbval can compare it.

    Args:
        errors: name -> relative error, e.g. what ``check_gradients`` returns.
        bar: every error must be strictly below it (a NaN never is).
        what: what was compared with what, the sentence's subject.
        width: the longest line, in characters.

    Raises:
        AssertionError: when an error is not below ``bar``; the message lists every
            name with its error and marks those that miss.
    """
    if not errors:
        raise ValueError("errors is empty: pass the dict returned by check_gradients")
    bar = check_positive("bar", bar)
    width = check_int("width", width, minimum=20)
    if not isinstance(what, str) or not what.strip():
        raise TypeError(f"what must be a non-empty str saying what was compared, got {what!r}")
    shown, names = _shown(bar), [str(name) for name in errors]
    missed = [str(name) for name, err in errors.items() if not err < bar]
    if missed:
        name_width = max(map(len, names))
        rows = [
            f"  {name:<{name_width}}  {float(err):9.2e}" + ("  NOT below" if name in missed else "")
            for name, err in zip(names, errors.values(), strict=True)
        ]
        raise AssertionError(
            f"{what}: {len(missed)} of {len(names)} relative errors not below {shown}:\n"
            + "\n".join(rows)
        )
    n = len(names)
    count = "relative error" if n == 1 else f"{'both' if n == 2 else f'all {n}'} relative errors"
    # Spaces inside a name become no-break spaces for the wrapping, then spaces again.
    listed = ", ".join(name.replace(" ", "\u00a0") for name in names)
    sentence = f"{what}: {count} below {shown} ({listed})"
    lines = textwrap.wrap(
        sentence,
        width=width,
        subsequent_indent="  ",
        break_long_words=False,
        break_on_hyphens=False,
    )
    return "\n".join(lines).replace("\u00a0", " ")
