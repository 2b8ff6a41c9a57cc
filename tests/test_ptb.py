"""Tests of lstm_course.experiments.ptb on made-up word streams (the real corpus is not needed)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from lstm_course.data.batching import batchify, bptt_batches
from lstm_course.experiments import ptb
from lstm_course.experiments.ptb import ZAREMBA, PTBConfig, load_ptb_ids, perplexity, train
from lstm_course.training.language_model import evaluate, load_checkpoint

SENTENCE = "the cat sat on the mat <eos> a dog ate the <unk> <eos>".split()


@pytest.fixture
def fake_ptb(monkeypatch):
    """load_ptb returning a repetitive little corpus, so training can learn it."""
    splits = {"train": SENTENCE * 40, "valid": SENTENCE * 6, "test": SENTENCE[3:] * 6}
    monkeypatch.setattr(ptb, "load_ptb", lambda split, progress=True: list(splits[split]))
    return splits


def _tiny(**changes):
    return replace(
        PTBConfig(
            hidden=8, batch=4, bptt=5, epochs=3, lr=1.0, constant_epochs=1, decay=0.5, clip=5.0
        ),
        **changes,
    )


def test_zaremba_small_schedule_is_the_papers():
    small = ZAREMBA["small"]
    assert (small.hidden, small.layers, small.bptt, small.batch, small.epochs) == (
        200,
        2,
        20,
        20,
        13,
    )
    assert [small.lr_at(e) for e in range(1, 7)] == [1.0, 1.0, 1.0, 1.0, 0.5, 0.25]
    assert small.lr_at(13) == pytest.approx(0.5**9)
    medium = ZAREMBA["medium"]
    assert medium.lr_at(6) == 1.0 and medium.lr_at(7) == pytest.approx(1 / 1.2)


@pytest.mark.parametrize(
    "changes, message",
    [({"decay": 0.0}, "decay"), ({"decay": 1.5}, "decay"), ({"epochs": 0}, "epochs")],
)
def test_bad_recipes_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        _tiny(**changes)


def test_lr_at_counts_epochs_from_one():
    with pytest.raises(ValueError, match="from 1"):
        _tiny().lr_at(0)


@pytest.mark.parametrize("clip", [1e6, 0.05])
def test_train_makes_the_papers_update_on_the_summed_loss(fake_ptb, clip):
    """One window, one SGD step: our mean loss with lr * T and clip / T must give the
    update of Zaremba et al.'s code, lr and clip on the loss summed over the T steps."""
    recipe = _tiny(epochs=1, lr=0.7, clip=clip, bptt=5, batch=4)
    data = load_ptb_ids(train_tokens=4 * 6)  # 6 steps per stream: exactly one window of 5
    torch.manual_seed(0)
    run = train(recipe, data, progress=False, log=None)
    torch.manual_seed(0)
    model = recipe.model(len(data.vocab))
    ((inputs, targets),) = bptt_batches(batchify(data.train, 4), 5)
    logits, _ = model(inputs)
    per_step = torch.nn.functional.cross_entropy(
        logits.permute(0, 2, 1), targets, reduction="none"
    ).mean(dim=1)
    assert per_step.shape == (5,)
    per_step.sum().backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), recipe.clip)
    assert (norm > recipe.clip) == (clip < 1)  # clipping exercised, or not at all
    with torch.no_grad():
        for p in model.parameters():
            p -= recipe.lr * p.grad
    for (name, ours), theirs in zip(run.model.named_parameters(), model.parameters(), strict=True):
        torch.testing.assert_close(ours, theirs, msg=name)


def test_model_follows_the_recipe():
    torch.manual_seed(0)
    model = _tiny(tie_weights=True, init_range=0.05, dropout=0.3).model(30)
    assert model.decoder.weight is model.embedding.weight
    assert model.embedding.weight.shape == (30, 8) and model.lstm.num_layers == 2
    assert all(p.abs().max() <= 0.05 for p in model.parameters())
    assert model.drop.p == 0.3


def test_load_ptb_ids_builds_vocab_from_train_and_slices(fake_ptb):
    data = load_ptb_ids(train_tokens=20, eval_tokens=7)
    assert len(data.vocab) == len(set(SENTENCE))
    assert data.vocab.itos[0] == "the"  # most frequent first
    assert data.train.tolist() == data.vocab.encode(fake_ptb["train"][:20])
    assert len(data.valid) == len(data.test) == 7
    full = load_ptb_ids()
    assert len(full.train) == len(fake_ptb["train"]) and len(full.test) == len(fake_ptb["test"])


def test_load_ptb_ids_refuses_bad_counts(fake_ptb):
    with pytest.raises(ValueError, match="train_tokens must be an int >= 2 or None"):
        load_ptb_ids(train_tokens=1)
    with pytest.raises(TypeError, match="eval_tokens must be an int >= 2 or None"):
        load_ptb_ids(eval_tokens=2.5)


def test_perplexity_of_a_uniform_model_is_the_vocabulary_size():
    model = _tiny().model(17)
    with torch.no_grad():
        model.decoder.weight.zero_()
        model.decoder.bias.zero_()
    assert perplexity(model, torch.randint(0, 17, (50,)), bptt=7) == pytest.approx(17)


def test_perplexity_is_exp_of_evaluate_over_one_stream():
    torch.manual_seed(1)
    model, ids = _tiny().model(11), torch.randint(0, 11, (40,))
    expected = math.exp(evaluate(model, bptt_batches(ids.view(-1, 1), 6)))
    assert perplexity(model, ids, batch=1, bptt=6) == pytest.approx(expected)
    assert perplexity(model, ids, batch=4, bptt=6) != pytest.approx(expected)


def test_train_learns_keeps_the_best_epoch_and_checkpoints_it(fake_ptb, tmp_path):
    data = load_ptb_ids()
    torch.manual_seed(0)
    run = train(
        _tiny(epochs=4, hidden=16, init_range=0.5, constant_epochs=2),
        data,
        checkpoint=tmp_path / "best.pt",
        valid_batch=2,
        progress=False,
        log=None,
    )
    history = run.history
    assert history["lr"] == [1.0, 1.0, 0.5, 0.25]
    assert all(len(v) == 4 for v in history.values())
    assert (
        history["minutes"] == sorted(history["minutes"]) and run.minutes == history["minutes"][-1]
    )
    assert run.best_epoch == 1 + min(range(4), key=history["valid_ppl"].__getitem__)
    valid_streams = bptt_batches(batchify(data.valid, 2), 5)
    # The returned model is the best epoch's, not the last one's.
    assert math.exp(evaluate(run.model, valid_streams)) == pytest.approx(min(history["valid_ppl"]))
    assert min(history["valid_ppl"]) < len(data.vocab) / 2  # it learned something
    loaded, vocab, meta = load_checkpoint(tmp_path / "best.pt")
    assert meta["epoch"] == run.best_epoch and vocab.itos == data.vocab.itos
    assert math.exp(evaluate(loaded, valid_streams)) == pytest.approx(min(history["valid_ppl"]))


def test_command_line_trains_and_reports(fake_ptb, monkeypatch, capsys):
    monkeypatch.setitem(ZAREMBA, "small", _tiny(epochs=5))
    ptb.main(["small", "--epochs", "2", "--device", "cpu", "--no-progress"])
    out = capsys.readouterr().out
    assert "epoch  2" in out and "epoch  3" not in out
    assert "paper 114.5" in out


def test_command_line_rejects_unknown_models():
    with pytest.raises(SystemExit):
        ptb.main(["huge"])
