"""Argument checks shared by every public function of the course, written once.

A wrong *type* raises ``TypeError``, a right type with a wrong *value* raises
``ValueError``, as Python's own functions do. Each message names the argument, says
what it must be and shows what it got, so the caller knows what to change::

    >>> check_int("hidden_size", 0)
    Traceback (most recent call last):
    ValueError: hidden_size must be an int >= 1, got 0
    >>> check_int("hidden_size", 2.5)
    Traceback (most recent call last):
    TypeError: hidden_size must be an int >= 1, got 2.5 (float)

``bool`` is not accepted where a number is expected (``True`` is an ``int`` to Python,
but ``num_layers=True`` is a mistake), and a number is not accepted where a ``bool`` is.
"""

from __future__ import annotations

import math
import numbers

__all__ = [
    "check_bool",
    "check_fraction",
    "check_int",
    "check_nonnegative",
    "check_positive",
    "check_probability",
]


def _got(value) -> str:
    return f"{value!r} ({type(value).__name__})"


def check_int(name: str, value, minimum: int = 1, why: str = "") -> int:
    """``value`` as an ``int``; it must be an integer (not a bool) and ``>= minimum``.

    ``why`` is appended to the requirement in the message, e.g. ``" (one per layer)"``.
    """
    need = f"{name} must be an int >= {minimum}{why}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{need}, got {_got(value)}")
    if value < minimum:
        raise ValueError(f"{need}, got {value!r}")
    return int(value)


def check_bool(name: str, value) -> bool:
    """``value`` itself; it must be ``True`` or ``False`` (not 0/1 or None)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {_got(value)}")
    return value


def _check_real(name: str, value, need: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{need}, got {_got(value)}")
    if math.isnan(value):
        raise ValueError(f"{need}, got nan")
    return float(value)


def check_probability(name: str, value, *, allow_one: bool = False) -> float:
    """``value`` as a float in [0, 1): a dropout probability (1 would drop everything).

    ``allow_one`` accepts 1 too, as ``torch.nn.LSTM``'s ``dropout`` does (its drop-ins
    must take what it takes).
    """
    if allow_one:
        need = f"{name} must be a probability in [0, 1]"
    else:
        need = f"{name} must be a probability in [0, 1) (1 would drop everything)"
    p = _check_real(name, value, need)
    if not 0 <= p <= 1 or (p == 1 and not allow_one):
        raise ValueError(f"{need}, got {value!r}")
    return p


def check_fraction(name: str, value) -> float:
    """``value`` as a float strictly between 0 and 1 (a share of a split, say)."""
    need = f"{name} must be a fraction strictly between 0 and 1"
    p = _check_real(name, value, need)
    if not 0 < p < 1:
        raise ValueError(f"{need}, got {value!r}")
    return p


def check_positive(name: str, value, why: str = "") -> float:
    """``value`` as a finite float > 0 (a learning rate, a clipping norm, a tolerance).

    ``why`` is appended to the requirement in the message, as in :func:`check_int`.
    """
    return _check_finite(name, value, why, allow_zero=False)


def check_nonnegative(name: str, value, why: str = "") -> float:
    """``value`` as a finite float >= 0 (a sampling temperature, where 0 means greedy);
    ``why`` as in :func:`check_positive`."""
    return _check_finite(name, value, why, allow_zero=True)


def _check_finite(name: str, value, why: str, *, allow_zero: bool) -> float:
    need = f"{name} must be a finite number {'>=' if allow_zero else '>'} 0{why}"
    x = _check_real(name, value, need)
    if x == math.inf or x < 0 or (x == 0 and not allow_zero):
        raise ValueError(f"{need}, got {value!r}")
    return x
