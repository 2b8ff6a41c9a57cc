"""Published checksums: parse ``"algo:hex"`` strings and verify files against them.

A checksum string names its algorithm because the sources we rely on publish different
ones (torchtext uses md5, d2l sha1, our verified copies sha256); keeping the algorithm
next to the digest means a digest can never be checked with the wrong hash. This is
also pooch's ``known_hash`` form; pooch does the hashing (in chunks, never the whole
file at once), this module adds the strict parsing and the course's error messages.
"""

from __future__ import annotations

import os
import string
from pathlib import Path

import pooch

from lstm_course.data.errors import DatasetError

__all__ = [
    "HEX_LENGTHS",
    "parse_checksum",
    "verify_checksum",
]

# Hex length of each supported digest: catches a truncated copy-paste early (pooch
# itself would take any string, and read one without "algo:" as sha256).
HEX_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64}


def parse_checksum(checksum: str) -> tuple[str, str]:
    """Split ``"sha256:3c27..."`` into ``("sha256", "3c27...")`` (lower-cased).

    Raises:
        ValueError: not a string, no ``:``, unknown algorithm (only md5, sha1, sha256),
            non-hex digest, or a digest of the wrong length for its algorithm.
    """
    if not isinstance(checksum, str) or ":" not in checksum:
        raise ValueError(
            f"checksum must look like 'sha256:<hex>', 'sha1:<hex>' or 'md5:<hex>', got {checksum!r}"
        )
    algo, _, digest = checksum.strip().partition(":")
    algo, digest = algo.strip().lower(), digest.strip().lower()
    if algo not in HEX_LENGTHS:
        raise ValueError(
            f"unsupported checksum algorithm {algo!r} in {checksum!r}: "
            f"use one of {', '.join(sorted(HEX_LENGTHS))}"
        )
    if len(digest) != HEX_LENGTHS[algo] or not set(digest) <= set(string.hexdigits.lower()):
        raise ValueError(
            f"{algo} digest must be {HEX_LENGTHS[algo]} hex characters, got {digest!r} "
            f"({len(digest)} characters) in {checksum!r}"
        )
    return algo, digest


def verify_checksum(path: str | os.PathLike, checksum: str) -> None:
    """Check that the file at ``path`` has the published ``checksum``.

    Args:
        path: the file to check.
        checksum: ``"md5:<32 hex>"``, ``"sha1:<40 hex>"`` or ``"sha256:<64 hex>"``.

    Raises:
        ValueError: ``checksum`` is malformed.
        DatasetError: the file is missing, or its digest differs (corrupt or incomplete
            file); the message gives the path, expected and actual digests and the fix.
    """
    algo, expected = parse_checksum(checksum)
    path = Path(path)
    try:
        actual = pooch.file_hash(path, alg=algo)
    except FileNotFoundError:
        raise DatasetError(f"{path} does not exist, so its {algo} cannot be checked.") from None
    except IsADirectoryError:
        raise DatasetError(f"{path} is a folder, expected a file with {algo} {expected}.") from None
    if actual != expected:
        raise DatasetError(
            f"{path} is corrupt or incomplete: its {algo} is {actual}, "
            f"expected {expected}.\n"
            f"Delete it and download it again, or copy the verified file to {path} again."
        )
