"""Which processor ran a timing, and how busy the rest of the machine was meanwhile.

A timing taken while other work shares the cores can come out slower by any factor (on
two cores, two jobs whose threads spin-wait can each run many times slower). Chapter
``06_lstm_speed`` prints both next to its main table, so that a reader can tell a quiet
run from a crowded one.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

__all__ = ["processor_name", "MachineLoad", "machine_load"]


def processor_name() -> str:
    """The processor's model as the operating system reports it: the first ``model name``
    of ``/proc/cpuinfo`` on Linux, ``platform.processor()`` elsewhere, ``"unknown"`` where
    neither says."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                return value.strip()
    return platform.processor() or "unknown"


def _own_cpu_seconds() -> float:
    """CPU seconds of this process and of the child processes it has waited for."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


# Not busy, or counted already: Linux counts a guest's time in ``user`` too, and steal
# is time the hypervisor gave to other machines.
_NOT_BUSY = {"idle", "iowait", "guest", "guest_nice", "steal"}


def _machine_cpu_seconds() -> float:
    """CPU seconds every process on the machine has used since boot."""
    t = psutil.cpu_times()
    return sum(getattr(t, f) for f in t._fields if f not in _NOT_BUSY)


@dataclass
class MachineLoad:
    """What :func:`machine_load` measured over its block: ``wall_seconds``, the block's
    length; ``own_cpu_seconds``, the CPU time of this process and of the child processes
    it waited for; ``machine_cpu_seconds``, every process's; ``cores``, the machine's
    logical cores. Filled in when the block ends."""

    wall_seconds: float = 0.0
    own_cpu_seconds: float = 0.0
    machine_cpu_seconds: float = 0.0
    cores: int = 1

    @property
    def other_cores(self) -> float:
        """The average number of cores busy with other work during the block: the
        machine's CPU time less this process's (and its children's), over the wall time.
        Near 0 on a quiet machine. Where the system does not report children's CPU time
        (Windows), the child processes count as other work."""
        if self.wall_seconds <= 0:
            return 0.0
        return max(0.0, self.machine_cpu_seconds - self.own_cpu_seconds) / self.wall_seconds


@contextmanager
def machine_load() -> Iterator[MachineLoad]:
    """``with machine_load() as load: ...`` measures, over the block, the CPU time this
    process (with its waited-for children) used and the CPU time the whole machine used;
    afterwards ``load`` is a filled :class:`MachineLoad`."""
    load = MachineLoad(cores=psutil.cpu_count() or 1)
    wall, own, machine = time.perf_counter(), _own_cpu_seconds(), _machine_cpu_seconds()
    try:
        yield load
    finally:
        load.wall_seconds = time.perf_counter() - wall
        load.own_cpu_seconds = _own_cpu_seconds() - own
        load.machine_cpu_seconds = _machine_cpu_seconds() - machine
