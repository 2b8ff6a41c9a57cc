"""lstm_course.perf.across_shapes: several shapes timed in the same rounds."""

import pytest

from lstm_course.perf import across_shapes
from lstm_course.perf.across_shapes import ShapesSideBySide, measure_shapes
from lstm_course.perf.timing import Timing

SMALL, LARGE = (3, 2, 4, 5), (3, 4, 4, 5)


def test_measure_shapes_times_every_pair_in_every_round():
    result = measure_shapes(
        [SMALL, LARGE], ["nn.LSTM", "nn.LSTMCell loop"], repeat=1, warmup=0, rounds=2
    )
    assert set(result.per_round) == {
        (n, s) for n in ("nn.LSTM", "nn.LSTMCell loop") for s in (SMALL, LARGE)
    }
    assert all(len(ts) == 2 and min(ts) > 0 for ts in result.per_round.values())
    assert result.time("nn.LSTM", LARGE) == pytest.approx(
        sorted(result.per_round["nn.LSTM", LARGE])[0] / 2
        + sorted(result.per_round["nn.LSTM", LARGE])[1] / 2
    )


def test_every_round_interleaves_all_shapes_in_one_call(monkeypatch):
    # One call of time_interleaved per round, holding every (name, shape): the shapes
    # share each round's load, which is the point of timing them together.
    calls = []

    def fake_interleaved(fns, repeat, warmup):
        calls.append(sorted(fns))
        return {key: Timing.of([1.0 + len(calls)]) for key in fns}

    monkeypatch.setattr(across_shapes, "time_interleaved", fake_interleaved)
    result = measure_shapes([SMALL, LARGE], ["nn.LSTM"], rounds=3)
    assert calls == [sorted([("nn.LSTM", SMALL), ("nn.LSTM", LARGE)])] * 3
    assert result.per_round["nn.LSTM", SMALL] == [2.0, 3.0, 4.0]


def test_growth_per_row_divides_by_the_growth_of_the_grid():
    # B doubles: a time that doubles too is a growth per row of 1.
    result = ShapesSideBySide(
        (SMALL, LARGE),
        ("nn.LSTM",),
        2,
        {("nn.LSTM", SMALL): [1.0, 2.0], ("nn.LSTM", LARGE): [2.0, 6.0]},
    )
    assert result.growth_per_row("nn.LSTM", SMALL, LARGE) == pytest.approx([1.0, 1.5])
    assert result.verdict(("nn.LSTM", SMALL), ("nn.LSTM", LARGE)) == "not told apart"


@pytest.mark.parametrize("name", ["NumPy (scratch)", "module, torch.compile"])
def test_measure_shapes_refuses_what_cannot_be_interleaved(name):
    with pytest.raises(ValueError, match="measure_point"):
        measure_shapes([SMALL], ["nn.LSTM", name])


def test_measure_shapes_needs_shapes_and_names():
    with pytest.raises(ValueError, match="at least one"):
        measure_shapes([], ["nn.LSTM"])
