"""IMDB reviews: read them straight out of the tar, and cache the parsed result.

Besides each review's text and label, the archive names the IMDb movie it was written
about: ``aclImdb/<split>/urls_<pos|neg>.txt`` holds one URL per review, and "a review
with unique id 200 will have its URL on line 200" (the dataset's README; a review file is
``<id>_<rating>.txt``, ids 0, 1, ... counted from line 0). :func:`load_imdb_movies` gives
each review's movie as its IMDb title id (``"tt0453418"``), in :func:`read_imdb`'s order,
so that a validation split can hold out whole movies (``lstm_course.data.splits``).

Reading 50,000 small members out of the 28 MB archive takes a second or two; the
parsed cache (one JSON file per split) brings a repeat load down to a fraction of a
second. The cache is keyed by the archive's *published checksum*, and the archive is
verified against it before the cache is looked at, so a corrupt or swapped archive
fails verification and can never read (or write) a stale cache.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import tarfile
import tempfile
import warnings
from pathlib import Path
from typing import BinaryIO, NamedTuple

from lstm_course.checks import check_bool
from lstm_course.data.archive import archive_errors, safe_tar_members
from lstm_course.data.checksum import parse_checksum
from lstm_course.data.errors import DatasetError
from lstm_course.data.home import CACHE_ENV, cache_dir
from lstm_course.data.registry import FILES, RemoteFile, fetch, missing_message

__all__ = [
    "SPLITS",
    "LABELS",
    "ARCHIVE_KEYS",
    "CACHE_VERSION",
    "Reviews",
    "read_imdb",
    "load_imdb_movies",
    "movie_id",
    "parse_archive",
]

SPLITS = ("train", "test")
LABELS = {"neg": 0, "pos": 1}
# Preference order: the smaller verified copy first, then the official archive.
ARCHIVE_KEYS = ("imdb_labelled", "imdb")
# Bump when the parsed format or the parsing rules change, to ignore old caches.
# 2: the cache holds each review's movie too.
CACHE_VERSION = 2
_DRAIN_CHUNK = 1 << 20  # bytes per read when draining the gzip stream to its trailer
# Only labelled reviews; skips train/unsup, README, imdb.vocab, *.feat.
_REVIEW = re.compile(r"^aclImdb/(train|test)/(pos|neg)/[^/]+\.txt$")
_REVIEW_ID = re.compile(r"/(\d+)_\d+\.txt$")  # <id>_<rating>.txt
_URLS = re.compile(r"^aclImdb/(train|test)/urls_(pos|neg)\.txt$")
_TITLE = re.compile(r"^https?://(?:www\.)?imdb\.com/title/(tt\d+)/")

Split = tuple[list[str], list[int]]


class Reviews(NamedTuple):
    """One split as parsed: ``texts``, ``labels`` (0/1) and ``movies`` (IMDb title ids),
    aligned, in member-path order. ``movies`` is ``None`` when the archive's
    ``urls_*.txt`` do not give one title URL per review id (never for the real archives).
    """

    texts: list[str]
    labels: list[int]
    movies: list[str] | None


def read_imdb(split: str, *, download: bool = True, progress: bool = True) -> Split:
    """``(texts, labels)`` of one split. Internal to ``data``: the entry point is
    :func:`lstm_course.data.load_imdb`, which documents the arguments and errors."""
    texts, labels, _ = _load(split, download, progress)
    return texts, labels


def load_imdb_movies(split: str, *, download: bool = True, progress: bool = True) -> list[str]:
    """The IMDb movie of each review of ``load_imdb(split)``, in the same order.

    ``movies[i]`` is the title id (``"tt0453418"``) in the URL that the archive's
    ``urls_<pos|neg>.txt`` gives on the line numbered by review ``i``'s file id. The
    dataset's README says the test set's movies are disjoint from the training set's;
    all but one are (tt0406816 has 2 training and 23 test reviews). Within the training
    set a movie has 1 to 30 reviews, so a validation split that is to be like the test
    set holds out whole movies (:func:`lstm_course.data.splits.group_split`).

    Args:
        split, download, progress: as for :func:`lstm_course.data.load_imdb`.

    Returns:
        A list of 25,000 title ids for the real data (3,456 distinct movies in train,
        3,581 in test).

    Raises:
        ValueError, TypeError: as for ``load_imdb``.
        DatasetError: as for ``load_imdb``, or the archive's ``urls_*.txt`` do not give
            one IMDb title URL per review id.
    """
    movies = _load(split, download, progress).movies
    if movies is None:
        raise DatasetError(
            f"The IMDB archive's aclImdb/{split}/urls_pos.txt and urls_neg.txt do not give "
            "one IMDb title URL per review id (<id>_<rating>.txt), so the movies of its "
            "reviews are unknown. The course's aclImdb_labelled.tar.gz and the official "
            "aclImdb_v1.tar.gz both have them."
        )
    return movies


def movie_id(url: str) -> str | None:
    """The IMDb title id in a review URL (``http://www.imdb.com/title/tt0453418/usercomments``
    -> ``"tt0453418"``), or ``None`` if ``url`` is not an IMDb title URL."""
    match = _TITLE.match(url.strip())
    return match[1] if match else None


def _load(split: str, download: bool, progress: bool) -> Reviews:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(map(repr, SPLITS))}, got {split!r}")
    check_bool("download", download)
    check_bool("progress", progress)
    key, archive = _verified_archive(download, progress)
    entry = FILES[key]
    cached = _read_cache(_cache_file(entry, split))
    if cached is not None:
        return cached
    parsed = parse_archive(archive)
    for name, data in parsed.items():
        _write_cache(_cache_file(entry, name), data)
    return parsed[split]


def _verified_archive(download: bool, progress: bool) -> tuple[str, Path]:
    for key in ARCHIVE_KEYS:
        if FILES[key].path.is_file():
            return key, fetch(key)  # verifies, never writes
    if download and FILES["imdb"].url:
        return "imdb", fetch("imdb", progress=progress)
    raise DatasetError(missing_message([FILES[k] for k in ARCHIVE_KEYS]))


def parse_archive(path: str | os.PathLike) -> dict[str, Reviews]:
    """Read every labelled review of an aclImdb tar archive, and its movie, without
    extracting it.

    Members are checked with the same :class:`~lstm_course.data.archive.MemberGuard`
    as :func:`~lstm_course.data.archive.extract_archive` uses.

    Returns:
        ``{"train": Reviews, "test": Reviews}``; within a split, reviews are sorted by
        member path (all ``neg`` then all ``pos``), labels are 0 for ``neg`` and 1 for
        ``pos``, and ``movies`` (see :class:`Reviews`) come from ``urls_<pos|neg>.txt``.

    Raises:
        DatasetError: truncated/corrupt archive, unsafe member, a review that is not
            UTF-8, or a split without any review.
    """
    path = Path(path)
    found: dict[str, list[tuple[str, int, str]]] = {split: [] for split in SPLITS}
    urls: dict[tuple[str, str], list[str]] = {}
    # Stream mode ("r|"): one sequential pass, no seeking back through the gzip stream.
    with (
        archive_errors(path),
        _decompressed(path) as stream,
        tarfile.open(fileobj=stream, mode="r|") as tar,
    ):
        for name, member in safe_tar_members(tar, path):
            if not member.isreg():
                continue
            if match := _URLS.match(name):
                data = tar.extractfile(member).read()
                urls[match[1], match[2]] = data.decode("utf-8", "replace").splitlines()
            elif match := _REVIEW.match(name):
                data = tar.extractfile(member).read()
                try:
                    text = data.decode("utf-8")
                except UnicodeDecodeError as err:
                    raise DatasetError(
                        f"{path}: member {name!r} is not UTF-8 text ({err})."
                    ) from err
                found[match[1]].append((name, LABELS[match[2]], text))
        # tarfile stops at the end-of-archive marker (or quietly at a cut after the last
        # member); draining the stream makes gzip check its trailer (CRC and length).
        while stream.read(_DRAIN_CHUNK):
            pass
    result = {}
    for split, reviews in found.items():
        if not reviews:
            raise DatasetError(
                f"{path} has no reviews under aclImdb/{split}/{{pos,neg}}/: "
                "it is not the IMDB archive this course expects."
            )
        reviews.sort()
        result[split] = Reviews(
            [text for _, _, text in reviews],
            [label for _, label, _ in reviews],
            _movies(split, [name for name, _, _ in reviews], urls),
        )
    return result


def _movies(split: str, names: list[str], urls: dict[tuple[str, str], list[str]]):
    """The title id of each review ``names[i]``: line ``<id>`` of its folder's urls file;
    ``None`` unless each folder's ids are exactly 0..n-1 and each line is a title URL."""
    by_folder: dict[str, list[int]] = {"neg": [], "pos": []}
    ids = []
    for name in names:
        match = _REVIEW_ID.search(name)
        if match is None:
            return None
        folder = name.split("/")[2]
        ids.append((folder, int(match[1])))
        by_folder[folder].append(int(match[1]))
    titles = {}
    for folder, seen in by_folder.items():
        lines = urls.get((split, folder), [])
        if sorted(seen) != list(range(len(lines))):
            return None
        titles[folder] = [movie_id(line) for line in lines]
    movies = [titles[folder][i] for folder, i in ids]
    return None if None in movies else movies


def _decompressed(path: Path) -> BinaryIO:
    """``path`` opened for reading, through gzip if it starts with the gzip magic bytes."""
    with open(path, "rb") as f:
        magic = f.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


def _cache_file(entry: RemoteFile, split: str) -> Path:
    algo, digest = parse_checksum(entry.checksum)
    return cache_dir() / "imdb" / f"v{CACHE_VERSION}-{algo}-{digest}-{split}.json"


def _read_cache(path: Path) -> Reviews | None:
    """The cached split, or ``None`` if absent or unusable (then we simply re-parse)."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        texts, labels, movies = data["texts"], data["labels"], data["movies"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    ok = (
        isinstance(texts, list)
        and isinstance(labels, list)
        and len(texts) == len(labels) > 0
        and all(isinstance(t, str) for t in texts)
        and all(type(x) is int and x in (0, 1) for x in labels)
        and (
            movies is None
            or isinstance(movies, list)
            and len(movies) == len(texts)
            and all(isinstance(m, str) for m in movies)
        )
    )
    return Reviews(texts, labels, movies) if ok else None


def _write_cache(path: Path, data: Reviews) -> None:
    """Write atomically (temp file + rename); a failure only costs speed, so warn."""
    texts, labels, movies = data
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"texts": texts, "labels": labels, "movies": movies}, f, ensure_ascii=False)
        os.replace(tmp, path)
    except BaseException as err:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if not isinstance(err, OSError):
            raise
        warnings.warn(
            f"Could not write the parsed IMDB cache {path} ({err}); loading still works but "
            f"will parse the archive again next time. Set {CACHE_ENV} to a writable folder.",
            stacklevel=3,
        )
