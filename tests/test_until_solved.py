import pytest
import torch
from torch import nn

from lstm_course.experiments.lag_study import (
    Chain,
    LagResult,
    build_model,
    longest_majority,
    run_chain,
    run_chains,
    success_counts,
)
from lstm_course.training.until_solved import SolveRun, running_mean, train_until_solved


class _Constant(nn.Module):
    """Predicts a learnable constant: solves a task whose target is constant."""

    def __init__(self):
        super().__init__()
        self.c = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        return self.c.expand(len(x))


def _constant_task(value):
    return lambda n, g: (torch.randn(n, 3, 1, generator=g), torch.full((n,), value))


def _within(tol):
    return lambda out, y: (out - y).abs() < tol


def test_stops_as_soon_as_the_window_is_all_correct():
    # Target 0: the constant starts correct, so the first window of 64 sequences
    # (2 batches of 32) is all correct and training stops after 2 updates.
    run = train_until_solved(_Constant(), _constant_task(0.0), _within(0.04), 100, 1.0, window=64)
    assert run.solved and run.updates == 2
    assert run.test_wrong == 0 and run.test_size == 2560 and run.test_error_rate == 0


def test_runs_the_whole_budget_when_never_correct():
    run = train_until_solved(
        _Constant(), _constant_task(5.0), _within(0.04), 30, 25.0, lr=1e-6, window=64
    )
    assert not run.solved and run.updates == 30 and len(run.losses) == 30
    assert run.test_wrong == 2560 and run.best_loss_ratio >= 0.5  # never left the plateau


def test_learns_then_stops_and_records_losses():
    run = train_until_solved(
        _Constant(), _constant_task(0.5), _within(0.04), 2000, 0.25, lr=0.05, window=320
    )
    assert run.solved and run.updates < 2000
    assert run.losses[0] == pytest.approx(0.25)
    assert run.best_loss_ratio < 0.5 and run.test_wrong == 0  # left the plateau


def test_running_mean():
    assert running_mean([1, 2, 3, 4], 2) == [1.5, 2.5, 3.5]
    assert running_mean([1, 2], 3) == []


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"window": 16}, ValueError),
        ({"max_updates": 0}, ValueError),
        ({"baseline_loss": 0}, ValueError),
    ],
)
def test_rejects_bad_arguments(kwargs, error):
    args = {"max_updates": 5, "baseline_loss": 1.0, **kwargs}
    with pytest.raises(error):
        train_until_solved(_Constant(), _constant_task(0.0), _within(0.04), **args)


# --- the study's chains -----------------------------------------------------------------


@pytest.mark.parametrize("task", ["adding", "memory"])
@pytest.mark.parametrize("contestant", ["RNN", "LSTM b_f=1", "LSTM chrono", "LSTM 1997", "GRU"])
def test_build_model_is_seeded(contestant, task):
    a, b = (build_model(contestant, task, 50, 8, seed=3) for _ in range(2))
    for (name, p), q in zip(a.named_parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q), name
    x = torch.zeros(2, 50, 2 if task == "adding" else 12)
    assert a(x).shape == ((2,) if task == "adding" else (2, 8))


def test_build_model_initializations():
    m = build_model("LSTM b_f=3 b_i=-3", "adding", 50, 4, 0).rnn
    b_i, b_f = m.bias_ih_l0.detach().chunk(4)[:2]
    assert torch.all(b_i == -3) and torch.all(b_f == 3)
    chrono = build_model("LSTM chrono", "adding", 50, 4, 0).rnn.bias_ih_l0.detach().chunk(4)
    half = build_model("LSTM chrono-f", "adding", 50, 4, 0).rnn.bias_ih_l0.detach().chunk(4)
    assert torch.equal(chrono[1], half[1]) and torch.equal(chrono[0], -chrono[1])
    assert not torch.equal(half[0], -half[1])


def test_build_model_rejects_unknowns():
    with pytest.raises(ValueError, match="contestant"):
        build_model("LSTM b_f=9", "adding", 50, 8, 0)
    with pytest.raises(ValueError, match="task"):
        build_model("GRU", "copy", 50, 8, 0)


def _chain(contestant="LSTM chrono", seed=0, lags=(20, 30), budget=3):
    return Chain(contestant, "adding", seed, lags, dict.fromkeys(lags, budget), hidden_size=4)


def test_chain_stops_at_its_first_failure():
    results = run_chain(_chain())  # 3 updates cannot solve anything
    assert [r.lag for r in results] == [20]
    assert not results[0].run.solved and results[0].run.updates == 3
    assert results[0].parameters == 4 * (4 * 2 + 4 * 4 + 2 * 4) + 4 + 1


def test_chains_give_the_same_numbers_side_by_side_and_alone():
    chains = [_chain(seed=0), _chain("GRU", seed=1)]
    alone = run_chains(chains, workers=1, progress=False)
    side_by_side = run_chains(chains, workers=2, progress=False)
    assert [r.run.losses for r in alone] == [r.run.losses for r in side_by_side]


def _result(contestant, seed, lag, solved):
    run = SolveRun(solved, 1, 0.0 if solved else 1.0, 0, 1, 0.0, 0.0, ())
    return LagResult(contestant, "adding", lag, seed, 4, 1, run)


def test_success_counts_and_longest_majority():
    results = [
        _result("A", 0, 50, True),
        _result("A", 0, 100, True),
        _result("A", 0, 200, False),
        _result("A", 1, 50, True),
        _result("A", 1, 100, False),
        _result("A", 2, 50, True),
        _result("A", 2, 100, True),
        _result("A", 2, 200, True),
    ]
    counts = success_counts(results, "adding", "A", [50, 100, 200, 500])
    assert counts == {50: (3, 3), 100: (2, 3), 200: (1, 3), 500: (0, 3)}
    assert longest_majority(counts) == 100
    assert longest_majority({50: (1, 3)}) == 0


def test_best_loss_ratio():
    run = train_until_solved(
        _Constant(), _constant_task(0.5), _within(0.04), 2000, 0.25, lr=0.05, window=320
    )
    assert run.best_loss_ratio < 0.5  # a mean over the whole short run, descent included
    stuck = train_until_solved(
        _Constant(), _constant_task(5.0), _within(0.04), 150, 25.0, lr=1e-6, window=64
    )
    assert stuck.best_loss_ratio == pytest.approx(1.0, rel=1e-3)
