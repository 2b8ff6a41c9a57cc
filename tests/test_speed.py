import pytest
import torch

from lstm_course.perf import implementations as speed
from lstm_course.perf import steps
from lstm_course.perf.ceilings import (
    AtRates,
    Ceilings,
    ceilings,
    time_at_rates,
    training_bytes,
    training_flops,
)
from lstm_course.perf.numpy_vs_torch import SideTiming
from lstm_course.perf.timing import Timing, memory_bandwidth_gbs

TINY = (3, 2, 4, 5)
TORCH_NAMES = [n for n in steps.IMPLEMENTATIONS if n != "NumPy (scratch)"]


@pytest.mark.parametrize("name", TORCH_NAMES)
def test_torch_step_fills_gradients_and_resets_them(name):
    step = steps.torch_step(name, *TINY)
    layer, x = step.layer, step.x
    assert step() is None
    first = [p.grad.clone() for p in layer.parameters()] + [x.grad.clone()]
    assert all(torch.isfinite(g).all() and g.abs().sum() > 0 for g in first)
    step()  # zero_grad each time: the same gradients again, not twice them
    for g, p in zip(first, [*layer.parameters(), x], strict=True):
        torch.testing.assert_close(p.grad, g)


def test_every_implementation_computes_the_same_input_gradient():
    # Same seed, and every layer draws its weights uniformly in the same order: the same
    # weights, so the same dx everywhere (float32 tolerance).
    grads = steps.input_gradients(steps.IMPLEMENTATIONS, *TINY)
    assert set(grads) == set(TORCH_NAMES)
    assert grads["nn.LSTM"].abs().sum() > 0
    for name, g in grads.items():
        torch.testing.assert_close(g, grads["nn.LSTM"], atol=1e-5, rtol=1e-4, msg=name)


def test_onednn_flag_is_restored():
    before = torch.backends.mkldnn.enabled
    steps.torch_step("nn.LSTM, oneDNN off", *TINY)()
    assert torch.backends.mkldnn.enabled == before


def test_unknown_implementation():
    with pytest.raises(ValueError, match="unknown implementation 'LSTM'"):
        steps.torch_step("LSTM", *TINY)


def test_available():
    assert steps.available("cpu") == list(steps.IMPLEMENTATIONS)
    assert "module, torch.compile" not in steps.available("cpu", compile=False)
    assert "nn.LSTM, oneDNN off" not in steps.available("meta")


def test_training_bytes_and_time_at_rates():
    T, B, D, H = 10, 4, 3, 5
    # per step and sequence, in float32 numbers: 7H stored and read back, H of dL/dy read,
    # 4H of gate gradients written and read back; x read and dx written (D each)
    numbers = T * B * (2 * 7 * H + H + 2 * 4 * H + 2 * D)
    assert training_bytes(T, B, D, H) == 4 * numbers == 4 * (23 * T * B * H + 2 * T * B * D)
    # x counted once, though the backward pass reads it again for dW_ih: one more input
    # feature adds 2 T B numbers (x and dx), not 3 T B
    assert training_bytes(T, B, D + 1, H) - training_bytes(T, B, D, H) == 4 * 2 * T * B
    at_rates = time_at_rates(T, B, D, H, Ceilings(sgemm_gflops=100.0, bandwidth_gbs=10.0))
    assert isinstance(at_rates, AtRates)
    assert at_rates.compute_ms == pytest.approx(1e3 * training_flops(T, B, D, H) / 100e9)
    assert at_rates.memory_ms == pytest.approx(1e3 * training_bytes(T, B, D, H) / 10e9)


def test_ceilings_are_positive():
    assert memory_bandwidth_gbs(n=1 << 16) > 0
    limits = ceilings()
    assert isinstance(limits, Ceilings)
    assert limits.sgemm_gflops > 0 and limits.bandwidth_gbs > 0
    assert {"numpy", "torch"} <= set(limits.products)
    assert limits.sgemm_gflops == max(limits.products.values())
    # each median lies within its slowest and fastest run
    assert set(limits.product_ranges) == set(limits.products)
    for side, (slowest, fastest) in limits.product_ranges.items():
        assert 0 < slowest <= limits.products[side] <= fastest


def test_measure_point_times_every_implementation():
    point = speed.measure_point(*TINY, steps.available(), repeat=1, warmup=0, rounds=2)
    assert point.shape == TINY and point.rounds == 2
    assert set(point.times) == set(steps.IMPLEMENTATIONS)
    assert all(t > 0 for t in point.times.values())
    assert set(point.spread) == set(point.times)  # NumPy's, from its own process, too
    assert all(lo <= point.times[n] <= hi for n, (lo, hi) in point.spread.items())
    assert set(point.ratio_range) == set(point.times)
    assert all(lo <= hi for lo, hi in point.ratio_range.values())
    assert point.ratio_range["nn.LSTM"] == (1, 1)
    assert point.compile_seconds > 0 and point.compile_error is None
    assert point.ratio("nn.LSTM") == 1
    assert set(point.per_round) == set(point.times) and not point.controls
    assert all(len(ts) == 2 for ts in point.per_round.values())
    for name, (lo, hi) in ((n, point.round_range(n)) for n in point.times):
        assert point.spread[name][0] <= lo <= point.times[name] <= hi <= point.spread[name][1]


def test_measure_point_alternates_the_sides_round_by_round(monkeypatch):
    # Round k: the PyTorch passes side by side, then NumPy in a fresh process. Each side's
    # time is the median of its round medians; the ratio range comes from single rounds.
    calls, torch_ms, numpy_ms = [], iter([1.0, 2.0, 4.0]), iter([3.0, 8.0, 4.0])

    def fake_interleaved(fns, repeat, warmup):
        calls.append("torch")
        t = next(torch_ms)
        return {n: Timing.of([t, t + 0.5]) for n in fns}

    def fake_subprocess(side, shape, repeat, warmup):
        calls.append(side)
        t = next(numpy_ms)
        return SideTiming(side, shape, t, t - 0.5, t + 0.5, 1.0, 1)

    monkeypatch.setattr(speed, "time_interleaved", fake_interleaved)
    monkeypatch.setattr(speed, "measure_in_subprocess", fake_subprocess)
    point = speed.measure_point(*TINY, ["NumPy (scratch)", "nn.LSTM"], rounds=3)
    assert calls == ["torch", "numpy"] * 3
    assert point.times == {"nn.LSTM": 2.25, "NumPy (scratch)": 4.0}
    assert point.spread == {"nn.LSTM": (1.0, 4.5), "NumPy (scratch)": (2.5, 8.5)}
    # per-round ratios: 3 / 1.25, 8 / 2.25, 4 / 4.25
    assert point.ratio_range["NumPy (scratch)"] == pytest.approx((4 / 4.25, 8 / 2.25))


def test_measure_point_times_nn_lstm_alone_as_controls(monkeypatch):
    # Round k: side by side, nn.LSTM alone right after (the same step), then NumPy and
    # nn.LSTM each in a fresh process; the controls stay out of times and ratio_range.
    calls = []

    def fake_interleaved(fns, repeat, warmup):
        calls.append(("side by side", sorted(fns)))
        return {n: Timing.of([2.0, 2.0]) for n in fns}

    def fake_time_it(fn, repeat, warmup):
        calls.append(("alone", fn.layer.__class__.__name__))
        return Timing.of([1.0, 1.0, 1.0 + len(calls)])

    def fake_subprocess(side, shape, repeat, warmup):
        calls.append(("process", side))
        return SideTiming(side, shape, 4.0, 3.0, 5.0, 1.0, 1)

    monkeypatch.setattr(speed, "time_interleaved", fake_interleaved)
    monkeypatch.setattr(speed, "time_it", fake_time_it)
    monkeypatch.setattr(speed, "measure_in_subprocess", fake_subprocess)
    names = ["NumPy (scratch)", "nn.LSTM", "module, autograd"]
    point = speed.measure_point(*TINY, names, rounds=2, controls=True)
    one_round = [
        ("side by side", ["module, autograd", "nn.LSTM"]),
        ("alone", "LSTM"),
        ("process", "numpy"),
        ("process", "torch"),
    ]
    assert calls == one_round * 2
    assert set(point.times) == set(names) == set(point.ratio_range)
    assert point.controls == {speed.ALONE: 1.0, speed.FRESH_PROCESS: 4.0}
    assert point.per_round[speed.ALONE] == [1.0, 1.0]
    assert point.spread[speed.ALONE] == (1.0, 7.0)  # 1 + len(calls) in the second round
    assert point.per_round_ratios(speed.FRESH_PROCESS) == [2.0, 2.0]
    assert point.always_faster(speed.ALONE, "nn.LSTM")
    assert not point.always_faster("nn.LSTM", "module, autograd")  # the same rounds
    assert point.verdict(speed.ALONE, "nn.LSTM") == "faster"
    assert point.verdict(speed.FRESH_PROCESS, speed.ALONE) == "slower"
    assert point.verdict("nn.LSTM", "module, autograd") == "not told apart"
    text = speed.format_point(point, Ceilings(100.0, 10.0))
    assert "alone, fresh process" in text and "x0.50 (0.50-0.50)" in text
    with pytest.raises(ValueError, match="must hold 'nn.LSTM'"):
        speed.measure_point(*TINY, ["module, autograd"], controls=True)


def test_measure_point_controls_off_the_cpu_skip_the_fresh_process(monkeypatch):
    # The fresh process's worker times the CPU only: on a GPU only the in-process control.
    def cpu_step(name, T, B, D, H, device):
        return steps.torch_step(name, T, B, D, H, "cpu")

    monkeypatch.setattr(speed, "torch_step", cpu_step)
    monkeypatch.setattr(speed, "measure_in_subprocess", pytest.fail)
    point = speed.measure_point(
        *TINY, ["nn.LSTM"], device="cuda", repeat=1, warmup=0, rounds=1, controls=True
    )
    assert set(point.controls) == {speed.ALONE}


def test_measure_point_survives_a_failing_compiler(monkeypatch):
    def broken(model, *args, **kwargs):
        def call(*a, **k):
            raise RuntimeError("no C++ compiler")

        return call

    monkeypatch.setattr(torch, "compile", broken)
    point = speed.measure_point(*TINY, ["nn.LSTM", "module, torch.compile"], repeat=1, warmup=0)
    assert set(point.times) == {"nn.LSTM"} and point.compile_seconds is None
    assert point.compile_error == "RuntimeError: no C++ compiler"
    assert "failed here, left out" in speed.format_point(point, Ceilings(100.0, 10.0))


def test_sweep_rows():
    rows = speed.sweep(
        [(2, 1, 3, 4), (3, 2, 3, 4)], ["nn.LSTM"], repeat=1, warmup=0, progress=False
    )
    assert [r.shape for r in rows] == [(2, 1, 3, 4), (3, 2, 3, 4)]
    assert all(r.times["nn.LSTM"] > 0 for r in rows)


def test_packed_vs_padded():
    before = torch.backends.mkldnn.enabled
    result = speed.packed_vs_padded(8, 6, 3, 4, repeat=1, warmup=0, rounds=3)
    assert result.padded > 0 and result.packed > 0
    assert result.padded_onednn_off > 0 and result.packed_onednn_off > 0  # on the CPU
    assert torch.backends.mkldnn.enabled == before  # the switch is restored
    assert 0.25 <= result.real_fraction <= 1
    assert result.rounds == 3 and set(result.per_round) == {
        "padded",
        "packed",
        "padded_onednn_off",
        "packed_onednn_off",
    }
    assert all(len(ts) == 3 for ts in result.per_round.values())
    assert sorted(result.per_round["packed"])[1] == result.packed  # the median of 3 rounds
    pairs = zip(result.per_round["packed"], result.per_round["padded"], strict=True)
    assert result.per_round_ratios("packed", "padded") == [a / b for a, b in pairs]
    slowest_padded, fastest_packed = (
        result.round_range("padded")[1],
        result.round_range("packed")[0],
    )
    assert result.always_faster("padded", "packed") == (slowest_padded < fastest_packed)


def test_format_point():
    limits = Ceilings(sgemm_gflops=100.0, bandwidth_gbs=10.0)
    point = speed.PointResult(
        (80, 32, 128, 128),
        {"nn.LSTM": 0.002, "module, autograd": 0.006},
        spread={"nn.LSTM": (0.0019, 0.0025)},
        compile_seconds=12.0,
        ratio_range={"nn.LSTM": (1.0, 1.0), "NumPy (scratch)": (1.5, 2.5)},
        rounds=3,
    )
    text = speed.format_point(point, limits)
    lines = text.splitlines()
    assert "range (ms)" in lines[0] and "per round" in lines[0]
    assert lines[1].startswith("nn.LSTM") and " 1.00 " in lines[1] and " 1.90-2.50 " in lines[1]
    assert " 1.00-1.00 " in lines[1]
    assert lines[2].startswith("module, autograd") and " 3.00 " in lines[2]
    assert "-" not in lines[2].removeprefix("module, autograd")  # no spread, no range
    assert "3 rounds" in text
    assert "took 12.0 s" in text and "lower bound" not in text
    assert "at the measured rates (references, not bounds)" in text
    assert max(len(line) for line in lines) <= 88
