import numpy as np
import pytest
import torch

from lstm_course.experiments.common_mistakes import (
    ClippingArm,
    Standardizer,
    chronological_split,
    clipping_grid,
    clipping_run,
    graph_size,
    sliding_windows,
)


def test_graph_size_grows_with_carried_state_and_resets_after_detach():
    lstm = torch.nn.LSTM(2, 3)
    x = torch.randn(4, 1, 2)
    state, sizes, detached = None, [], []
    for _ in range(3):
        out, state = lstm(x, state)
        sizes.append(graph_size(out.sum()))
    state = None
    for _ in range(3):
        out, state = lstm(x, state)
        detached.append(graph_size(out.sum()))
        state = tuple(s.detach() for s in state)
    assert sizes[0] < sizes[1] < sizes[2]
    assert detached[0] == detached[1] == detached[2] == sizes[0]
    assert graph_size(torch.zeros(3)) == 0
    with pytest.raises(TypeError, match="graph_size needs a tensor, got list"):
        graph_size([1.0])


def test_chronological_split_keeps_order_and_covers_everything():
    s = np.arange(100)
    tr, va, te = chronological_split(s, 0.6, 0.2)
    assert (len(tr), len(va), len(te)) == (60, 20, 20)
    assert np.array_equal(np.concatenate([tr, va, te]), s)
    assert tr.max() < va.min() and va.max() < te.min()
    with pytest.raises(ValueError, match="empty"):
        chronological_split(s, 0.9, 0.1)
    with pytest.raises(
        ValueError, match="train must be a fraction strictly between 0 and 1, got 1.5$"
    ):
        chronological_split(s, 1.5, 0.1)
    with pytest.raises(
        TypeError, match=r"val must be a fraction strictly between 0 and 1, got '0.1' \(str\)"
    ):
        chronological_split(s, 0.5, "0.1")


def test_standardizer_uses_train_statistics_only():
    train = np.array([0.0, 2.0, 4.0])
    scaler = Standardizer().fit(train)
    assert scaler.transform(train).mean() == pytest.approx(0.0)
    assert scaler.transform(train).std() == pytest.approx(1.0)
    # a later value is scaled with the train statistics, not its own
    assert scaler.transform([10.0])[0] == pytest.approx((10 - 2) / np.std(train))
    z = scaler.transform([1.0, 7.0])
    assert np.allclose(scaler.inverse_transform(z), [1.0, 7.0])
    two = Standardizer().fit(np.array([[0.0, 1.0], [2.0, 5.0]]))
    assert two.mean.shape == (2,)
    with pytest.raises(ValueError, match="not fitted"):
        Standardizer().transform([1.0])
    with pytest.raises(ValueError, match="constant"):
        Standardizer().fit([3.0, 3.0])


@pytest.mark.parametrize("as_tensor", [False, True])
def test_sliding_windows_targets_follow_inputs(as_tensor):
    s = np.arange(10.0)
    if as_tensor:
        s = torch.arange(10.0)
    x, y = sliding_windows(s, 3, horizon=2)
    assert tuple(x.shape) == (6, 3) and tuple(y.shape) == (6,)
    assert list(x[0]) == [0, 1, 2] and float(y[0]) == 4.0
    assert float(y[-1]) == 9.0
    assert isinstance(x, torch.Tensor) == as_tensor
    x2, y2 = sliding_windows(np.zeros((10, 2)), 4)
    assert x2.shape == (6, 4, 2) and y2.shape == (6, 2)
    with pytest.raises(ValueError, match="at least"):
        sliding_windows(s, 9, horizon=2)
    with pytest.raises(ValueError, match="length must be an int >= 1, got 0$"):
        sliding_windows(s, 0)
    with pytest.raises(TypeError, match=r"horizon must be an int >= 1, got 1.5 \(float\)"):
        sliding_windows(s, 3, horizon=1.5)


def test_clipping_run_pairs_arms_and_stops_at_divergence():
    norms, losses = clipping_run(0.1, None, seed=0, steps=5, length=10, hidden_size=4)
    assert norms.shape == losses.shape == (5,)
    clipped_norms, clipped_losses = clipping_run(0.1, 1e6, 0, 5, length=10, hidden_size=4)
    # a threshold never reached changes nothing: same weights, same batches
    assert np.allclose(losses, clipped_losses) and np.allclose(norms, clipped_norms)
    _, big = clipping_run(1e6, None, 0, 50, length=10, hidden_size=4)
    assert len(big) < 50 and not np.isfinite(big[-1])
    _, capped = clipping_run(1e6, 1e-6, 0, 50, length=10, hidden_size=4)
    assert len(capped) == 50 and np.all(np.isfinite(capped))
    with pytest.raises(ValueError, match="lr must be"):
        clipping_run(0.0, None, 0, 5)
    with pytest.raises(ValueError, match="max_norm must be"):
        clipping_run(0.1, -1.0, 0, 5)


def test_clipping_arm_counts_divergence_and_summarizes_the_rest():
    ok = (np.ones(3), np.array([1.0, 0.5, 0.25]))
    stopped = (np.ones(2), np.array([1.0, np.inf]))
    blown = (np.ones(3), np.array([1.0, 50.0, 60.0]))
    arm = ClippingArm(1.0, None, (0, 1, 2), (ok, stopped, blown), last=2)
    assert arm.final_losses[0] == pytest.approx(0.375)
    assert list(arm.diverged_mask) == [False, True, True] and arm.diverged == 2
    mean, sd = arm.summary()
    assert mean == pytest.approx(0.375) and np.isnan(sd)
    assert np.isnan(ClippingArm(1.0, None, (1,), (stopped,)).summary()[0])


def test_clipping_grid_orders_arms_and_checks_arguments():
    arms = clipping_grid([0.1, 0.2], 1.0, seeds=2, steps=3, last=2, length=10, hidden_size=4)
    assert [(a.lr, a.max_norm) for a in arms] == [(0.1, None), (0.1, 1.0), (0.2, None), (0.2, 1.0)]
    assert all(len(a.runs) == 2 and a.seeds == (0, 1) for a in arms)
    with pytest.raises(ValueError, match="at least one"):
        clipping_grid([], 1.0, 2, 3)
    with pytest.raises(ValueError, match="must not exceed"):
        clipping_grid([0.1], 1.0, 2, 3, last=5)
