"""The long-lag study of ``07_long_lags``: which network, started how, learns which lag.

A *contestant* is an architecture with its initialization (:data:`CONTESTANTS`); a
*chain* trains one contestant, one seed, on one task at growing lags, each lag a fresh
network trained by :func:`lstm_course.training.train_until_solved` (the 1997 paper's
stopping rule) within that lag's budget, and stops after the first lag it fails: a
longer gap is not easier, and the lags it skipped count as failures. Chains are
independent, so :func:`run_chains` runs them side by side in worker processes of one
thread each, which on a small CPU is faster than one process with many threads for
networks this small.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from lstm_course.checks import check_int
from lstm_course.experiments.long_lags import (
    ADDING_1997_BASELINE_MSE,
    TOLERANCE_1997,
    SequenceClassifier,
    SequenceRegressor,
    adding_problem_1997,
    remember_first,
)
from lstm_course.layers.initialization import (
    chrono_gru_init_,
    chrono_init_,
    orthogonal_recurrent_,
    remove_forget_gate_,
    set_gate_bias_,
)
from lstm_course.runtime import default_workers, map_in_workers
from lstm_course.training.until_solved import SolveRun, train_until_solved

__all__ = [
    "CONTESTANTS",
    "MEMORY_SYMBOLS",
    "MEMORY_DISTRACTORS",
    "Chain",
    "LagResult",
    "build_model",
    "run_chain",
    "run_chains",
    "success_counts",
    "longest_majority",
]

#: name -> (torch.nn layer, initialization). "LSTM b_f=k" starts the forget gate near
#: sigmoid(k) ("b_i=j": and the input gate near sigmoid(j)); "chrono" is Tallec &
#: Ollivier's (2018) with max_lag = the task's lag, "chrono-f" only its forget half;
#: "LSTM 1997" has its forget gate pinned open (the original cell, no forgetting).
CONTESTANTS = {
    "RNN": ("RNN", "orthogonal"),
    "LSTM b_f=0": ("LSTM", "forget_bias=0"),
    "LSTM b_f=1": ("LSTM", "forget_bias=1"),
    "LSTM b_f=2": ("LSTM", "forget_bias=2"),
    "LSTM b_f=3": ("LSTM", "forget_bias=3"),
    "LSTM b_f=3 b_i=-3": ("LSTM", "forget_bias=3,input_bias=-3"),
    "LSTM chrono": ("LSTM", "chrono"),
    "LSTM chrono-f": ("LSTM", "chrono_forget"),
    "LSTM 1997": ("LSTM", "no_forget_gate"),
    "GRU": ("GRU", "pytorch"),
    "GRU chrono": ("GRU", "chrono_gru"),
}
#: The memory task's sizes: 8 signal symbols (and classes), 4 distractors.
MEMORY_SYMBOLS, MEMORY_DISTRACTORS = 8, 4


def _initialize(rnn: nn.Module, init: str, lag: int, generator: torch.Generator) -> None:
    if init == "orthogonal":
        orthogonal_recurrent_(rnn)
    elif init.startswith("forget_bias="):
        for setting in init.split(","):  # e.g. "forget_bias=3,input_bias=-3"
            gate, value = setting.split("_bias=")
            set_gate_bias_(rnn, gate[0], float(value))
    elif init == "chrono_gru":
        chrono_gru_init_(rnn, lag, generator)
    elif init in ("chrono", "chrono_forget"):
        chrono_init_(rnn, lag, generator, input_gate=init == "chrono")
    elif init == "no_forget_gate":
        remove_forget_gate_(rnn)


def build_model(contestant: str, task: str, lag: int, hidden_size: int, seed: int) -> nn.Module:
    """A seeded, initialized network for ``task`` ("adding" or "memory") at ``lag``:
    a one-layer ``torch.nn`` RNN/LSTM/GRU of ``hidden_size`` units read out at the last
    step, (N, T, D) -> (N,) for the adding problem, (N, T, 12) -> (N, 8) logits for the
    memory task."""
    if contestant not in CONTESTANTS:
        raise ValueError(f"contestant must be one of {list(CONTESTANTS)}, got {contestant!r}")
    kind, init = CONTESTANTS[contestant]
    torch.manual_seed(seed)
    if task == "adding":
        model = SequenceRegressor(kind, 2, hidden_size)
    elif task == "memory":
        inputs = MEMORY_SYMBOLS + MEMORY_DISTRACTORS
        model = SequenceClassifier(kind, inputs, hidden_size, MEMORY_SYMBOLS)
    else:
        raise ValueError(f"task must be 'adding' or 'memory', got {task!r}")
    _initialize(model.rnn, init, lag, torch.Generator().manual_seed(seed))
    return model


def _task(task: str, lag: int):
    """(sample, correct, loss_fn, baseline loss) of a task at a lag."""
    if task == "adding":
        return (
            lambda n, g: adding_problem_1997(n, lag, g),
            lambda out, y: (out - y).abs() < TOLERANCE_1997,
            nn.functional.mse_loss,
            ADDING_1997_BASELINE_MSE,
        )
    return (
        lambda n, g: remember_first(n, lag, MEMORY_SYMBOLS, g, MEMORY_DISTRACTORS),
        lambda out, y: out.argmax(dim=-1) == y,
        nn.functional.cross_entropy,
        math.log(MEMORY_SYMBOLS),
    )


@dataclass(frozen=True)
class Chain:
    """One contestant and seed on one task, at ``lags`` in order, with ``budgets[lag]``
    Adam updates at most per lag (equal for every contestant at a lag)."""

    contestant: str
    task: str
    seed: int
    lags: tuple[int, ...]
    budgets: dict[int, int] = field(hash=False)
    hidden_size: int = 32
    batch_size: int = 32
    lr: float = 1e-3


@dataclass(frozen=True)
class LagResult:
    """One network trained at one lag: the chain's identity and its :class:`SolveRun`."""

    contestant: str
    task: str
    lag: int
    seed: int
    hidden_size: int
    parameters: int
    run: SolveRun


def run_chain(chain: Chain) -> list[LagResult]:
    """Train ``chain``'s contestant at each lag until one fails; the results in order."""
    results = []
    for lag in chain.lags:
        check_int("budget", chain.budgets[lag])
        sample, correct, loss_fn, baseline = _task(chain.task, lag)
        model = build_model(chain.contestant, chain.task, lag, chain.hidden_size, chain.seed)
        run = train_until_solved(
            model,
            sample,
            correct,
            chain.budgets[lag],
            baseline,
            loss_fn=loss_fn,
            batch_size=chain.batch_size,
            lr=chain.lr,
            seed=1000 * chain.seed + lag,
        )
        parameters = sum(p.numel() for p in model.parameters())
        results.append(
            LagResult(
                chain.contestant, chain.task, lag, chain.seed, chain.hidden_size, parameters, run
            )
        )
        if not run.solved:
            break
    return results


def run_chains(
    chains: Sequence[Chain], workers: int | None = None, progress: bool = True
) -> list[LagResult]:
    """Run independent chains in ``workers`` processes of one thread each (default: one
    per CPU core, at most 2), longest budgets first so the last to finish is short.

    Each worker starts fresh ("spawn", :func:`lstm_course.runtime.map_in_workers`), so a
    chain's numbers are the same run alone or beside others. ``workers=1`` runs in this
    process."""
    workers = workers or min(2, default_workers())
    order = sorted(chains, key=lambda c: -sum(c.budgets[lag] * lag for lag in c.lags))
    runs = map_in_workers(run_chain, order, workers, progress=progress, desc="chains")
    results = [result for run in runs for result in run]
    return sorted(results, key=lambda r: (r.task, r.contestant, r.seed, r.lag))


def success_counts(
    results: Iterable[LagResult], task: str, contestant: str, lags: Sequence[int]
) -> dict[int, tuple[int, int]]:
    """lag -> (seeds that solved it, seeds in the study) for one contestant; a seed whose
    chain stopped at a shorter lag counts as not solving the longer ones."""
    mine = [r for r in results if r.task == task and r.contestant == contestant]
    seeds = {r.seed for r in mine}
    solved = {(r.seed, r.lag) for r in mine if r.run.solved}
    return {lag: (sum((s, lag) in solved for s in seeds), len(seeds)) for lag in lags}


def longest_majority(counts: dict[int, tuple[int, int]]) -> int:
    """The longest lag solved by a majority of seeds (0 if none)."""
    return max((lag for lag, (k, n) in counts.items() if 2 * k > n), default=0)
