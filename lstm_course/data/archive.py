"""Read and extract tar/zip archives without trusting their member names.

An archive is a list of *claims* ("put these bytes at ``../../.bashrc``"). Every member
is judged by tarfile's ``data`` extraction filter (:func:`tarfile.data_filter`, PEP 706):
no path or link that leads outside the destination, no absolute link, no device file or
FIFO. :class:`MemberGuard` runs the filter on every member *before* a single byte is
written, and adds the two rules the filter cannot apply there:

* names must be plain relative POSIX paths: the filter quietly drops a leading ``/``
  (a published archive never has one), and on Linux it reads ``C:`` and ``\\`` as
  ordinary characters where Windows would see a drive and a separator;
* no path may run through a symlink of the same archive (``link/../../etc``, or
  ``link/file``): the filter sees where a symlink leads only once it exists on disk,
  which is too late to leave the destination untouched.

The same guard serves code that streams members straight out of a tar (see
:mod:`lstm_course.data.imdb`), so "safe" means the same thing everywhere. Corrupt or
truncated archives surface as a zoo of exceptions (``EOFError``, ``zlib.error``,
``tarfile.ReadError``, ...); :func:`archive_errors` turns them all into one
:class:`DatasetError` that tells the reader what to do.
"""

from __future__ import annotations

import contextlib
import gzip
import lzma
import os
import platform
import posixpath
import re
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from lstm_course.data.errors import DatasetError

__all__ = [
    "CORRUPT_ERRORS",
    "archive_errors",
    "MemberGuard",
    "safe_tar_members",
    "extract_archive",
]

# Exceptions that mean "the archive bytes are bad", whatever the compression.
CORRUPT_ERRORS = (
    tarfile.ReadError,
    tarfile.CompressionError,
    tarfile.HeaderError,
    EOFError,
    zlib.error,
    gzip.BadGzipFile,
    lzma.LZMAError,
    zipfile.BadZipFile,
)
# A leading slash, a Windows drive, or a backslash anywhere.
_NOT_POSIX_RELATIVE = re.compile(r"^/|^[A-Za-z]:|\\")
_NOWHERE = os.path.join(os.sep, "lstm-course-unextracted")


def _corrupt_message(path: Path, err: BaseException) -> str:
    return (
        f"{path} is truncated or corrupt ({type(err).__name__}: {err}). "
        f"Delete it and download it again, or copy the verified file to {path} again."
    )


@contextlib.contextmanager
def archive_errors(path: str | os.PathLike) -> Iterator[None]:
    """Turn the read errors of a corrupt/truncated archive into a :class:`DatasetError`."""
    try:
        yield
    except CORRUPT_ERRORS as err:
        raise DatasetError(_corrupt_message(Path(path), err)) from err


def _parts(name: str) -> list[str]:
    return [p for p in name.split("/") if p not in ("", ".")]


class MemberGuard:
    """Checks the members of one archive, in archive order, before anything uses them.

    It remembers the symlinks seen so far, because a later member whose path runs
    *through* one is how a link is turned into a write outside the destination.

    Args:
        archive: path of the archive, for error messages.
        dest: the folder the members will be extracted into; ``None`` when they are
            only read. Then the filter gets a folder that does not exist, so that it
            judges every path by its text alone (a short one: the filter resolves it
            for every member, and IMDB has 50,000).

    Raises:
        RuntimeError: this Python has no :func:`tarfile.data_filter` (before 3.10.12,
            3.11.4 or 3.12).
    """

    def __init__(self, archive: str | os.PathLike, dest: str | os.PathLike | None = None):
        if not hasattr(tarfile, "data_filter"):
            raise RuntimeError(
                f"Python {platform.python_version()} lacks tarfile's extraction filters, "
                "which the course needs to open archives safely: use Python 3.10.12, "
                "3.11.4, 3.12 or newer."
            )
        self.archive = Path(archive)
        self.dest = os.path.abspath(_NOWHERE if dest is None else dest)
        self._symlinks: set[str] = set()

    def _reject(self, name: str, why: str) -> DatasetError:
        return DatasetError(
            f"Refusing to use {self.archive}: member {name!r} {why}. "
            "The archive is not the published file (or was tampered with); delete it and "
            "get the verified file again."
        )

    def check_tar(self, member: tarfile.TarInfo) -> str:
        """Raise :class:`DatasetError` unless ``member`` is safe; return its clean name.

        The clean name has ``/`` separators and no ``.`` components (``./a//b`` -> ``a/b``).
        """
        name = member.name
        try:
            tarfile.data_filter(member, self.dest)
        except tarfile.FilterError as err:
            raise self._reject(name, f"is refused by tarfile's data filter ({err})") from err
        if _NOT_POSIX_RELATIVE.search(name):
            raise self._reject(name, "has an absolute or Windows-style path")
        if _NOT_POSIX_RELATIVE.search(member.linkname):
            raise self._reject(name, f"links to the Windows-style path {member.linkname!r}")
        parts = _parts(name)
        paths = [parts]
        if member.issym():  # relative to the link's folder
            paths.append(parts[:-1] + _parts(member.linkname))
        elif member.islnk():  # relative to the archive root
            paths.append(_parts(member.linkname))
        for path in paths if self._symlinks else ():  # no symlink yet: nothing to run through
            for i in range(1, len(path) + 1):
                prefix = posixpath.normpath("/".join(path[:i]))
                if prefix in self._symlinks:
                    raise self._reject(name, f"runs through the symlink {prefix!r}")
        if member.issym():
            self._symlinks.add(posixpath.normpath("/".join(parts)))
        return "/".join(parts)

    def check_zip(self, info: zipfile.ZipInfo) -> str:
        """Like :meth:`check_tar` for a zip member; zip symlinks are always refused.

        zipfile has no filter, so the member is judged as the tar member it would be.
        """
        # Unix file type bits live in the high 16 bits; zero means "not recorded".
        kind = stat.S_IFMT(info.external_attr >> 16)
        if kind == stat.S_IFLNK:
            raise self._reject(info.filename, "is a symlink (not supported in zip archives)")
        if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise self._reject(info.filename, "is a device file or FIFO")
        member = tarfile.TarInfo(info.filename)
        member.type = tarfile.DIRTYPE if info.is_dir() else tarfile.REGTYPE
        return self.check_tar(member)


def safe_tar_members(
    tar: tarfile.TarFile, archive: str | os.PathLike
) -> Iterator[tuple[str, tarfile.TarInfo]]:
    """Yield ``(clean_name, member)`` for each member, raising at the first unsafe one.

    ``clean_name`` has ``/`` separators and no ``.`` components (``./a//b`` -> ``a/b``).
    Works on stream-mode tar files (``"r|*"``), so members can be read one at a time
    with ``tar.extractfile(member)`` without extracting anything to disk.
    """
    guard = MemberGuard(archive)
    for member in tar:
        yield guard.check_tar(member), member


def extract_archive(path: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Safely extract a ``.tar``, ``.tar.gz``/``.tgz`` (or ``.tar.bz2``/``.tar.xz``) or ``.zip``.

    Every member is checked (and the whole archive read once) *before* anything is
    written, so a hostile, truncated or corrupt archive leaves ``dest`` untouched.

    Args:
        path: the archive; the format is detected from its content, not its name.
        dest: folder to extract into (created if missing).

    Returns:
        ``dest`` as an absolute :class:`~pathlib.Path`.

    Raises:
        DatasetError: the archive is missing, truncated, corrupt, not an archive, or has
            an unsafe member (absolute path, ``..``, link leading outside ``dest``,
            device file: the message names the member); or ``dest`` cannot be written.
    """
    path = Path(path)
    dest = Path(os.path.abspath(dest))
    if not path.is_file():
        raise DatasetError(f"{path} does not exist (or is not a file), so it cannot be extracted.")
    if zipfile.is_zipfile(path):
        _extract_zip(path, dest)
    else:
        _extract_tar(path, dest)
    return dest


def _unwritable_message(path: Path, dest: Path, err: BaseException) -> str:
    return f"Cannot extract {path} into {dest} ({err}): choose a writable folder with free space."


def _make_dest(dest: Path) -> None:
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DatasetError(f"Cannot create {dest} to extract into ({err}).") from err


def _extract_tar(path: Path, dest: Path) -> None:
    with archive_errors(path):
        try:
            tar = tarfile.open(path, "r:*")
        except tarfile.ReadError as err:
            raise DatasetError(
                f"{path} is not a tar or zip archive, or it is truncated or corrupt ({err}). "
                f"Delete it and download it again, or copy the verified file to {path} again."
            ) from err
        with tar:
            guard = MemberGuard(path, dest)
            # getmembers() reads the whole archive, so truncation shows up here, too.
            members = tar.getmembers()
            for member in members:
                guard.check_tar(member)
            _make_dest(dest)
            try:
                # The filter again, now with the files on disk: it also catches links
                # that already exist in ``dest`` from an earlier extraction.
                tar.extractall(dest, members=members, filter="data")
            except tarfile.FilterError as err:
                raise DatasetError(f"Refusing to extract {path} into {dest}: {err}.") from err
            except CORRUPT_ERRORS:
                raise  # archive_errors explains these
            except OSError as err:
                raise DatasetError(_unwritable_message(path, dest, err)) from err


def _extract_zip(path: Path, dest: Path) -> None:
    with archive_errors(path), zipfile.ZipFile(path) as zf:
        guard = MemberGuard(path, dest)
        for info in zf.infolist():
            guard.check_zip(info)
        # testzip() reads every member and checks its CRC: corrupt data fails here,
        # before anything is written.
        bad = zf.testzip()
        if bad is not None:
            raise DatasetError(
                f"{path} is corrupt (member {bad!r} fails its CRC check). "
                f"Delete it and download it again, or copy the verified file to {path} again."
            )
        _make_dest(dest)
        try:
            zf.extractall(dest)
        except CORRUPT_ERRORS:
            raise
        except OSError as err:
            raise DatasetError(_unwritable_message(path, dest, err)) from err
