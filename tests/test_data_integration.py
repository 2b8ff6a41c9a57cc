"""Integration tests on the real datasets in the data home ($LSTM_COURSE_DATA).

Each test skips when its file is not in the data home, and loads with
``download=False``, so these tests never reach for the internet. The parsed IMDB cache
goes to a temporary folder, so the first load really parses the archive.
"""

from __future__ import annotations

import time

import pytest

from lstm_course.data import (
    data_home,
    load_imdb,
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
