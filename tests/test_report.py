import sys

import pytest

from lstm_course.book_tools.report import Bars, glue, meets_bar
from lstm_course.runtime import FAST_ENV


@pytest.fixture(autouse=True)
def full_mode(monkeypatch):
    monkeypatch.delenv(FAST_ENV, raising=False)


# --- glue -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0.93, 12, "text", [1, 2]])
def test_glue_returns_value_outside_notebook(value):
    assert glue("val_accuracy", value) == value


def test_glue_returns_same_object():
    value = {"a": 1}
    assert glue("a1_b2", value) is value


def test_glue_calls_myst_nb(monkeypatch):
    import myst_nb

    calls = []
    monkeypatch.setattr(myst_nb, "glue", lambda *a, **k: calls.append((a, k)))
    assert glue("best_loss", 0.25, display=True) == 0.25
    assert calls == [(("best_loss", 0.25), {"display": True})]


def test_glue_without_myst_nb(monkeypatch):
    monkeypatch.setitem(sys.modules, "myst_nb", None)  # makes the import fail
    assert glue("x", 3.5) == 3.5


@pytest.mark.parametrize("name", ["", "a-b", "a b", "a.b", "_"])
def test_glue_rejects_bad_names(name):
    with pytest.raises(ValueError, match="glue name"):
        glue(name, 1)


# --- meets_bar ------------------------------------------------------------------------


def test_meets_bar_pass_full_mode():
    verdict = meets_bar("val_accuracy", 0.95, full=0.9, fast=0.5)
    assert verdict.endswith("PASS")
    assert "val_accuracy = 0.95" in verdict
    assert ">= 0.9 " in verdict
    assert "\n" not in verdict


def test_meets_bar_uses_full_bar_in_full_mode():
    # 0.7 clears the fast bar but not the full one.
    with pytest.raises(AssertionError, match="FAIL"):
        meets_bar("val_accuracy", 0.7, full=0.9, fast=0.5)


def test_meets_bar_fast_mode(monkeypatch):
    monkeypatch.setenv(FAST_ENV, "1")
    verdict = meets_bar("val_accuracy", 0.7, full=0.9, fast=0.5)
    assert "PASS" in verdict
    assert ">= 0.5 " in verdict


def test_meets_bar_failure_message():
    with pytest.raises(AssertionError) as info:
        meets_bar("val_accuracy", 0.4321, full=0.9, fast=0.5)
    message = str(info.value)
    assert "0.4321" in message
    assert "0.9" in message
    assert "FAIL" in message
    assert "val_accuracy" in message


def test_meets_bar_exactly_at_bar_passes():
    assert "PASS" in meets_bar("x", 0.9, full=0.9, fast=0.5)
    assert "PASS" in meets_bar("x", 0.9, full=0.9, fast=0.5, higher_is_better=False)


def test_meets_bar_lower_is_better():
    verdict = meets_bar("val_mse", 0.01, full=0.05, fast=0.1, higher_is_better=False)
    assert "PASS" in verdict
    assert "<= 0.05" in verdict
    with pytest.raises(AssertionError, match="0.2"):
        meets_bar("val_mse", 0.2, full=0.05, fast=0.1, higher_is_better=False)


def test_meets_bar_lower_is_better_fast_mode(monkeypatch):
    monkeypatch.setenv(FAST_ENV, "1")
    assert "PASS" in meets_bar("val_mse", 0.08, full=0.05, fast=0.1, higher_is_better=False)
    with pytest.raises(AssertionError, match="<= 0.1"):
        meets_bar("val_mse", 0.12, full=0.05, fast=0.1, higher_is_better=False)


# --- Bars -----------------------------------------------------------------------------


def test_bars_table_lists_every_check():
    bars = Bars()
    assert bars.check("accuracy", 0.95, full=0.9, fast=0.5) == 0.95
    bars.check("loss", 0.2, full=0.3, fast=1.0, higher_is_better=False)
    lines = bars.table().splitlines()
    assert len(lines) == 3
    assert lines[1].split() == ["accuracy", "0.95", ">=", "0.9"]
    assert lines[2].split() == ["loss", "0.2", "<=", "0.3"]


def test_bars_check_fails_like_meets_bar():
    bars = Bars()
    with pytest.raises(AssertionError, match="accuracy = 0.7 .* FAIL"):
        bars.check("accuracy", 0.7, full=0.9, fast=0.5)
    assert bars.rows == []


def test_bars_uses_fast_bar_in_fast_mode(monkeypatch):
    monkeypatch.setenv(FAST_ENV, "1")
    bars = Bars()
    bars.check("accuracy", 0.7, full=0.9, fast=0.5)
    assert bars.table().splitlines()[1].split()[-1] == "0.5"


def test_bars_table_needs_a_check():
    with pytest.raises(ValueError, match="no bar was checked"):
        Bars().table()
