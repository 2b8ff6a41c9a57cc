"""Training on fresh batches until the 1997 paper's stopping rule fires, then a test.

Hochreiter & Schmidhuber (1997) trained each long-lag task until "the 2,000 most recent
sequences were processed correctly" (and the average training error was below 0.01),
then counted the wrong answers on a test set of 2,560 new sequences.
:func:`train_until_solved` does the same with mini-batches of fresh sequences: each
sequence is scored as it is trained on, before the update it contributes to, so the
rule watches sequences the network has never seen.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import torch

from lstm_course.checks import check_bool, check_int, check_positive
from lstm_course.runtime import progress_bar
from lstm_course.training.model_tools import eval_mode

__all__ = ["SolveRun", "train_until_solved", "running_mean"]


@dataclass(frozen=True)
class SolveRun:
    """What :func:`train_until_solved` measured.

    Attributes:
        solved: the stopping rule fired within the budget.
        updates: Adam updates made: to solve, or the whole budget.
        best_loss_ratio: the lowest running training loss (mean of 100 updates) over
            the baseline loss: about 1 on the plateau, about 0.5 on the adding problem
            for a network that found one of the two values, near 0 when solved.
        test_wrong: test sequences not processed correctly, out of ``test_size``.
        test_size: how many test sequences were scored.
        test_loss: the loss on the test sequences.
        seconds: wall time of the training (not of the test).
        losses: the training loss of every update, in order.
    """

    solved: bool
    updates: int
    best_loss_ratio: float
    test_wrong: int
    test_size: int
    test_loss: float
    seconds: float
    losses: tuple[float, ...]

    @property
    def test_error_rate(self) -> float:
        """The share of test sequences processed wrongly."""
        return self.test_wrong / self.test_size


def running_mean(values, window: int = 100) -> list[float]:
    """Means of ``window`` consecutive values (one per full window), for plateau checks
    and smooth curves."""
    check_int("window", window)
    if len(values) < window:
        return []
    sums = torch.tensor(values, dtype=torch.float64).cumsum(0)
    sums = torch.cat([torch.zeros(1, dtype=torch.float64), sums])
    return ((sums[window:] - sums[:-window]) / window).tolist()


def _test(model, sample, correct, loss_fn, test_size, batch_size, generator):
    wrong, loss, seen = 0, 0.0, 0
    with eval_mode(model), torch.no_grad():
        while seen < test_size:
            x, y = sample(min(batch_size, test_size - seen), generator)
            outputs = model(x)
            wrong += int((~correct(outputs, y)).sum())
            loss += loss_fn(outputs, y).item() * len(y)
            seen += len(y)
    return wrong, loss / seen


def train_until_solved(
    model: torch.nn.Module,
    sample: Callable,
    correct: Callable,
    max_updates: int,
    baseline_loss: float,
    loss_fn: Callable = torch.nn.functional.mse_loss,
    batch_size: int = 32,
    lr: float = 1e-3,
    clip_grad_norm: float = 1.0,
    window: int = 2000,
    test_size: int = 2560,
    seed: int = 0,
    progress: bool = False,
) -> SolveRun:
    """Train with Adam on fresh batches until the last ``window`` sequences were all
    correct, or ``max_updates`` updates were made; then score ``test_size`` new ones.

    Args:
        model: maps (N, T, D) inputs to what ``loss_fn`` and ``correct`` compare with
            the targets: (N,) predictions for the MSE, (N, C) logits for cross-entropy.
        sample: ``sample(n, generator) -> (x, y)``, e.g.
            ``lambda n, g: adding_problem_1997(n, 100, g)``.
        correct: ``correct(outputs, targets) -> (N,) bools``, e.g. an absolute error
            below 0.04.
        max_updates: the budget, in Adam updates.
        baseline_loss: the loss of a constant guess (e.g. the target's variance), the
            plateau that ``best_loss_ratio`` is measured against.
        window: how many of the most recent training sequences must all be correct
            (the paper's 2,000).
        test_size: the test set's size (the paper's 2,560), drawn from a generator
            seeded apart from training's, so no test sequence is trained on.
        seed: seeds the training stream (``seed``) and the test set (``seed + 10**6``).

    Returns:
        a :class:`SolveRun`. The model is left in training mode.
    """
    check_int("max_updates", max_updates)
    check_int("batch_size", batch_size)
    check_int("window", window, batch_size, why=" (at least one batch)")
    check_int("test_size", test_size)
    check_positive("baseline_loss", baseline_loss)
    check_bool("progress", progress)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    recent: deque[bool] = deque(maxlen=window)
    losses: list[float] = []
    solved = False
    model.train()
    start = time.perf_counter()
    for _ in progress_bar(range(max_updates), progress=progress, leave=False):
        x, y = sample(batch_size, generator)
        outputs = model(x)
        loss = loss_fn(outputs, y)
        recent.extend(correct(outputs.detach(), y).tolist())
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
        optimizer.step()
        losses.append(loss.item())
        if len(recent) == window and all(recent):
            solved = True
            break
    seconds = time.perf_counter() - start
    test_generator = torch.Generator().manual_seed(seed + 10**6)
    wrong, test_loss = _test(model, sample, correct, loss_fn, test_size, batch_size, test_generator)
    model.train()
    smooth = running_mean(losses, min(100, len(losses)))
    return SolveRun(
        solved=solved,
        updates=len(losses),
        best_loss_ratio=min(smooth) / baseline_loss if smooth else float("nan"),
        test_wrong=wrong,
        test_size=test_size,
        test_loss=test_loss,
        seconds=seconds,
        losses=tuple(losses),
    )
