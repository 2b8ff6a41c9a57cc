"""Reusing big arrays between calls, the way PyTorch's CUDA caching allocator does.

Fresh memory is slow the first time it is written: the operating system maps it in
page by page, one page fault each, and the C allocator can hand big freed blocks back to
the system, so a training loop that allocates the same big arrays at every call may pay
that price at every call (how much, the course has not measured on its own). A
:class:`BufferPool` keeps the arrays it handed out and hands one back again once nothing
refers to it any more.

Usage::

    pool = BufferPool()
    a = pool.empty((T, B, H), np.float32)  # like np.empty: contents are arbitrary
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict

import numpy as np
from numpy.typing import DTypeLike

from lstm_course.checks import check_int

__all__ = [
    "BufferPool",
]


class BufferPool:
    """Hands out uninitialised arrays, reusing ones whose users have all let go.

    An array is free when the pool holds the only reference to it: no variable, no
    container and no view (a view refers to its base) points to it. That is read off
    the reference count, so freeing is automatic: drop the array (or the cache holding
    it) and the next request of the same shape and dtype reuses its memory.

    Args:
        per_shape: at most this many arrays are kept per (shape, dtype); beyond that,
            requests get plain ``np.empty`` arrays that are not kept.
        shapes: at most this many (shape, dtype) keys are kept, least recently used
            dropped first, so a program that goes through many shapes does not hoard.
    """

    def __init__(self, per_shape: int = 4, shapes: int = 16) -> None:
        self.per_shape = check_int("per_shape", per_shape)
        self.shapes = check_int("shapes", shapes)
        self._arrays: OrderedDict[tuple, list[np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()  # two threads must never get the same array

    def empty(self, shape: int | tuple[int, ...], dtype: DTypeLike) -> np.ndarray:
        """An array of ``shape`` and ``dtype`` with arbitrary contents, like np.empty."""
        shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(n) for n in shape)
        key = (shape, np.dtype(dtype))
        with self._lock:
            arrays = self._arrays.setdefault(key, [])
            self._arrays.move_to_end(key)
            for a in arrays:
                # References: the list, the loop variable and getrefcount's argument.
                if sys.getrefcount(a) == 3:
                    return a
            a = np.empty(shape, dtype)
            if len(arrays) < self.per_shape:
                arrays.append(a)
            while len(self._arrays) > self.shapes:
                self._arrays.popitem(last=False)
            return a

    def nbytes(self) -> int:
        """Bytes held by the pool, in use or free."""
        with self._lock:
            return sum(a.nbytes for arrays in self._arrays.values() for a in arrays)

    def clear(self) -> None:
        """Forget every array (those still in use stay valid; they are just not reused)."""
        with self._lock:
            self._arrays.clear()
