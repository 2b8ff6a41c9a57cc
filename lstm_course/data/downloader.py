"""Download one file, all or nothing: stream, hash, verify, then atomically rename.

The bytes go to a hidden temporary file *in the destination folder* (so the final
:func:`os.replace` is a same-filesystem rename, which is atomic), and the hash is
computed while streaming (so a 100 MB file is read once, not twice). Whatever goes
wrong -- network error, short transfer, checksum mismatch, Ctrl-C -- the temporary file
is removed, so a half-downloaded file can never be mistaken for a good one later.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

from lstm_course.data.checksum import CHUNK_SIZE, parse_checksum
from lstm_course.data.errors import DatasetError
from lstm_course.data.home import DATA_ENV, data_home

__all__ = [
    "SCHEMES",
    "USER_AGENT",
    "download",
]

SCHEMES = ("http", "https", "file")
USER_AGENT = "lstm-course-data/0.1 (+python urllib)"


def download(
    url: str,
    dest: str | os.PathLike,
    checksum: str,
    *,
    progress: bool = True,
    timeout: float = 60.0,
    chunk_size: int = CHUNK_SIZE,
) -> Path:
    """Download ``url`` to ``dest`` and verify it against a published ``checksum``.

    ``dest`` is replaced atomically, and only by a complete, verified file; on any
    failure nothing is left behind (no ``dest``, no temporary file).

    Args:
        url: ``http(s)://`` or ``file://`` URL.
        dest: final path of the file; missing parent folders are created.
        checksum: ``"md5:<hex>"``, ``"sha1:<hex>"`` or ``"sha256:<hex>"``.
        progress: show a ``tqdm`` progress bar (bytes).
        timeout: seconds to wait for the server on connect and on each read.
        chunk_size: bytes per read.

    Returns:
        ``dest`` as an absolute :class:`~pathlib.Path`.

    Raises:
        ValueError: empty/unsupported ``url`` or malformed ``checksum``.
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
    if chunk_size <= 0:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
    dest = Path(os.path.abspath(dest))

    # Folders we create are removed again on failure: "nothing left behind" includes them.
    created = _missing_folders(dest.parent)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    except OSError as err:
        _remove_empty(created)
        raise DatasetError(_unwritable_message(dest, url, checksum, err)) from err

    tmp = Path(tmp_name)
    try:
        hasher = hashlib.new(algo)
        with os.fdopen(fd, "wb") as out:
            _stream(url, out, hasher, dest, checksum, progress, timeout, chunk_size)
            out.flush()
            # Make the bytes durable before the rename publishes them.
            os.fsync(out.fileno())
        actual = hasher.hexdigest()
        if actual != expected:
            raise DatasetError(
                f"The file downloaded from {url} has {algo} {actual}, expected {expected}: "
                "the transfer was corrupted or the file changed on the server. "
                f"Nothing was saved. Try again; if it keeps failing, fetch the file by hand, "
                f"check its {algo}, and put it at {dest}."
            )
        # mkstemp creates 0600 files; a dataset should be readable like any other file.
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        # BaseException on purpose: Ctrl-C must not leave a half-written file either.
        tmp.unlink(missing_ok=True)
        _remove_empty(created)
        raise
    return dest


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


def _stream(url, out, hasher, dest, checksum, progress, timeout, chunk_size) -> None:
    """Copy the response body of ``url`` into ``out``, feeding ``hasher`` as it goes."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        raise DatasetError(
            f"Could not download {url}: the server answered HTTP {err.code} ({err.reason}). "
            f"Nothing was saved. Fetch the file by hand and put it at {dest}."
        ) from err
    except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
        # URLError wraps refused connections and DNS failures; a bare TimeoutError can
        # escape urlopen while it waits for the response headers.
        raise DatasetError(_offline_message(url, dest, checksum, err)) from err

    with response:
        total = _content_length(response)
        done = 0
        with tqdm(
            total=total,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=dest.name,
            disable=not progress,
        ) as bar:
            while True:
                try:
                    chunk = response.read(chunk_size)
                except (OSError, http.client.HTTPException) as err:
                    raise DatasetError(
                        f"The download of {url} was interrupted after {done:,} bytes ({err}). "
                        f"Nothing was saved; try again, or fetch the file by hand and put it "
                        f"at {dest}."
                    ) from err
                if not chunk:
                    break
                hasher.update(chunk)
                try:
                    out.write(chunk)
                except OSError as err:
                    raise DatasetError(_unwritable_message(dest, url, checksum, err)) from err
                done += len(chunk)
                bar.update(len(chunk))
    # http.client returns b"" (no exception) when the server closes early, so a short
    # transfer has to be caught by comparing with the announced length.
    if total is not None and done != total:
        raise DatasetError(
            f"The download of {url} was cut short: got {done:,} of {total:,} bytes. "
            f"Nothing was saved; try again, or fetch the file by hand and put it at {dest}."
        )


def _content_length(response) -> int | None:
    value = response.headers.get("Content-Length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


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
    reason = getattr(err, "reason", err)
    if url.lower().startswith("file:"):
        problem = "the local file cannot be read"
    else:
        problem = "this machine seems to be offline, or the server cannot be reached"
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
