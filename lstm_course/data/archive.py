"""Read and extract tar/zip archives without trusting their member names.

An archive is a list of *claims* ("put these bytes at ``../../.bashrc``"). Before a
single byte is written we check every member with :class:`MemberGuard`: no absolute
paths, no ``..`` components, no links that lead out of the archive, no device files.
The same guard is used by code that streams members straight out of a tar (see
:mod:`lstm_course.data.imdb`), so "safe" means the same thing everywhere.

Corrupt or truncated archives surface as a zoo of exceptions (``EOFError``,
``zlib.error``, ``tarfile.ReadError``, ...); :func:`archive_errors` turns them all into
one :class:`DatasetError` that tells the reader what to do.
"""

from __future__ import annotations

import contextlib
import gzip
import lzma
import os
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
_DRIVE = re.compile(r"^[A-Za-z]:")


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
    # Backslashes count as separators too: harmless on POSIX, and a Windows reader
    # must not be able to escape with "..\\..\\evil".
    return [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]


def _is_absolute(name: str) -> bool:
    return name.startswith(("/", "\\")) or bool(_DRIVE.match(name))


class MemberGuard:
    """Checks the members of one archive, in archive order, before anything uses them.

    It remembers the symlinks seen so far, because a later member whose path runs
    *through* one (``link/../../etc``, or just ``link/file`` with ``link -> /tmp``) is
    how a link is turned into a write outside the destination.

    Args:
        archive: path of the archive, only used in error messages.
    """

    def __init__(self, archive: str | os.PathLike):
        self.archive = Path(archive)
        self._symlinks: set[str] = set()

    def _reject(self, name: str, why: str) -> DatasetError:
        return DatasetError(
            f"Refusing to use {self.archive}: member {name!r} {why}. "
            "The archive is not the published file (or was tampered with); delete it and "
            "get the verified file again."
        )

    def _check_path(self, member: str, path: str | None = None) -> list[str]:
        """Relative, ``..``-free parts of ``path`` (default: ``member``), not via a symlink.

        ``path`` differs from ``member`` for a hardlink, whose target is checked too.
        """
        what = "path" if path is None else f"hardlink target {path!r}"
        path = member if path is None else path
        if _is_absolute(path):
            raise self._reject(member, f"has an absolute {what}")
        parts = _parts(path)
        if ".." in parts:
            raise self._reject(member, f"has a '..' component in its {what}")
        for i in range(1, len(parts) + 1):
            prefix = "/".join(parts[:i])
            if prefix in self._symlinks:
                raise self._reject(member, f"{what} goes through the symlink {prefix!r}")
        return parts

    def check_tar(self, member: tarfile.TarInfo) -> str:
        """Raise :class:`DatasetError` unless ``member`` is safe; return its clean name.

        Safe means: a regular file, directory, symlink or hardlink; a relative path
        without ``..``; not through an earlier symlink; and, for links, a target that
        stays inside the archive root (symlink targets may only climb with leading
        ``..`` and no deeper than the link's own folder).
        """
        name = member.name
        if member.isdev():
            raise self._reject(name, "is a device file or FIFO")
        if not (member.isreg() or member.isdir() or member.issym() or member.islnk()):
            raise self._reject(name, f"has an unsupported type {member.type!r}")
        parts = self._check_path(name)
        if member.issym():
            self._check_symlink_target(name, parts, member.linkname)
            self._symlinks.add("/".join(parts))
        elif member.islnk():
            # Hardlink targets are relative to the archive root, not to the link.
            self._check_path(name, member.linkname)
        return "/".join(parts)

    def _check_symlink_target(self, name: str, parts: list[str], target: str) -> None:
        if not target:
            raise self._reject(name, "is a symlink with an empty target")
        if _is_absolute(target):
            raise self._reject(name, f"is a symlink to the absolute path {target!r}")
        target_parts = _parts(target)
        ups = 0
        while ups < len(target_parts) and target_parts[ups] == "..":
            ups += 1
        # A '..' after a name could climb back out through a link created later, so
        # only leading '..' are allowed, and never more than the link's depth.
        if ".." in target_parts[ups:] or ups > len(parts) - 1:
            raise self._reject(name, f"is a symlink pointing outside the archive ({target!r})")

    def check_zip(self, info: zipfile.ZipInfo) -> str:
        """Like :meth:`check_tar` for a zip member; zip symlinks are always refused."""
        # Unix file type bits live in the high 16 bits; zero means "not recorded".
        kind = stat.S_IFMT(info.external_attr >> 16)
        if kind == stat.S_IFLNK:
            raise self._reject(info.filename, "is a symlink (not supported in zip archives)")
        if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise self._reject(info.filename, "is a device file or FIFO")
        return "/".join(self._check_path(info.filename))


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
            guard = MemberGuard(path)
            # getmembers() reads the whole archive, so truncation shows up here, too.
            members = tar.getmembers()
            for member in members:
                guard.check_tar(member)
            _make_dest(dest)
            kwargs = {}
            if hasattr(tarfile, "data_filter"):
                # Second line of defence on Python >= 3.10.12 / 3.11.4: also catches
                # links that already exist in ``dest`` from an earlier extraction.
                kwargs["filter"] = "data"
            try:
                tar.extractall(dest, members=members, **kwargs)
            except tarfile.FilterError as err:
                raise DatasetError(f"Refusing to extract {path} into {dest}: {err}.") from err
            except CORRUPT_ERRORS:
                raise  # archive_errors explains these
            except OSError as err:
                raise DatasetError(_unwritable_message(path, dest, err)) from err


def _extract_zip(path: Path, dest: Path) -> None:
    with archive_errors(path), zipfile.ZipFile(path) as zf:
        guard = MemberGuard(path)
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
