"""What ``torch.compile`` costs before the compiled LSTM's first step, cold and warm.

TorchInductor keeps what it generates (C++ sources, compiled libraries, autotuning
results) in an on-disk cache, ``TORCHINDUCTOR_CACHE_DIR``, and reuses it across
processes. So a compile time means little without the cache's state:

- **cold**: a fresh process with an empty cache directory, what a new environment
  (a new Colab session, a CI machine) pays for each new shape;
- **warm**: a second fresh process on the same directory, what a rerun pays.

Each is measured in a process of its own (``python -m lstm_course.perf.compile_cost T B D
H``), which prints the seconds of the first forward + backward pass of the compiled
module (``lstm_course.perf.steps.torch_step``) as one line of JSON.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass

from lstm_course.perf.steps import torch_step
from lstm_course.perf.timing import run_worker

__all__ = ["CompileCost", "compile_cost", "first_step_seconds"]


@dataclass(frozen=True)
class CompileCost:
    """Seconds of the compiled module's first step at ``shape`` (T, B, D, H): ``cold``,
    a new process on an empty inductor cache; ``warm``, a new process on the cache the
    cold one filled."""

    shape: tuple[int, int, int, int]
    cold: float
    warm: float


def first_step_seconds(T: int, B: int, D: int, H: int) -> float:
    """Seconds of the first forward + backward pass of the compiled module, compile
    included, in this process."""
    step = torch_step("module, torch.compile", T, B, D, H)
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def compile_cost(T: int, B: int, D: int, H: int) -> CompileCost:
    """:class:`CompileCost` at one shape: two fresh processes sharing a new, empty
    inductor cache directory, which is deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="inductor-cache-") as cache:
        env = {"TORCHINDUCTOR_CACHE_DIR": cache, "TRITON_CACHE_DIR": os.path.join(cache, "triton")}
        args = [T, B, D, H]
        cold = run_worker("lstm_course.perf.compile_cost", args, env=env)["seconds"]
        warm = run_worker("lstm_course.perf.compile_cost", args, env=env)["seconds"]
    return CompileCost((T, B, D, H), cold, warm)


if __name__ == "__main__":
    print(json.dumps({"seconds": first_step_seconds(*map(int, sys.argv[1:5]))}))
