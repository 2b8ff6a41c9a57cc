"""torch.compile's cost, measured in fresh processes on a fresh inductor cache."""

from __future__ import annotations

import os

from lstm_course.perf import compile_cost
from lstm_course.perf.timing import run_worker


def test_run_worker_sets_extra_environment_variables(tmp_path):
    (tmp_path / "probe.py").write_text(
        "import json, os\nprint('noise')\nprint(json.dumps({'v': os.environ['LC_PROBE']}))\n"
    )
    env = {"PYTHONPATH": str(tmp_path), "LC_PROBE": "42"}
    assert run_worker("probe", [], env=env) == {"v": "42"}
    assert "LC_PROBE" not in os.environ


def test_compile_cost_runs_cold_then_warm_on_one_fresh_cache(monkeypatch):
    calls = []

    def fake_worker(module, args, env=None):
        cache = env["TORCHINDUCTOR_CACHE_DIR"]
        calls.append((module, list(args), cache, os.listdir(cache)))
        os.makedirs(os.path.join(cache, f"entry{len(calls)}"))  # what a compile leaves
        return {"seconds": 10.0 / len(calls)}

    monkeypatch.setattr(compile_cost, "run_worker", fake_worker)
    cost = compile_cost.compile_cost(3, 2, 4, 5)
    assert cost == compile_cost.CompileCost((3, 2, 4, 5), cold=10.0, warm=5.0)
    (m1, a1, cache1, seen1), (m2, a2, cache2, seen2) = calls
    assert m1 == m2 == "lstm_course.perf.compile_cost" and a1 == a2 == [3, 2, 4, 5]
    assert cache1 == cache2 and seen1 == [] and seen2 == ["entry1"]  # empty, then reused
    assert not os.path.exists(cache1)  # removed afterwards
