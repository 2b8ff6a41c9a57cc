"""Datasets of the course: where they live, how they are fetched, how to load them, and
how text becomes batches (``text``: tokenizer, ``Vocab``; ``batching``: padding, packing,
BPTT batches).

Quick start::

    from lstm_course.data import group_split, load_co2, load_imdb, load_imdb_movies, load_ptb
    texts, labels = load_imdb("train")
    movies = load_imdb_movies("train")          # the IMDb movie of each review
    train_idx, val_idx = group_split(movies, 0.1)  # validation holds out whole movies
    tokens = load_ptb("train")
    months, co2 = load_co2()   # packaged with the course, no download

Files live in the *data home* (``$LSTM_COURSE_DATA``, else ``~/.cache/lstm_course/data``)
and are verified against published checksums on every load. Missing files are
downloaded there (by pooch); without internet, the error says which file to put where.
Archives are opened through tarfile's ``data`` extraction filter.
"""

from lstm_course.data.archive import extract_archive
from lstm_course.data.batching import (
    BucketBatchSampler,
    batchify,
    bptt_batches,
    last_valid_step,
    pack,
    pad_batch,
    unpack,
)
from lstm_course.data.checksum import verify_checksum
from lstm_course.data.co2 import load_co2
from lstm_course.data.datasets import load_imdb, load_ptb, load_time_machine, load_tiny_shakespeare
from lstm_course.data.downloader import download
from lstm_course.data.errors import DatasetError
from lstm_course.data.home import cache_dir, data_home
from lstm_course.data.imdb import load_imdb_movies
from lstm_course.data.splits import group_overlap, group_split
from lstm_course.data.text import Vocab, tokenize

__all__ = [
    "BucketBatchSampler",
    "DatasetError",
    "Vocab",
    "batchify",
    "bptt_batches",
    "last_valid_step",
    "pack",
    "pad_batch",
    "tokenize",
    "unpack",
    "cache_dir",
    "data_home",
    "download",
    "extract_archive",
    "group_overlap",
    "group_split",
    "load_co2",
    "load_imdb",
    "load_imdb_movies",
    "load_ptb",
    "load_time_machine",
    "load_tiny_shakespeare",
    "verify_checksum",
]
