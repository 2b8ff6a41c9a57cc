import ast
import statistics
from pathlib import Path

import pytest
import torch

import lstm_course.perf.timing
from lstm_course.perf.ceilings import training_flops
from lstm_course.perf.cli import main
from lstm_course.perf.numpy_vs_torch import (
    compare_numpy_torch,
    format_comparison,
    measure,
    numpy_time_breakdown,
)
from lstm_course.perf.steps import numpy_lstm_step, torch_lstm_step
from lstm_course.perf.timing import Timing, sgemm_gflops, time_interleaved, time_it

TINY = dict(T=3, B=2, D=4, H=5)


# --- time_it --------------------------------------------------------------------------


@pytest.mark.parametrize(("repeat", "warmup"), [(1, 0), (4, 2), (5, 3)])
def test_time_it_calls_and_fields(repeat, warmup):
    calls = []
    result = time_it(lambda: calls.append(1), repeat=repeat, warmup=warmup)
    assert len(calls) == warmup + repeat
    assert isinstance(result, Timing)
    times = result.times
    assert len(times) == repeat
    assert all(t >= 0 for t in times)
    assert result.min == min(times)
    assert result.max == max(times)
    assert result.median == statistics.median(times)
    assert result.min <= result.median <= result.max


def test_timing_fields_read_as_items_too():
    # Chapters 04_numpy_lstm and 05_torch_lstm index the result as they did when it was a dict.
    result = time_it(lambda: None, repeat=2, warmup=0)
    assert result["median"] == result.median and result["min"] == result.min
    with pytest.raises(KeyError):
        result["of"]


def test_time_it_defaults():
    calls = []
    result = time_it(lambda: calls.append(1))
    assert len(calls) == 13  # 3 warm-ups + 10 timed runs
    assert len(result.times) == 10


@pytest.mark.parametrize(("repeat", "warmup"), [(0, 3), (-1, 0), (3, -1)])
def test_time_it_rejects_bad_counts(repeat, warmup):
    calls = []
    with pytest.raises(ValueError, match="repeat"):
        time_it(lambda: calls.append(1), repeat=repeat, warmup=warmup)
    assert calls == []


def test_time_interleaved_runs_in_rounds():
    order = []
    result = time_interleaved(
        {"a": lambda: order.append("a"), "b": lambda: order.append("b")}, repeat=3, warmup=1
    )
    assert order == ["a", "b"] * 4  # one warm-up round, then three timed rounds
    assert set(result) == {"a", "b"}
    for r in result.values():
        assert len(r.times) == 3 and r.min <= r.median <= r.max


@pytest.mark.parametrize(("fns", "repeat", "warmup"), [({}, 3, 1), ({"a": print}, 0, 1)])
def test_time_interleaved_rejects_bad_input(fns, repeat, warmup):
    with pytest.raises(ValueError):
        time_interleaved(fns, repeat=repeat, warmup=warmup)


# --- NumPy against PyTorch ------------------------------------------------------------


def test_training_flops_counts_six_matrix_products():
    T, B, D, H = 3, 2, 5, 7
    one_product = lambda k: 2 * T * B * 4 * H * k  # noqa: E731
    assert training_flops(T, B, D, H) == 3 * one_product(D) + 3 * one_product(H)


def test_numpy_and_torch_steps_run():
    for make in (numpy_lstm_step, torch_lstm_step):
        step = make(**TINY)
        assert step() is None
        assert step() is None


def test_torch_step_computes_the_input_gradient_like_numpy():
    step = torch_lstm_step(**TINY)
    x = step.x
    step()
    assert x.grad is not None and x.grad.shape == (3, 2, 4)


@pytest.mark.parametrize("side", ["numpy", "torch"])
def test_measure_fields(side):
    r = measure(side, 3, 2, 4, 5, repeat=2, warmup=1)
    assert r.side == side and r.shape == (3, 2, 4, 5)
    assert 0 < r.min <= r.median <= r.max
    assert r.sgemm_gflops > 0 and r.threads >= 1
    if side == "torch" and torch.backends.mkldnn.is_available():
        assert r.onednn_gflops > 0
    else:
        assert r.onednn_gflops is None


def test_compare_needs_a_round():
    with pytest.raises(ValueError, match="rounds"):
        compare_numpy_torch([(2, 2, 3, 4)], rounds=0)


def test_unknown_side_is_rejected():
    with pytest.raises(ValueError, match="unknown side"):
        measure("jax", *TINY.values())
    with pytest.raises(ValueError, match="unknown side"):
        sgemm_gflops("jax", n=8)
    with pytest.raises(ValueError, match="CPU only"):
        sgemm_gflops("numpy", n=8, device="meta")
    with pytest.raises(ValueError, match="CPU only"):
        sgemm_gflops("onednn", n=8, device="meta")


def test_sgemm_gflops_of_each_library():
    assert sgemm_gflops("numpy", n=64, repeat=1) > 0
    assert sgemm_gflops("torch", n=64, repeat=1, device="cpu") > 0
    if torch.backends.mkldnn.is_available():
        assert sgemm_gflops("onednn", n=64, repeat=1) > 0


@pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="no oneDNN in this build")
def test_onednn_product_is_a_times_a_transposed():
    a = torch.randn(32, 32)
    product = torch._C._nn.mkldnn_linear(a.to_mkldnn(), a.to_mkldnn(), None).to_dense()
    assert torch.allclose(product, a @ a.T, atol=1e-4)  # the 2 n^3 FLOPs sgemm_gflops counts


def test_compare_runs_each_side_in_a_subprocess_and_formats():
    rows = compare_numpy_torch([(2, 2, 3, 4)], repeat=1, warmup=0, rounds=2)
    (row,) = rows
    assert row.shape == (2, 2, 3, 4)
    assert row.ratio == pytest.approx(row.numpy_ms / row.torch_ms)
    assert row["ratio"] == row.ratio  # 04_numpy_lstm indexes the rows
    low, high = row.ratio_range
    assert 0 < low <= high
    flops = training_flops(2, 2, 3, 4)
    assert row.numpy_gflops == pytest.approx(flops / row.numpy_ms / 1e6)
    # each side against its own library's product, and PyTorch also against oneDNN's
    assert row.numpy_of_sgemm == pytest.approx(row.numpy_gflops / row.numpy_sgemm)
    assert row.torch_of_sgemm == pytest.approx(row.torch_gflops / row.torch_sgemm)
    if row.onednn_sgemm is not None:
        assert row.torch_of_onednn == pytest.approx(row.torch_gflops / row.onednn_sgemm)
    table = format_comparison(rows)
    assert "(2, 2, 3, 4)" in table and "torch.mm" in table
    assert max(len(line) for line in table.splitlines()) <= 88


def test_breakdown_adds_up():
    parts = numpy_time_breakdown(4, 2, 3, 5, repeat=2)
    assert set(parts) == {
        "total",
        "input projection",
        "recurrent, forward",
        "recurrent, backward",
        "weight gradients",
        "input gradient",
        "everything else",
    }
    for k, whole in enumerate(parts["total"].times):  # round by round
        rest = sum(t.times[k] for name, t in parts.items() if name != "total")
        assert rest == pytest.approx(whole)
    assert all(t.min <= t.median <= t.max for t in parts.values())
    assert all(len(t.times) == 2 for t in parts.values())


def test_worker_prints_one_json_line(capsys):
    main(["--worker", "numpy", "2", "2", "3", "4", "--repeat", "1", "--warmup", "0"])
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and '"side": "numpy"' in out[0]


def test_timing_imports_nothing_else_of_the_course():
    tree = ast.parse(Path(lstm_course.perf.timing.__file__).read_text())
    imported = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ]
    imported += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert imported and not [m for m in imported if m.startswith("lstm_course")]
