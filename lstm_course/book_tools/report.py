"""Putting measured numbers into the book's prose, and holding them to a bar.

``glue`` stores a value in the notebook's outputs under a name (MyST-NB's glue), so
the prose can say {glue:text}`name` instead of a number typed by hand. ``meets_bar``
is how a results cell asserts its mode's target, so a broken model fails CI. ``Bars``
asserts the same way where each result is computed (in a cell hidden from the book) and
shows a chapter's bars together, as one small table, instead of a PASS line per result.
"""

from __future__ import annotations

from lstm_course.runtime import pick

__all__ = [
    "Bars",
    "glue",
    "meets_bar",
]


def glue(name: str, value, display: bool = False):
    """Record ``value`` under ``name`` for the book, and return it.

    Uses ``myst_nb.glue`` when MyST-NB is installed (the book's build reads it); without
    it (a bare Colab) the value is simply returned, so notebooks run either way.
    """
    if not name or not name.replace("_", "").isalnum():
        raise ValueError(f"glue name must be letters, digits and underscores, got {name!r}")
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        # NumPy and torch scalars print as np.float64(...) or tensor(...), which the
        # book's {glue:text}`name:.2f` cannot format: store the plain Python number.
        value = value.item()
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        return value
    myst_glue(name, value, display=display)
    return value


def meets_bar(
    name: str, value: float, full: float, fast: float, higher_is_better: bool = True
) -> str:
    """Assert that ``value`` reaches this mode's bar; return a one-line verdict.

    Raises AssertionError, with the measured value and the bar, when it does not.
    """
    bar = pick(full, fast)
    ok = value >= bar if higher_is_better else value <= bar
    relation = ">=" if higher_is_better else "<="
    verdict = f"{name} = {value:.4g} ({relation} {bar:.4g} required): {'PASS' if ok else 'FAIL'}"
    if not ok:
        raise AssertionError(verdict)
    return verdict


class Bars:
    """A chapter's bars: each checked when its result exists, all shown in one table.

    ``check`` raises AssertionError exactly as ``meets_bar`` does, so a chapter stays as
    strict when its checks move out of the teaching cells; ``table`` lists what passed.
    """

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, str, float]] = []

    def check(
        self, name: str, value: float, full: float, fast: float, higher_is_better: bool = True
    ) -> float:
        """Assert ``value`` against this mode's bar (see ``meets_bar``); return ``value``."""
        meets_bar(name, value, full=full, fast=fast, higher_is_better=higher_is_better)
        relation = ">=" if higher_is_better else "<="
        self.rows.append((name, float(value), relation, float(pick(full, fast))))
        return value

    def table(self) -> str:
        """One line per bar checked so far: what, the measured value, the bar it met."""
        if not self.rows:
            raise ValueError("no bar was checked: call Bars.check first")
        width = max(len("check"), *(len(name) for name, *_ in self.rows))
        lines = [f"{'check':<{width}}  {'measured':>10}  bar"]
        for name, value, relation, bar in self.rows:
            lines.append(f"{name:<{width}}  {value:>10.4g}  {relation} {bar:.4g}")
        return "\n".join(lines)
