"""lstm_course.checks: TypeError for a wrong type, ValueError for a wrong value, and a
message that names the argument, the requirement and what came."""

import math
import re

import numpy as np
import pytest

from lstm_course.checks import (
    check_bool,
    check_fraction,
    check_int,
    check_nonnegative,
    check_positive,
    check_probability,
)


def _raises(kind, message):
    return pytest.raises(kind, match="^" + re.escape(message) + "$")


# --- check_int --------------------------------------------------------------------------


@pytest.mark.parametrize("value", [1, 7, np.int64(3), np.int32(1)])
def test_check_int_returns_a_python_int(value):
    out = check_int("n", value)
    assert out == value and type(out) is int


def test_check_int_minimum_and_why():
    assert check_int("start", 0, minimum=0) == 0
    with _raises(ValueError, "n must be an int >= 1, got 0"):
        check_int("n", 0)
    with _raises(ValueError, "n_steps must be an int >= 2, got 1"):
        check_int("n_steps", 1, minimum=2)
    with _raises(ValueError, "max_size must be an int >= 3 (it counts the specials), got 2"):
        check_int("max_size", 2, 3, " (it counts the specials)")


@pytest.mark.parametrize(
    "value, shown",
    [
        (2.5, "2.5 (float)"),
        (2.0, "2.0 (float)"),
        ("3", "'3' (str)"),
        (None, "None (NoneType)"),
        (True, "True (bool)"),
        (np.float64(2), f"{np.float64(2)!r} (float64)"),
    ],
)
def test_check_int_rejects_other_types(value, shown):
    with _raises(TypeError, f"hidden_size must be an int >= 1, got {shown}"):
        check_int("hidden_size", value)


# --- check_bool -------------------------------------------------------------------------


def test_check_bool():
    assert check_bool("bias", True) is True and check_bool("bias", False) is False
    for value, shown in [
        (1, "1 (int)"),
        (0, "0 (int)"),
        (None, "None (NoneType)"),
        ("yes", "'yes' (str)"),
        (np.True_, f"{np.True_!r} ({type(np.True_).__name__})"),
    ]:
        with _raises(TypeError, f"bias must be True or False, got {shown}"):
            check_bool("bias", value)


# --- probabilities, fractions, positive numbers -----------------------------------------


def test_check_probability():
    assert check_probability("p", 0) == 0.0 and check_probability("p", 0.5) == 0.5
    assert type(check_probability("p", np.float32(0.25))) is float
    need = "p must be a probability in [0, 1) (1 would drop everything)"
    for bad in (1, 1.0, -0.1, 1.5, math.nan):
        with _raises(ValueError, f"{need}, got {'nan' if bad != bad else repr(bad)}"):
            check_probability("p", bad)
    for bad, shown in [(True, "True (bool)"), ("0.5", "'0.5' (str)"), (None, "None (NoneType)")]:
        with _raises(TypeError, f"{need}, got {shown}"):
            check_probability("p", bad)


def test_check_probability_allow_one():
    assert check_probability("dropout", 1, allow_one=True) == 1.0
    with _raises(ValueError, "dropout must be a probability in [0, 1], got 1.5"):
        check_probability("dropout", 1.5, allow_one=True)
    with _raises(TypeError, "dropout must be a probability in [0, 1], got False (bool)"):
        check_probability("dropout", False, allow_one=True)


def test_check_fraction():
    assert check_fraction("share", 0.2) == 0.2
    for bad in (0, 1, 0.0, 1.0, -0.5, 2):
        with _raises(ValueError, f"share must be a fraction strictly between 0 and 1, got {bad!r}"):
            check_fraction("share", bad)
    with pytest.raises(TypeError, match="share must be a fraction"):
        check_fraction("share", "0.2")


def test_check_positive():
    assert check_positive("lr", 1e-3) == 1e-3 and check_positive("clip", 5) == 5.0
    for bad in (0, -1.0, math.inf):
        with _raises(ValueError, f"lr must be a finite number > 0, got {bad!r}"):
            check_positive("lr", bad)
    with _raises(ValueError, "lr must be a finite number > 0, got nan"):
        check_positive("lr", math.nan)
    with _raises(TypeError, "lr must be a finite number > 0, got '0.1' (str)"):
        check_positive("lr", "0.1")
    with _raises(ValueError, "eps must be a finite number > 0 (keeps it finite), got 0"):
        check_positive("eps", 0, " (keeps it finite)")


def test_check_nonnegative():
    assert check_nonnegative("temperature", 0) == 0.0
    assert check_nonnegative("temperature", 0.7) == 0.7
    assert isinstance(check_nonnegative("temperature", 2), float)
    for bad in (-1, -1e-9, math.inf):
        with _raises(ValueError, f"temperature must be a finite number >= 0, got {bad!r}"):
            check_nonnegative("temperature", bad)
    with _raises(ValueError, "temperature must be a finite number >= 0, got nan"):
        check_nonnegative("temperature", math.nan)
    for bad, shown in (("0.5", "'0.5' (str)"), (True, "True (bool)"), (None, "None (NoneType)")):
        with _raises(TypeError, f"temperature must be a finite number >= 0, got {shown}"):
            check_nonnegative("temperature", bad)
    with _raises(ValueError, "t must be a finite number >= 0 (0 is greedy), got -2"):
        check_nonnegative("t", -2, " (0 is greedy)")
