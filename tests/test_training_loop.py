import math

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from lstm_course.data.batching import batchify, bptt_batches
from lstm_course.training.epoch import evaluate, to_device
from lstm_course.training.loop import fit
from lstm_course.training.metrics import History, accuracy, binary_accuracy, multiclass_accuracy


def separable_loaders(n=128, seed=0):
    """Two classes split by the line x0 + x1 = 0, with a clear margin."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 2, generator=g)
    x = x[(x.sum(1)).abs() > 0.3]
    y = (x.sum(1) > 0).float()
    data = TensorDataset(x, y)
    train = DataLoader(data, batch_size=16, shuffle=True, generator=g)
    val = DataLoader(data, batch_size=64)
    return train, val


class Logistic(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)
        self.modes = []  # self.training at every forward call

    def forward(self, x):
        self.modes.append(self.training)
        return self.linear(x).squeeze(-1)


def train_logistic(**kwargs):
    torch.manual_seed(0)
    model = Logistic()
    train, val = separable_loaders()
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    args = dict(val_loader=val, metrics={"accuracy": accuracy}, progress=False)
    args.update(kwargs)
    history = fit(model, train, nn.BCEWithLogitsLoss(), opt, **args)
    return model, history, val


# --- learning -------------------------------------------------------------------------


def test_fit_learns_a_separable_problem():
    model, history, val = train_logistic(epochs=20)
    assert history.train_loss[-1] < 0.2 * history.train_loss[0]
    assert history.val_accuracy[-1] == 1.0
    assert history["train_accuracy"][-1] > 0.95
    scores = evaluate(model, val, nn.BCEWithLogitsLoss(), {"accuracy": accuracy})
    assert scores["accuracy"] == 1.0 and scores["loss"] == pytest.approx(history.val_loss[-1])


def test_history_has_one_entry_per_epoch():
    _, history, _ = train_logistic(epochs=3)
    for name in ("train_loss", "val_loss", "train_accuracy", "val_accuracy", "epoch_time", "lr"):
        assert len(history[name]) == 3, name
    assert history.epochs == [1, 2, 3]
    assert history.best_epoch in (1, 2, 3) and not history.stopped_early
    assert history.elapsed >= sum(history.epoch_time) > 0
    flat = history.as_dict()
    assert flat["val_accuracy"] == history.val_accuracy and flat["best_epoch"] == history.best_epoch
    with pytest.raises(KeyError, match="val_f1"):
        history["val_f1"]
    with pytest.raises(AttributeError):
        _ = history.val_f1


def test_fit_without_validation():
    _, history, _ = train_logistic(epochs=2, val_loader=None)
    assert history.val_loss == [] and history.best_epoch is None
    assert "val_accuracy" not in history.metrics and len(history.train_accuracy) == 2


def test_language_model_batches_from_text_module():
    # A periodic stream 0 1 2 3 4 0 1 ...: the next token is always predictable.
    torch.manual_seed(0)
    windows = bptt_batches(batchify(torch.arange(400) % 5, batch_size=4), bptt=10)

    class TinyLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(5, 8)
            self.lstm = nn.LSTM(8, 16)
            self.head = nn.Linear(16, 5)

        def forward(self, x):  # (T, B) -> (T, B, V)
            return self.head(self.lstm(self.embed(x))[0])

    def lm_loss(logits, targets):
        return nn.functional.cross_entropy(logits.reshape(-1, 5), targets.reshape(-1))

    model = TinyLM()
    opt = torch.optim.Adam(model.parameters(), lr=0.03)
    history = fit(
        model,
        windows,
        lm_loss,
        opt,
        epochs=3,
        val_loader=windows,
        metrics={"accuracy": accuracy},
        clip_grad_norm=1.0,
        progress=False,
    )
    assert history.val_accuracy[-1] == 1.0 and history.val_loss[-1] < 0.1


# --- inputs, devices, steps, schedulers -----------------------------------------------


def test_tuple_inputs_are_unpacked_into_the_model_call():
    class TakesTwo(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.ones(1))

        def forward(self, x, lengths):
            return self.scale * x.sum(1) / lengths

    x, lengths, y = torch.ones(4, 3), torch.tensor([1.0, 2.0, 3.0, 3.0]), torch.ones(4)
    model = TakesTwo()
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    history = fit(model, [((x, lengths), y)], nn.MSELoss(), opt, epochs=1, progress=False)
    expected = nn.functional.mse_loss(x.sum(1) / lengths, y).item()
    assert history.train_loss[0] == pytest.approx(expected)

    doubled = fit(
        model,
        [((x, lengths), y)],
        nn.MSELoss(),
        opt,
        epochs=1,
        progress=False,
        forward=lambda m, inputs: 2 * m(*inputs),
    )
    assert doubled.train_loss[0] == pytest.approx(
        nn.functional.mse_loss(2 * x.sum(1) / lengths, y).item()
    )


def test_step_fn_replaces_the_loss_and_may_return_outputs():
    calls = []

    def step(model, inputs, targets):
        calls.append(inputs.shape)
        outputs = model(inputs)
        return nn.functional.binary_cross_entropy_with_logits(outputs, targets), outputs

    _, history, _ = train_logistic(epochs=2, step_fn=step, val_loader=None)
    assert len(calls) > 0 and len(history.train_accuracy) == 2

    _, history, _ = train_logistic(
        epochs=1, step_fn=lambda m, x, y: m(x).pow(2).mean(), val_loader=None
    )
    assert math.isnan(history.train_accuracy[0])  # no outputs returned, nothing to score
    assert len(history.train_loss) == 1


def test_scheduler_steps_once_per_epoch_and_lr_is_recorded():
    torch.manual_seed(0)
    model = Logistic()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    train, val = separable_loaders()
    history = fit(model, train, nn.BCEWithLogitsLoss(), opt, 3, scheduler=sched, progress=False)
    assert history.lr == pytest.approx([0.1, 0.05, 0.025])

    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    fit(
        model,
        train,
        nn.BCEWithLogitsLoss(),
        opt,
        2,
        val_loader=val,
        scheduler=plateau,
        progress=False,
    )  # would raise if step() got no value


def test_device_argument_and_to_device():
    _, history, _ = train_logistic(epochs=1, device="cpu")
    assert len(history.train_loss) == 1
    nested = to_device({"a": (torch.ones(1), [torch.zeros(2)]), "b": 3}, torch.device("cpu"))
    assert isinstance(nested["a"], tuple) and nested["a"][1][0].shape == (2,) and nested["b"] == 3


# --- clipping -------------------------------------------------------------------------


def grad_norms_seen_by_optimizer(clip):
    torch.manual_seed(0)
    model = nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=1e-6)
    norms = []

    def record(optimizer, args, kwargs):
        grads = [p.grad for p in model.parameters()]
        norms.append(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads])).item())

    opt.register_step_pre_hook(record)
    x, y = torch.randn(32, 2) * 100, torch.randn(32, 1) * 1000  # huge gradients
    loader = DataLoader(TensorDataset(x, y), batch_size=8)
    fit(model, loader, nn.MSELoss(), opt, epochs=2, clip_grad_norm=clip, progress=False)
    return norms


def test_clip_grad_norm_bounds_the_total_norm():
    unclipped = grad_norms_seen_by_optimizer(None)
    clipped = grad_norms_seen_by_optimizer(1.0)
    assert len(clipped) == 8 and min(unclipped) > 100
    assert max(clipped) == pytest.approx(1.0, rel=1e-4)


# --- evaluation mode --------------------------------------------------------------------


def test_evaluation_runs_in_eval_mode_and_training_resumes_in_train_mode():
    model, history, val = train_logistic(epochs=2)
    batches_per_epoch = len(separable_loaders()[0])
    val_batches = len(val)
    per_epoch = [True] * batches_per_epoch + [False] * val_batches
    assert model.modes == per_epoch * 2
    assert model.training  # left ready for more training

    model.eval()
    evaluate(model, val, nn.BCEWithLogitsLoss())
    assert not model.training  # evaluate restores the mode it found


def test_evaluate_averages_over_examples_not_batches():
    model = nn.Linear(1, 1)
    x, y = torch.arange(5.0).reshape(5, 1), torch.zeros(5, 1)
    uneven = DataLoader(TensorDataset(x, y), batch_size=3)  # batches of 3 and 2
    with torch.no_grad():
        full = nn.functional.mse_loss(model(x), y).item()
    assert evaluate(model, uneven, nn.MSELoss())["loss"] == pytest.approx(full)
    with pytest.raises(ValueError, match="empty"):
        evaluate(model, [], nn.MSELoss())


# --- early stopping ---------------------------------------------------------------------


def early_stopping_run(**kwargs):
    """w starts at 0 and SGD moves it toward the train target 1 (0.2, 0.36, 0.49, ...).

    The validation target is 0.2, so val loss is best after epoch 1 and rises after.
    """
    model = nn.Linear(1, 1, bias=False)
    nn.init.zeros_(model.weight)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    one = torch.ones(1, 1)
    train, val = [(one, one)], [(one, 0.2 * one)]
    args = dict(epochs=10, val_loader=val, early_stopping=2, progress=False)
    args.update(kwargs)
    history = fit(model, train, nn.MSELoss(), opt, **args)
    return model.weight.item(), history


def test_early_stopping_stops_and_restores_the_best_weights():
    weight, history = early_stopping_run()
    assert history.stopped_early and history.best_epoch == 1
    assert len(history.train_loss) == len(history.val_loss) == 3
    assert history.val_loss[0] < history.val_loss[1] < history.val_loss[2]
    assert weight == pytest.approx(0.2)


def test_early_stopping_without_restore_keeps_the_last_weights():
    weight, history = early_stopping_run(restore_best=False)
    assert history.stopped_early and weight == pytest.approx(0.488)


def test_early_stopping_on_a_metric_to_maximize():
    closeness = {"closeness": lambda out, y: -(out - y).abs().mean()}
    weight, history = early_stopping_run(metrics=closeness, monitor="val_closeness")
    assert history.best_epoch == 1 and history.stopped_early and weight == pytest.approx(0.2)
    # Minimizing closeness is the wrong way round: epoch 1 is then the worst.
    _, history = early_stopping_run(metrics=closeness, monitor="val_closeness", mode="min")
    assert not history.stopped_early


def test_no_early_stopping_runs_all_epochs_but_tracks_the_best():
    weight, history = early_stopping_run(early_stopping=None, epochs=4)
    assert len(history.train_loss) == 4 and history.best_epoch == 1 and not history.stopped_early
    assert weight > 0.5  # no restore without early stopping


# --- progress ---------------------------------------------------------------------------


def test_progress_false_prints_nothing(capsys):
    train_logistic(epochs=2)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_progress_bar_shows_epochs_and_loss(capsys):
    early_stopping_run(progress=True)
    err = capsys.readouterr().err
    assert "epoch 1/10" in err and "loss=" in err and "val_loss=" in err


# --- bad arguments ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"epochs": 0}, "epochs must be an int >= 1, got 0$"),
        ({"clip_grad_norm": -1.0}, "clip_grad_norm must be a finite number > 0, got -1.0$"),
        ({"clip_grad_norm": 0}, "clip_grad_norm must be a finite number > 0, got 0$"),
        ({"clip_grad_norm": math.inf}, "clip_grad_norm must be a finite number > 0, got inf$"),
        (
            {"early_stopping": 0},
            r"early_stopping must be an int >= 1 \(a patience, in epochs\) "
            "or None, got 0$",
        ),
        ({"mode": "biggest"}, "mode must be 'auto', 'min' or 'max'"),
        ({"monitor": "val_f1"}, "monitor='val_f1' is not measured"),
        ({"metrics": {"loss": accuracy}}, "bad entry 'loss': the loss is always measured"),
        ({"early_stopping": 2, "val_loader": None}, "pass val_loader too"),
    ],
)
def test_fit_bad_argument_values(kwargs, match):
    args = dict(epochs=1)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        train_logistic(**args)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"epochs": 2.5}, r"epochs must be an int >= 1, got 2.5 \(float\)"),
        ({"epochs": True}, r"epochs must be an int >= 1, got True \(bool\)"),
        ({"clip_grad_norm": "1"}, r"clip_grad_norm must be a finite number > 0, got '1' \(str\)"),
        ({"early_stopping": 2.0}, r"early_stopping must be an int >= 1 .*got 2.0 \(float\)"),
        ({"restore_best": 1}, r"restore_best must be True or False, got 1 \(int\)"),
        ({"progress": None}, "progress must be True or False"),
        ({"metrics": {"accuracy": 0.5}}, "bad entry 'accuracy': 0.5 cannot be called"),
    ],
)
def test_fit_bad_argument_types(kwargs, match):
    args = dict(epochs=1)
    args.update(kwargs)
    with pytest.raises(TypeError, match=match):
        train_logistic(**args)


def test_fit_rejects_batches_that_are_not_pairs_and_empty_loaders():
    model = nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="inputs, targets"):
        fit(model, [torch.ones(2, 1)], nn.MSELoss(), opt, 1, progress=False)
    with pytest.raises(ValueError, match="no batches"):
        fit(model, [], nn.MSELoss(), opt, 1, progress=False)


# --- accuracy ---------------------------------------------------------------------------


def test_accuracy_binary_and_multiclass():
    logits = torch.tensor([2.0, -1.0, 0.5, -3.0])
    assert binary_accuracy(logits, torch.tensor([1, 0, 0, 0])) == 0.75
    assert accuracy(logits[:, None], torch.tensor([1.0, 0.0, 1.0, 0.0])) == 1.0
    scores = torch.tensor([[0.1, 2.0, 0.3], [3.0, 0.0, 0.0]])
    assert multiclass_accuracy(scores, torch.tensor([1, 2])) == 0.5
    assert accuracy(scores, torch.tensor([1, 0])) == 1.0
    lm = torch.zeros(4, 2, 5)  # (T, B, V) logits with (T, B) targets
    lm[..., 3] = 1.0
    assert accuracy(lm, torch.full((4, 2), 3)) == 1.0
    with pytest.raises(ValueError, match="cannot match"):
        accuracy(torch.zeros(4, 3), torch.zeros(5))
    with pytest.raises(ValueError, match="do not match"):
        binary_accuracy(torch.zeros(3), torch.zeros(4))


def test_history_is_a_plain_dataclass():
    history = History(train_loss=[1.0], metrics={"val_accuracy": [0.5]})
    assert history.val_accuracy == [0.5] and history.epochs == [1]
    import copy
    import pickle

    assert pickle.loads(pickle.dumps(history)).val_accuracy == [0.5]
    assert copy.deepcopy(history).as_dict()["val_accuracy"] == [0.5]
