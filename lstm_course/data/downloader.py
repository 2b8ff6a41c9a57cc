"""Download one file, all or nothing, with pooch; the course's error messages on top.

:func:`pooch.retrieve` does the work: it streams the bytes (with a ``tqdm`` progress
bar) into a temporary file *in the destination folder*, checks the published hash,
and only then moves the file into place. The move is a same-filesystem rename, so it is
atomic, and the temporary file is removed whatever goes wrong (network error, short
transfer, hash mismatch, Ctrl-C), so a half-downloaded file can never be mistaken for
a good one later. This module adds what pooch leaves to its callers: ``file://`` URLs
(a local mirror), removing the folders it made when a download fails, and messages that
say which file to put where when the download cannot happen.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pooch
import requests
import urllib3

from lstm_course.checks import check_bool, check_int, check_positive
from lstm_course.data.checksum import parse_checksum
from lstm_course.data.errors import DatasetError
from lstm_course.data.home import DATA_ENV, data_home

__all__ = [
    "SCHEMES",
    "download",
]

SCHEMES = ("http", "https", "file")


def download(
    url: str,
    dest: str | os.PathLike,
    checksum: str,
    *,
    progress: bool = True,
    timeout: float = 60.0,
    chunk_size: int = 1 << 20,
) -> Path:
    """Download ``url`` to ``dest`` and verify it against a published ``checksum``.

    ``dest`` is replaced atomically, and only by a complete, verified file; on any
    failure nothing is left behind (no ``dest``, no temporary file, no new folder). A
    ``dest`` that already has the checksum is kept as it is.

    Args:
        url: ``http(s)://`` or ``file://`` URL.
        dest: final path of the file; missing parent folders are created.
        checksum: ``"md5:<hex>"``, ``"sha1:<hex>"`` or ``"sha256:<hex>"``.
        progress: show a ``tqdm`` progress bar (bytes; HTTP only).
        timeout: seconds to wait for the server on connect and on each read.
        chunk_size: bytes per read.

    Returns:
        ``dest`` as an absolute :class:`~pathlib.Path`.

    Raises:
        ValueError: empty/unsupported ``url``, malformed ``checksum``, or a
            non-positive ``timeout``/``chunk_size``.
        TypeError: ``progress``, ``timeout`` or ``chunk_size`` of the wrong type.
        DatasetError: offline or server unreachable (the message says where to put the
            file by hand and mentions ``LSTM_COURSE_DATA``), HTTP error, transfer cut
            short, checksum mismatch, or the destination folder cannot be written.
        KeyboardInterrupt: re-raised unchanged after cleaning up.
    """
    if not isinstance(url, str) or not url.strip():
        raise ValueError(f"url must be a non-empty string, got {url!r}")
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in SCHEMES:
        raise ValueError(f"url must start with one of {', '.join(SCHEMES)}: got {url!r}")
    algo, expected = parse_checksum(checksum)
    downloader = _Downloader(
        check_bool("progress", progress),
        check_positive("timeout", timeout),
        check_int("chunk_size", chunk_size),
    )
    dest = Path(os.path.abspath(dest))
    # pooch creates the missing folders; "nothing left behind" includes them.
    created = _missing_folders(dest.parent)
    try:
        with _pooch_log(progress):
            pooch.retrieve(
                url, f"{algo}:{expected}", fname=dest.name, path=dest.parent, downloader=downloader
            )
    except BaseException as err:
        # BaseException on purpose: after Ctrl-C too, no folder made here stays behind
        # (pooch has already removed its temporary file).
        _remove_empty(created)
        problem = _explain(err, url, dest, checksum)
        if problem is None:
            raise
        raise DatasetError(problem) from err
    return dest


class _Downloader:
    """A pooch downloader: HTTP(S) through :class:`pooch.HTTPDownloader`, ``file://`` by copy.

    pooch calls it with the *temporary* file to fill; what it writes only becomes
    ``dest`` after the hash check.
    """

    def __init__(self, progress: bool, timeout: float, chunk_size: int):
        self.http = pooch.HTTPDownloader(
            progressbar=progress, chunk_size=chunk_size, timeout=timeout
        )

    def __call__(self, url: str, output_file: str, pooch_instance) -> None:
        if url.lower().startswith("file:"):
            try:
                source = open(urllib.request.url2pathname(urllib.parse.urlsplit(url).path), "rb")
            except OSError as err:
                # An unreadable mirror is, to the reader, the same as an unreachable server.
                raise requests.exceptions.ConnectionError(err) from err
            with source, open(output_file, "wb") as out:
                shutil.copyfileobj(source, out)
        else:
            self.http(url, output_file, pooch_instance)
        # The temporary file is private (0600); a dataset should be readable like any
        # other file, and its bytes durable before the rename publishes them.
        os.chmod(output_file, 0o644)
        with open(output_file, "rb") as f:
            os.fsync(f.fileno())


@contextlib.contextmanager
def _pooch_log(progress: bool) -> Iterator[None]:
    """pooch's "Downloading data from ..." line only with the bar: ``progress=False`` is silent.

    A filter, not ``setLevel``: pooch's logger is outside logging's registry, so it would
    keep a level check it had already cached.
    """

    def keep(record: logging.LogRecord) -> bool:
        return progress or record.levelno >= logging.WARNING

    logger = pooch.get_logger()
    logger.addFilter(keep)
    try:
        yield
    finally:
        logger.removeFilter(keep)


def _missing_folders(folder: Path) -> list[Path]:
    """``folder`` and those of its parents that do not exist yet, innermost first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:  # innermost first, so each is empty once its child is gone
        try:
            folder.rmdir()
        except OSError:
            return  # not empty (someone else wrote there) or already gone: leave it


def _explain(err: BaseException, url: str, dest: Path, checksum: str) -> str | None:
    """The course's message for what went wrong in :func:`pooch.retrieve` (``None``: re-raise).

    Order matters: requests' exceptions are ``OSError`` subclasses too.
    """
    retry = f"Nothing was saved; try again, or fetch the file by hand and put it at {dest}."
    if isinstance(err, requests.exceptions.HTTPError):
        response = err.response
        return (
            f"Could not download {url}: the server answered HTTP {response.status_code} "
            f"({response.reason}). {retry}"
        )
    if isinstance(err, requests.exceptions.ChunkedEncodingError):
        return f"The download of {url} was cut short{_bytes_received(err)}. {retry}"
    if isinstance(err, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
        return _offline_message(url, dest, checksum, err)
    if isinstance(err, requests.exceptions.RequestException):
        return f"Could not download {url} ({err}). {retry}"
    if isinstance(err, ValueError):  # pooch's hash check; the message has both digests
        return (
            f"The file downloaded from {url} does not match its published checksum: {err} "
            "Nothing was saved. Try again; if it keeps failing, fetch the file by hand, check "
            f"that its checksum is {checksum}, and put it at {dest}."
        )
    if isinstance(err, OSError):
        return _unwritable_message(dest, url, checksum, err)
    return None


def _chain(err: BaseException | None) -> Iterator[BaseException]:
    """``err`` and the exceptions behind it (requests wraps urllib3, which wraps socket)."""
    while err is not None:
        yield err
        err = err.__cause__ or err.__context__


def _bytes_received(err: BaseException) -> str:
    """``": got X of Y bytes"`` from urllib3's ``IncompleteRead`` behind ``err``, if any."""
    for cause in _chain(err):
        if isinstance(cause, urllib3.exceptions.IncompleteRead):
            return f": got {cause.partial:,} of {cause.partial + cause.expected:,} bytes"
    return ""


def _home_hint(dest: Path) -> str:
    """How ``LSTM_COURSE_DATA`` relates to ``dest``, for error messages."""
    home = data_home()
    try:
        relative = dest.relative_to(home).as_posix()
    except ValueError:
        return f"{DATA_ENV} (now {home}) chooses where the course looks for its data."
    return (
        f"Or set {DATA_ENV} to a folder that already holds a verified copy of "
        f"{relative} (it is now {home})."
    )


def _offline_message(url: str, dest: Path, checksum: str, err: BaseException) -> str:
    if url.lower().startswith("file:"):
        problem = "the local file cannot be read"
    else:
        problem = "this machine seems to be offline, or the server cannot be reached"
    reason = list(_chain(err))[-1]  # e.g. "[Errno 111] Connection refused"
    return (
        f"Could not download {dest.name} from {url} ({reason}): {problem}. "
        "Nothing was saved.\n"
        f"To work offline, fetch the file from its official URL\n    {url}\n"
        f"on a machine with internet, check that its checksum is {checksum}, "
        f"and put it exactly here:\n    {dest}\n"
        f"{_home_hint(dest)}"
    )


def _unwritable_message(dest: Path, url: str, checksum: str, err: BaseException) -> str:
    return (
        f"Cannot write to {dest.parent} ({err}), so {dest.name} cannot be downloaded there. "
        f"Set {DATA_ENV} to a writable folder, or put the file yourself at\n    {dest}\n"
        f"(official URL: {url}, checksum {checksum})."
    )
