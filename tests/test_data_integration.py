"""Integration tests on the real datasets in the data home ($LSTM_COURSE_DATA).

Each test skips when its file is not in the data home, and loads with
``download=False``, so these tests never reach for the internet. The parsed IMDB cache
goes to a temporary folder, so the first load really parses the archive.
"""

from __future__ import annotations

import collections
import random
import re
import tarfile
import time

import pytest
import torch

from lstm_course.data import (
    data_home,
    group_overlap,
    group_split,
    load_imdb,
    load_imdb_movies,
    load_ptb,
    load_time_machine,
    load_tiny_shakespeare,
)
from lstm_course.data.registry import FILES

pytestmark = pytest.mark.integration


def require(*keys: str) -> None:
    """Skip unless at least one of ``FILES[key]`` is in the data home."""
    if not any(FILES[key].path.is_file() for key in keys):
        names = " or ".join(FILES[key].name for key in keys)
        pytest.skip(f"{names} not in the data home {data_home()} (set LSTM_COURSE_DATA)")


@pytest.fixture(scope="module")
def imdb_cache(tmp_path_factory):
    """One fresh parsed-cache folder shared by the IMDB tests of this module."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LSTM_COURSE_CACHE", str(tmp_path_factory.mktemp("parsed")))
        yield


@pytest.fixture(scope="module")
def imdb_train(imdb_cache):
    require("imdb_labelled", "imdb")
    start = time.perf_counter()
    texts, labels = load_imdb("train", download=False)
    first = time.perf_counter() - start
    start = time.perf_counter()
    again = load_imdb("train", download=False)
    second = time.perf_counter() - start
    print(f"\nload_imdb('train'): first {first:.2f} s (parse), second {second:.2f} s (cache)")
    return texts, labels, again, second


def test_imdb_train_counts_and_spot_check(imdb_train):
    texts, labels, _, _ = imdb_train
    assert len(texts) == len(labels) == 25_000
    assert sum(labels) == 12_500
    assert set(labels) == {0, 1}
    # train/pos/0_9.txt
    matches = [i for i, t in enumerate(texts) if t.startswith("Bromwell High is a cartoon comedy.")]
    assert len(matches) == 1
    assert labels[matches[0]] == 1
    # train/neg/0_3.txt
    assert any(t.startswith("Story of a man who has unnatural feelings for a pig.") for t in texts)


def test_second_imdb_load_is_fast_and_identical(imdb_train):
    texts, labels, again, second = imdb_train
    assert again == (texts, labels)
    assert second < 2.0, f"second load_imdb('train') took {second:.2f} s"


def test_imdb_test_counts(imdb_train):
    texts, labels = load_imdb("test", download=False)
    assert len(texts) == len(labels) == 25_000
    assert sum(labels) == 12_500
    assert any(t.startswith("Once again Mr. Costner has dragged out a movie") for t in texts)


# Capitalized words of 4+ letters: mostly names (actors, characters, places), which
# reviews of the same movie share and reviews of other movies rarely do.
_NAME = re.compile(r"\b[A-Z][a-z]{3,}\b")


def rare_names(texts: list[str]) -> list[set[str]]:
    """Each text's names that occur in 2 to 30 texts of the list (a movie has <= 30)."""
    names = [set(_NAME.findall(t)) for t in texts]
    df = collections.Counter(w for s in names for w in s)
    return [{w for w in s if 2 <= df[w] <= 30} for s in names]


def share_rate(rare: list[set[str]], pairs) -> float:
    pairs = list(pairs)
    return sum(bool(rare[i] & rare[j]) for i, j in pairs) / len(pairs)


def test_urls_line_i_is_the_movie_of_review_id_i():
    """The rule the loader relies on, checked on the archive's own files: in
    train/pos, reviews i and i + 1 whose urls lines name the same movie share a rare
    name far more often than those on a change of movie; reading line i + 1 for
    review i instead (off by one) erases the contrast."""
    require("imdb_labelled", "imdb")
    path = next(FILES[k].path for k in ("imdb_labelled", "imdb") if FILES[k].path.is_file())
    reviews, urls = {}, []
    with tarfile.open(path) as tar:
        for member in tar:
            if match := re.fullmatch(r"aclImdb/train/pos/(\d+)_\d+\.txt", member.name):
                reviews[int(match[1])] = tar.extractfile(member).read().decode("utf-8")
            elif member.name == "aclImdb/train/urls_pos.txt":
                urls = tar.extractfile(member).read().decode("utf-8").splitlines()
    assert sorted(reviews) == list(range(len(urls))) == list(range(12_500))
    rare = rare_names([reviews[i] for i in range(len(urls))])

    def rates(line_of):  # (same movie, change of movie) for consecutive ids
        pairs = [(i, i + 1) for i in range(len(urls) - 2)]  # i + 2 is still a line
        same = [(i, j) for i, j in pairs if urls[line_of(i)] == urls[line_of(j)]]
        change = [(i, j) for i, j in pairs if urls[line_of(i)] != urls[line_of(j)]]
        return share_rate(rare, same), share_rate(rare, change)

    same, change = rates(lambda i: i)
    assert same > 0.4 and change < 0.02, (same, change)  # measured: 0.52 and 0.005
    same, change = rates(lambda i: i + 1)
    assert same < change, (same, change)  # measured: 0.46 and 0.56


def test_imdb_movies_pair_reviews_of_the_same_movie(imdb_train):
    """Through the loader (path order, cache): the first two reviews of each movie
    share a rare name far more often than two reviews of different movies."""
    texts, _, _, _ = imdb_train
    movies = load_imdb_movies("train", download=False)
    assert len(movies) == 25_000 and len(set(movies)) == 3_456
    bromwell = next(i for i, t in enumerate(texts) if t.startswith("Bromwell High"))
    assert movies[bromwell] == "tt0453418"  # train/pos/0_9.txt, line 0 of urls_pos.txt
    by_movie = collections.defaultdict(list)
    for i, movie in enumerate(movies):
        by_movie[movie].append(i)
    assert max(map(len, by_movie.values())) == 30
    same = [(r[0], r[1]) for r in by_movie.values() if len(r) >= 2]
    rng = random.Random(0)
    other = [(rng.randrange(25_000), rng.randrange(25_000)) for _ in range(len(same))]
    other = [(i, j) for i, j in other if movies[i] != movies[j]]
    rare = rare_names(texts)
    assert share_rate(rare, same) > 0.25 > 0.01 > share_rate(rare, other)  # 0.36, 0.002


def test_imdb_test_movies_are_new_but_for_one(imdb_train):
    train = load_imdb_movies("train", download=False)
    test = load_imdb_movies("test", download=False)
    assert len(set(test)) == 3_581
    assert set(train) & set(test) == {"tt0406816"}  # 2 training and 23 test reviews
    texts, _ = load_imdb("test", download=False)
    costner = next(i for i, t in enumerate(texts) if t.startswith("Once again Mr. Costner"))
    assert test[costner] == "tt0406816"


def test_a_random_tenth_leaks_movies_and_the_movie_split_does_not(imdb_train):
    movies = load_imdb_movies("train", download=False)
    order = torch.randperm(25_000, generator=torch.Generator().manual_seed(0)).tolist()
    assert group_overlap(movies, order[2_500:], order[:2_500]) == 2_413  # 96.5%
    train_idx, val_idx = group_split(movies, 0.1, seed=0)
    assert group_overlap(movies, train_idx, val_idx) == 0
    assert len(val_idx) == 2_502


@pytest.mark.parametrize("split,count", [("train", 929_589), ("valid", 73_760), ("test", 82_430)])
def test_ptb_counts(split, count):
    require(f"ptb_{split}")
    tokens = load_ptb(split, download=False)
    assert len(tokens) == count
    if split == "train":
        assert len(set(tokens)) == 10_000
        assert tokens.count("<eos>") == 42_068


def test_tiny_shakespeare():
    require("tiny_shakespeare")
    text = load_tiny_shakespeare(download=False)
    assert len(text) == 1_115_394
    assert text.startswith("First Citizen:\nBefore we proceed any further, hear me speak.")
    assert len(set(text)) == 65


def test_time_machine():
    require("time_machine")
    text = load_time_machine(download=False)
    assert len(text) == 178_979
    assert text.isascii()
    assert text.startswith("The Time Machine, by H. G. Wells [1898]")
