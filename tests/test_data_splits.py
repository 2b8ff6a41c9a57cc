"""Validation splits by whole groups (movies for IMDB): no shared group, about the
asked size, reproducible; and the overlap count that shows what a random split leaks."""

import random

import pytest

from lstm_course.data import group_overlap, group_split


def movies_like_imdb(n_movies=400, seed=0):
    """Movie ids with 1 to 30 reviews each, in a shuffled order, as in IMDB's train set."""
    rng = random.Random(seed)
    movies = [f"tt{m:07d}" for m in range(n_movies) for _ in range(rng.randint(1, 30))]
    rng.shuffle(movies)
    return movies


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_movie_is_on_both_sides_and_the_size_is_close_to_the_fraction(seed):
    movies = movies_like_imdb(seed=seed)
    train_idx, val_idx = group_split(movies, 0.1, seed=seed)
    assert not {movies[i] for i in train_idx} & {movies[i] for i in val_idx}
    assert group_overlap(movies, train_idx, val_idx) == 0
    assert sorted(train_idx + val_idx) == list(range(len(movies)))
    assert train_idx == sorted(train_idx) and val_idx == sorted(val_idx)
    # Off by at most half the largest movie (30 reviews).
    assert abs(len(val_idx) - round(0.1 * len(movies))) <= 15


def test_the_split_depends_on_the_seed_only():
    movies = movies_like_imdb()
    assert group_split(movies, 0.1, seed=3) == group_split(list(movies), 0.1, seed=3)
    assert group_split(movies, 0.1, seed=3) != group_split(movies, 0.1, seed=4)
    _, small = group_split(movies, 0.05)
    _, large = group_split(movies, 0.5)
    assert len(small) < len(large)


def test_a_random_split_shares_movies_and_the_overlap_counts_them():
    movies = ["a", "a", "b", "b", "c"]
    assert group_overlap(movies, [0, 2], [1, 3, 4]) == 2  # 1 (a) and 3 (b); c is new
    many = movies_like_imdb()
    order = list(range(len(many)))
    random.Random(0).shuffle(order)
    cut = len(many) // 10
    shared = group_overlap(many, order[cut:], order[:cut])
    assert shared > 0.8 * cut  # with up to 30 reviews a movie, most validation leaks


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="fraction must be a fraction strictly between 0 and 1"):
        group_split(["a", "b"], 1.0)
    with pytest.raises(TypeError, match="seed must be an int >= 0"):
        group_split(["a", "b"], 0.5, seed=0.5)
    with pytest.raises(ValueError, match="at least two groups"):
        group_split(["a", "a", "a"], 0.5)
    with pytest.raises(ValueError, match="empty training or validation side"):
        group_split(["a", "b", "c"], 0.01)
