import threading

import numpy as np
import pytest

from lstm_course.scratch.buffers import BufferPool


def test_reuses_an_array_nobody_holds():
    pool = BufferPool()
    a = pool.empty((3, 4), np.float32)
    address = a.__array_interface__["data"][0]
    del a
    b = pool.empty((3, 4), np.float32)
    assert b.__array_interface__["data"][0] == address
    assert b.shape == (3, 4) and b.dtype == np.float32


def test_never_hands_out_an_array_still_in_use():
    pool = BufferPool()
    a = pool.empty((5,), np.float64)
    b = pool.empty((5,), np.float64)
    assert not np.shares_memory(a, b)
    view = b[1:]  # a view keeps its base alive
    del b
    c = pool.empty((5,), np.float64)
    assert not np.shares_memory(c, view) and not np.shares_memory(c, a)
    held = {"cache": c}  # so does a container
    del c
    d = pool.empty((5,), np.float64)
    assert not np.shares_memory(d, held["cache"])


def test_shape_and_dtype_are_part_of_the_key():
    pool = BufferPool()
    a = pool.empty((2, 3), np.float32)
    address = a.__array_interface__["data"][0]
    del a
    for shape, dtype in [((3, 2), np.float32), ((2, 3), np.float64), (6, np.float32)]:
        b = pool.empty(shape, dtype)
        assert b.shape == (shape if isinstance(shape, tuple) else (shape,))
        assert b.dtype == dtype
        assert b.__array_interface__["data"][0] != address


def test_is_bounded():
    pool = BufferPool(per_shape=2, shapes=3)
    held = [pool.empty((4,), np.float32) for _ in range(5)]  # 3 beyond the bound
    assert pool.nbytes() == 2 * 16
    for n in range(1, 10):
        pool.empty((n,), np.float32)
    assert len(pool._arrays) == 3
    assert len(held) == 5
    pool.clear()
    assert pool.nbytes() == 0


@pytest.mark.parametrize(
    "kwargs, error",
    [({"per_shape": 0}, ValueError), ({"shapes": 0}, ValueError), ({"per_shape": 2.0}, TypeError)],
)
def test_rejects_bad_bounds(kwargs, error):
    ((name, value),) = kwargs.items()
    with pytest.raises(error, match=f"{name} must be an int >= 1, got {value}"):
        BufferPool(**kwargs)


def test_threads_never_share_an_array():
    pool = BufferPool(per_shape=64)
    got, lock = [], threading.Lock()

    def take():
        for _ in range(50):
            a = pool.empty((8,), np.float64)
            with lock:
                got.append(a)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    addresses = [a.__array_interface__["data"][0] for a in got]
    assert len(set(addresses)) == len(addresses)  # all alive at once, so all distinct
