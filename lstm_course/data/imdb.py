"""IMDB reviews: read them straight out of the tar, and cache the parsed result.

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
from typing import BinaryIO

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
    "read_imdb",
    "parse_archive",
]

SPLITS = ("train", "test")
LABELS = {"neg": 0, "pos": 1}
# Preference order: the smaller verified copy first, then the official archive.
ARCHIVE_KEYS = ("imdb_labelled", "imdb")
# Bump when the parsed format or the parsing rules change, to ignore old caches.
CACHE_VERSION = 1
_DRAIN_CHUNK = 1 << 20  # bytes per read when draining the gzip stream to its trailer
# Only labelled reviews; skips train/unsup, urls_*.txt, README, imdb.vocab, *.feat.
_REVIEW = re.compile(r"^aclImdb/(train|test)/(pos|neg)/[^/]+\.txt$")

Split = tuple[list[str], list[int]]


def read_imdb(split: str, *, download: bool = True, progress: bool = True) -> Split:
    """``(texts, labels)`` of one split. Internal to ``data``: the entry point is
    :func:`lstm_course.data.load_imdb`, which documents the arguments and errors."""
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


def parse_archive(path: str | os.PathLike) -> dict[str, Split]:
    """Read every labelled review of an aclImdb tar archive, without extracting it.

    Members are checked with the same :class:`~lstm_course.data.archive.MemberGuard`
    as :func:`~lstm_course.data.archive.extract_archive` uses.

    Returns:
        ``{"train": (texts, labels), "test": (texts, labels)}``; within a split,
        reviews are sorted by member path (all ``neg`` then all ``pos``), labels are
        0 for ``neg`` and 1 for ``pos``.

    Raises:
        DatasetError: truncated/corrupt archive, unsafe member, a review that is not
            UTF-8, or a split without any review.
    """
    path = Path(path)
    found: dict[str, list[tuple[str, int, str]]] = {split: [] for split in SPLITS}
    # Stream mode ("r|"): one sequential pass, no seeking back through the gzip stream.
    with (
        archive_errors(path),
        _decompressed(path) as stream,
        tarfile.open(fileobj=stream, mode="r|") as tar,
    ):
        for name, member in safe_tar_members(tar, path):
            match = _REVIEW.match(name)
            if match is None or not member.isreg():
                continue
            data = tar.extractfile(member).read()
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as err:
                raise DatasetError(f"{path}: member {name!r} is not UTF-8 text ({err}).") from err
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
        result[split] = ([text for _, _, text in reviews], [label for _, label, _ in reviews])
    return result


def _decompressed(path: Path) -> BinaryIO:
    """``path`` opened for reading, through gzip if it starts with the gzip magic bytes."""
    with open(path, "rb") as f:
        magic = f.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


def _cache_file(entry: RemoteFile, split: str) -> Path:
    algo, digest = parse_checksum(entry.checksum)
    return cache_dir() / "imdb" / f"v{CACHE_VERSION}-{algo}-{digest}-{split}.json"


def _read_cache(path: Path) -> Split | None:
    """The cached split, or ``None`` if absent or unusable (then we simply re-parse)."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        texts, labels = data["texts"], data["labels"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    ok = (
        isinstance(texts, list)
        and isinstance(labels, list)
        and len(texts) == len(labels) > 0
        and all(isinstance(t, str) for t in texts)
        and all(type(x) is int and x in (0, 1) for x in labels)
    )
    return (texts, labels) if ok else None


def _write_cache(path: Path, data: Split) -> None:
    """Write atomically (temp file + rename); a failure only costs speed, so warn."""
    texts, labels = data
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"texts": texts, "labels": labels}, f, ensure_ascii=False)
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
