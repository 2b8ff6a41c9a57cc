"""Telling arms apart over seeds: the spread of each arm's scores, and whether two separate.

A study trains every arm (a variant, a recipe) from several seeds and scores each run
once, so an arm has a few scores, one per seed. ``summarize`` gives per arm the mean,
the spread and whether its seeds all lie on one side of a reference's;
``compare_pairs`` does the same for chosen pairs, with the twice-the-spread test;
``chance_separated`` is how often two arms that do not differ at all separate anyway.
Chapter ``11_lstm_variants`` reads them through ``variant_study``.

    summarize({"NP": [4.81, 4.79, 4.80], "CIFG": [4.85, 4.84, 4.86]}, reference="NP")
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence

from lstm_course.checks import check_int

__all__ = [
    "chance_separated",
    "summarize",
    "compare_pairs",
]


def chance_separated(n: int, m: int) -> float:
    """The chance that n scores of one variant and m of another all fall on one side of
    each other when the two do not differ at all (all n + m orderings equally likely):
    2 / C(n + m, n). For 3 and 3 seeds it is 0.1, for 4 and 4 about 0.03."""
    n = check_int("n", n, why=" (a number of seeds)")
    m = check_int("m", m, why=" (a number of seeds)")
    return min(1.0, 2 / math.comb(n + m, n))


def summarize(
    scores: Mapping[str, Sequence[float]], reference: str, higher_is_better: bool = False
) -> dict[str, dict]:
    """Per variant: mean, standard deviation (n - 1), min, max and count ``n`` of its
    scores (one per seed); ``diff``, its mean minus the reference's; ``separated``,
    whether every seed of one lies on the same side of every seed of the other (the
    ranges do not overlap); and ``better``, separated on the good side of the reference.

    Two variants that do not differ at all are still separated with the chance
    :func:`chance_separated` gives, so separated is evidence, not proof; overlapping
    ranges mean these seeds cannot tell the two apart.
    """
    if reference not in scores:
        raise ValueError(f"reference {reference!r} is not among the variants {list(scores)}")
    for name, values in scores.items():
        if len(values) < 2:
            raise ValueError(f"{name} has {len(values)} score(s): a spread needs >= 2 seeds")
    ref = list(scores[reference])
    table = {}
    for name, values in scores.items():
        values = list(values)
        above, below = min(values) > max(ref), max(values) < min(ref)
        separated = (above or below) and name != reference
        table[name] = {
            "mean": statistics.fmean(values),
            "std": statistics.stdev(values),
            "min": min(values),
            "max": max(values),
            "n": len(values),
            "diff": statistics.fmean(values) - statistics.fmean(ref),
            "separated": separated,
            "better": separated and above == higher_is_better,
        }
    return table


def compare_pairs(
    scores: Mapping[str, Sequence[float]],
    pairs: Sequence[tuple[str, str]],
    higher_is_better: bool = False,
) -> list[dict]:
    """One row per ``(a, b)`` in ``pairs``: ``a`` and ``b``, ``diff`` (mean of a minus
    mean of b), ``std_a`` and ``std_b`` (n - 1), ``separated`` and ``better`` as in
    :func:`summarize` (a against the reference b), and ``twice_std``: whether
    ``|diff|`` exceeds twice the larger of the two standard deviations, the second test
    chapter ``11_lstm_variants`` asks of a separation."""
    rows = []
    for a, b in pairs:
        for name in (a, b):
            if name not in scores:
                raise ValueError(f"{name!r} is not among the scored arms {list(scores)}")
        row = summarize({a: scores[a], b: scores[b]}, b, higher_is_better)[a]
        std_b = statistics.stdev(scores[b])
        rows.append(
            {
                "a": a,
                "b": b,
                "diff": row["diff"],
                "std_a": row["std"],
                "std_b": std_b,
                "separated": row["separated"],
                "better": row["better"],
                "twice_std": abs(row["diff"]) > 2 * max(row["std"], std_b),
            }
        )
    return rows
