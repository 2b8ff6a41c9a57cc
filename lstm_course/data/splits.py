"""Validation splits that hold out whole groups: movies for IMDB reviews (documents or
plays elsewhere), so that validation is as new to the model as the test set is.

A random tenth of IMDB's training reviews puts about 97% of them on a movie that also
has reviews in training (a movie has up to 30), while the test set's movies are new:
such a validation set flatters every model. :func:`group_split` holds out whole groups,
:func:`group_overlap` counts how many held-out items share a group with training.
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Sequence

from lstm_course.checks import check_fraction, check_int

__all__ = [
    "group_split",
    "group_overlap",
]


def group_split(
    groups: Sequence[Hashable], fraction: float = 0.1, *, seed: int = 0
) -> tuple[list[int], list[int]]:
    """Split items ``0..N-1`` into training and validation by whole groups.

    The distinct groups are shuffled with ``seed`` (from their sorted order, so the
    same data and seed always give the same split) and held out in that order while
    each one brings the validation count closer to ``round(fraction * N)``; it ends off
    by at most half the largest group (15 reviews for IMDB, whose movies have at most
    30 each).

    Args:
        groups: the group of each item, (N,) (``load_imdb_movies("train")``).
        fraction: the share of items to hold out, strictly between 0 and 1.
        seed: an int >= 0.

    Returns:
        ``(train_idx, val_idx)``: ascending item indices; no group has items in both,
        and together they are ``0..N-1``.

    Raises:
        TypeError: ``fraction`` is not a number or ``seed`` not an int.
        ValueError: ``fraction`` outside (0, 1), fewer than two groups, or a split in
            which one side would be empty.
    """
    fraction = check_fraction("fraction", fraction)
    seed = check_int("seed", seed, minimum=0)
    members: dict[Hashable, list[int]] = {}
    for i, group in enumerate(groups):
        members.setdefault(group, []).append(i)
    if len(members) < 2:
        raise ValueError(f"need at least two groups to hold one out, got {len(members)}")
    order = sorted(members, key=repr)  # repr: any hashable sorts, mixed types included
    random.Random(seed).shuffle(order)
    target = round(fraction * len(groups))
    held: list[int] = []
    for group in order:
        size = len(members[group])
        if len(held) >= target:
            break
        # Take the group unless stopping short leaves us closer to the target.
        if len(held) + size - target > target - len(held) and held:
            break
        held += members[group]
    if not held or len(held) == len(groups):
        raise ValueError(
            f"fraction={fraction} of {len(groups)} items gives an empty training or "
            "validation side: use more items or another fraction"
        )
    held_set = set(held)
    return [i for i in range(len(groups)) if i not in held_set], sorted(held)


def group_overlap(groups: Sequence[Hashable], train_idx, val_idx) -> int:
    """How many of the items ``val_idx`` have a group that also has an item in
    ``train_idx`` (0 for :func:`group_split`; about 97% of a random IMDB tenth).

    ``groups`` is (N,), the indices are ints into it (any iterables of them).
    """
    seen = {groups[i] for i in train_idx}
    return sum(groups[i] in seen for i in val_idx)
