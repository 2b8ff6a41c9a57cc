"""The one exception type of :mod:`lstm_course.data`.

Bad *arguments* to public functions (unknown split, malformed checksum string, empty
URL) raise :class:`ValueError`; problems with the *data itself* (missing, corrupt,
truncated, hostile, cannot be downloaded or written) raise :class:`DatasetError`.
"""

from __future__ import annotations

__all__ = [
    "DatasetError",
]


class DatasetError(RuntimeError):
    """A dataset file is missing, corrupt, unsafe, or cannot be fetched or written.

    The message always says what went wrong, which file it is (full path) and what to
    do next, because readers meet it in a notebook cell far from this code.
    """
