"""The public loaders: one function per dataset, returning plain Python objects.

Each loader finds its file in the data home (see :mod:`lstm_course.data.home`),
verifies it against the published checksum, downloads it first if it is missing and
downloads are allowed, and parses it. Other chapters rely on these exact names and
return types.
"""

from __future__ import annotations

from lstm_course.data.imdb import read_imdb
from lstm_course.data.registry import fetch

__all__ = [
    "PTB_SPLITS",
    "EOS",
    "load_imdb",
    "load_ptb",
    "load_tiny_shakespeare",
    "load_time_machine",
]

PTB_SPLITS = ("train", "valid", "test")
EOS = "<eos>"


def load_imdb(
    split: str, *, download: bool = True, progress: bool = True
) -> tuple[list[str], list[int]]:
    """IMDB movie reviews (Maas et al., 2011) with sentiment labels.

    Uses ``aclImdb_labelled.tar.gz`` (the course's verified copy) or the official
    ``aclImdb_v1.tar.gz`` from the data home, downloading the official one if neither is
    there. Only ``aclImdb/{train,test}/{pos,neg}/*.txt`` are read. The parsed result is
    cached in :func:`~lstm_course.data.cache_dir`, so repeat calls are fast.

    Args:
        split: ``"train"`` or ``"test"``.
        download: allow downloading a missing archive.
        progress: show a progress bar while downloading.

    Returns:
        ``(texts, labels)``: two lists of equal length (25,000 for the real data);
        ``labels[i]`` is 0 (negative) or 1 (positive). Sorted by path inside the
        archive, so all negative reviews come first: shuffle before training.

    Raises:
        ValueError: unknown ``split``.
        TypeError: ``download`` or ``progress`` is not a bool.
        DatasetError: archive missing and not downloadable, corrupt, or unsafe.
    """
    return read_imdb(split, download=download, progress=progress)


def load_ptb(split: str, *, download: bool = True, progress: bool = True) -> list[str]:
    """Penn Treebank (Mikolov's word-level version) as one flat list of tokens.

    Args:
        split: ``"train"``, ``"valid"`` or ``"test"``.
        download: allow downloading a missing file.
        progress: show a progress bar while downloading.

    Returns:
        The whitespace-separated words of each line followed by one ``"<eos>"`` per
        line (929,589 tokens for train, vocabulary of 10,000 including ``"<eos>"``).

    Raises:
        ValueError: unknown ``split``.
        TypeError: ``download`` or ``progress`` is not a bool.
        DatasetError: file missing and not downloadable, or corrupt.
    """
    if split not in PTB_SPLITS:
        raise ValueError(f"split must be one of {', '.join(map(repr, PTB_SPLITS))}, got {split!r}")
    path = fetch(f"ptb_{split}", download=download, progress=progress)
    tokens: list[str] = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            tokens.extend(line.split())
            tokens.append(EOS)
    return tokens


def load_tiny_shakespeare(*, download: bool = True, progress: bool = True) -> str:
    """Karpathy's Tiny Shakespeare, the raw text (1,115,394 characters).

    Raises:
        TypeError: ``download`` or ``progress`` is not a bool.
        DatasetError: file missing and not downloadable, or corrupt.
    """
    return _read_text("tiny_shakespeare", download, progress)


def load_time_machine(*, download: bool = True, progress: bool = True) -> str:
    """H. G. Wells' *The Time Machine*, d2l.ai's version, the raw text (178,979 characters).

    Raises:
        TypeError: ``download`` or ``progress`` is not a bool.
        DatasetError: file missing and not downloadable, or corrupt.
    """
    return _read_text("time_machine", download, progress)


def _read_text(key: str, download: bool, progress: bool) -> str:
    path = fetch(key, download=download, progress=progress)
    # Decode the bytes ourselves: "raw text" means no newline translation either.
    return path.read_bytes().decode("utf-8")
