"""Where dataset files live (the *data home*) and where parsed caches go.

Two folders, kept apart on purpose:

* the **data home** holds the downloaded files exactly as published. CI points it at a
  read-only folder of verified copies, so nothing here ever writes into it when the file
  it wants is already there;
* the **cache dir** holds things we derive from those files (e.g. the parsed IMDB
  reviews). It must be writable, and deleting it is always safe.

Neither function creates its folder: the code that writes does that, so a read-only
data home is never touched just by asking where it is.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "DATA_ENV",
    "CACHE_ENV",
    "data_home",
    "cache_dir",
]

DATA_ENV = "LSTM_COURSE_DATA"
CACHE_ENV = "LSTM_COURSE_CACHE"


def _user_cache_root() -> Path:
    """``$XDG_CACHE_HOME/lstm_course`` or ``~/.cache/lstm_course``.

    The XDG spec says a relative (or empty) ``XDG_CACHE_HOME`` is invalid and must be
    ignored, so we do that rather than resolve it against whatever the cwd happens to be.
    """
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "lstm_course"


def _from_env(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    if not value:
        # An empty variable (e.g. ``LSTM_COURSE_DATA= jupyter lab``) means "unset".
        return None
    # Absolute, so that error messages can give the reader a full path to copy into.
    return Path(os.path.abspath(os.path.expanduser(value)))


def data_home() -> Path:
    """Folder that holds the dataset files as published (may be read-only).

    Returns:
        ``$LSTM_COURSE_DATA`` if set and non-empty, else ``$XDG_CACHE_HOME/lstm_course/data``
        (only when that variable is an absolute path), else ``~/.cache/lstm_course/data``.
        Always an absolute :class:`~pathlib.Path`; the folder may not exist yet.
    """
    return _from_env(DATA_ENV) or _user_cache_root() / "data"


def cache_dir() -> Path:
    """Writable folder for parsed caches (safe to delete at any time).

    Returns:
        ``$LSTM_COURSE_CACHE`` if set and non-empty, else
        ``$XDG_CACHE_HOME/lstm_course/parsed``, else ``~/.cache/lstm_course/parsed``.
        Always an absolute :class:`~pathlib.Path`; the folder may not exist yet.
    """
    return _from_env(CACHE_ENV) or _user_cache_root() / "parsed"
