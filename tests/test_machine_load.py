"""``lstm_course.perf.machine``: the processor's name, and the CPU time of other work
during a block, with this process's children counted as its own."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from lstm_course.perf import machine
from lstm_course.perf.machine import MachineLoad, machine_load, processor_name

BUSY = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.5: pass"


def test_processor_name_is_a_nonempty_string():
    name = processor_name()
    assert isinstance(name, str) and name.strip()


def test_own_work_is_not_counted_as_other_work():
    with machine_load() as load:
        start = time.process_time()
        while time.process_time() - start < 0.5:
            pass
    assert load.own_cpu_seconds >= 0.4
    assert load.wall_seconds >= 0.4
    assert load.cores >= 1
    # the machine's counter holds this process's work too (clock ticks of 10 ms)
    assert load.machine_cpu_seconds >= load.own_cpu_seconds - 0.1


@pytest.mark.skipif(sys.platform == "win32", reason="Windows reports no child CPU time")
def test_a_waited_child_counts_as_own_work():
    with machine_load() as load:
        subprocess.run([sys.executable, "-c", BUSY], check=True)
    assert load.own_cpu_seconds >= 0.4


def test_other_cores_is_the_machine_time_less_our_own_over_the_wall_time():
    load = MachineLoad(wall_seconds=2.0, own_cpu_seconds=1.0, machine_cpu_seconds=4.0, cores=4)
    assert load.other_cores == pytest.approx(1.5)
    # counters read a moment apart can put our own time above the machine's: never < 0
    assert MachineLoad(1.0, 1.0, 0.9, 2).other_cores == 0.0
    assert MachineLoad().other_cores == 0.0


def test_other_work_is_seen(monkeypatch):
    """A machine counter that runs 3 s ahead of our own over the block."""
    readings = iter([100.0, 103.0])
    monkeypatch.setattr(machine, "_machine_cpu_seconds", lambda: next(readings))
    monkeypatch.setattr(machine, "_own_cpu_seconds", lambda: 0.0)
    with machine_load() as load:
        time.sleep(0.01)
    assert load.machine_cpu_seconds == pytest.approx(3.0)
    assert load.other_cores == pytest.approx(3.0 / load.wall_seconds)
