"""The 1997 adding problem (Hochreiter & Schmidhuber 1997, sec. 5.4) as the paper defines
it: distribution of values, marks, lengths and targets, checked on many draws."""

import pytest
import torch

from lstm_course.experiments.long_lags import (
    ADDING_1997_BASELINE_MSE,
    MODERN_TOLERANCE,
    TOLERANCE_1997,
    adding_problem,
    adding_problem_1997,
)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _marks(x):
    """Positions of the two +1 markers of each row, (earlier, later) in time. X2 may come
    before X1: both lie among the first T/2 - 1 pairs."""
    cols = (x[..., 1] == 1).nonzero()[:, 1].reshape(len(x), 2)
    return cols[:, 0], cols[:, 1]


def _paper_marks(num_sequences, lag, rng):
    """The paper's text, step by step, one sequence at a time: (X1's position, X2's)."""
    marks = []
    for _ in range(num_sequences):
        x1 = rng.randrange(10)
        x2 = rng.choice([p for p in range(lag // 2 - 1) if p != x1])
        marks.append((x1, x2))
    return marks


@pytest.mark.parametrize("lag", [20, 21, 50, 100, 1000])
def test_structure(lag):
    x, y = adding_problem_1997(256, lag, _gen(lag))
    n, length, two = x.shape
    assert (n, two) == (256, 2) and y.shape == (256,)
    assert lag <= length <= lag + lag // 10
    values, markers = x[..., 0], x[..., 1]
    assert torch.all((values >= -1) & (values <= 1))
    assert torch.all((markers == -1) | (markers == 0) | (markers == 1))
    assert torch.equal((markers == 1).sum(dim=1), torch.full((n,), 2))
    earlier, later = _marks(x)
    # X1 among the first ten pairs, X2 among the first T/2 - 1: the earlier mark is
    # always among the first ten, the later one among the first max(10, T/2 - 1).
    assert torch.all(earlier < 10) and torch.all(later < max(10, lag // 2 - 1))
    # The first and last pairs carry -1 unless marked; no other -1.
    assert torch.all(markers[:, -1] == -1)
    assert torch.all((markers[:, 0] == -1) | (earlier == 0))
    assert torch.equal((markers == -1).sum(dim=1), 2 - (earlier == 0).long())
    rows = torch.arange(n)
    torch.testing.assert_close(y, 0.5 + (values[rows, earlier] + values[rows, later]) / 4)
    assert torch.all((y >= 0) & (y <= 1))


def test_x1_on_the_first_pair_is_zero():
    """X1 is zeroed when it falls on the first pair (probability 1/10); X2 may land there
    too (probability 9/10 * 1/(T/2 - 2)) and keeps its value, so among sequences whose
    first pair is marked, a share 0.1 / (0.1 + 0.9 / (T/2 - 2)) start with a zero."""
    lag = 40
    x, _ = adding_problem_1997(40_000, lag, _gen(1))
    hit = x[:, 0, 1] == 1
    zero_share = (x[hit, 0, 0] == 0).float().mean().item()
    assert abs(zero_share - 0.1 / (0.1 + 0.9 / (lag // 2 - 2))) < 0.03
    assert torch.all(x[~hit, 0, 0] != 0)


@pytest.mark.parametrize("lag", [20, 40, 100])
def test_mark_positions_follow_the_papers_text(lag):
    """The positions of the earlier and the later mark have the same distribution as
    the paper's procedure written out literally (total variation below 0.03)."""
    import random

    n = 20_000
    earlier, later = _marks(adding_problem_1997(n, lag, _gen(lag))[0])
    paper = _paper_marks(n, lag, random.Random(lag))
    paper_earlier = torch.tensor([min(p) for p in paper])
    paper_later = torch.tensor([max(p) for p in paper])
    size = max(10, lag // 2 - 1)
    for ours, theirs in [(earlier, paper_earlier), (later, paper_later)]:
        p = torch.bincount(ours, minlength=size).float() / n
        q = torch.bincount(theirs, minlength=size).float() / n
        assert 0.5 * (p - q).abs().sum() < 0.03
    # The first pair is marked with the paper's probability, 1/10 + 9/10 * 1/(T/2 - 2).
    expected = 0.1 + 0.9 / (lag // 2 - 2)
    assert abs((earlier == 0).float().mean().item() - expected) < 0.01


def test_lengths_are_uniform_over_batches():
    lengths = [adding_problem_1997(1, 100, g := _gen(s))[0].shape[1] for s in range(3000)]
    del g
    counts = torch.bincount(torch.tensor(lengths) - 100, minlength=11).float() / 3000
    assert torch.allclose(counts, torch.full((11,), 1 / 11), atol=0.03)


def test_baseline_mse_is_the_target_variance():
    _, y = adding_problem_1997(400_000, 40, _gen(3))
    assert abs(y.mean().item() - 0.5) < 2e-3
    assert abs(((y - 0.5) ** 2).mean().item() - ADDING_1997_BASELINE_MSE) < 1e-3


def test_tolerances_are_equivalent():
    """A constant guess of the mean lands inside the paper's band as often as inside the
    variant's band at MODERN_TOLERANCE: the two criteria are the same on their scales."""
    _, y97 = adding_problem_1997(400_000, 40, _gen(4))
    _, y = adding_problem(400_000, 40, _gen(5))
    share_1997 = ((y97 - 0.5).abs() < TOLERANCE_1997).float().mean().item()
    share_modern = ((y - 1.0).abs() < MODERN_TOLERANCE).float().mean().item()
    # Exactly 1 - (1 - 0.08)^2 = 0.1536 for the variant; the 1997 task's X1 = 0 case
    # (one time in ten) moves its share to 0.9 * 0.1536 + 0.1 * 0.16.
    assert abs(share_modern - 0.1536) < 3e-3
    assert abs(share_1997 - (0.9 * 0.1536 + 0.1 * 0.16)) < 3e-3


def test_fixed_length_and_reproducible():
    a = adding_problem_1997(8, 50, _gen(6), length=53)
    b = adding_problem_1997(8, 50, _gen(6), length=53)
    assert a[0].shape == (8, 53, 2)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


@pytest.mark.parametrize(
    ("lag", "length", "error", "match"),
    [
        (19, None, ValueError, "lag"),
        (50.0, None, TypeError, "lag"),
        (50, 49, ValueError, "length"),
        (50, 56, ValueError, r"\[50, 55\]"),
    ],
)
def test_rejects_bad_sizes(lag, length, error, match):
    with pytest.raises(error, match=match):
        adding_problem_1997(4, lag, _gen(), length=length)
