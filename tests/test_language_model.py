"""Tests of lstm_course.training.language_model on tiny models and tiny made-up text."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from lstm_course.data.batching import batchify, bptt_batches
from lstm_course.data.text import Vocab
from lstm_course.training.language_model import (
    LanguageModel,
    detach_state,
    evaluate,
    load_checkpoint,
    save_checkpoint,
    train_epoch,
)
from lstm_course.training.lm_fit import LMRun, fit_lm
from lstm_course.training.sampling import next_token_distribution, sample

TEXT = "abcabdabcabd" * 20


@pytest.fixture
def vocab():
    return Vocab(list(TEXT), specials=())


def _model(V=4, E=6, H=5, L=2, **kw):
    torch.manual_seed(0)
    return LanguageModel(V, E, H, L, **kw)


def test_shapes():
    model = _model(V=7, L=3)
    logits, (h, c) = model(torch.randint(0, 7, (9, 4)))
    assert logits.shape == (9, 4, 7)
    assert h.shape == c.shape == (3, 4, 5)


def test_dropout_only_in_training():
    model = _model(dropout=0.5)
    x = torch.randint(0, 4, (6, 3))
    model.eval()
    assert torch.equal(model(x)[0], model(x)[0])
    model.train()
    assert not torch.equal(model(x)[0], model(x)[0])


def test_detach_cuts_the_graph():
    model = _model()
    x = torch.randint(0, 4, (5, 2))
    _, state = model(x)
    assert all(s.requires_grad for s in state)
    cut = detach_state(state)
    assert all(not s.requires_grad and s.grad_fn is None for s in cut)
    assert all(torch.equal(a, b) for a, b in zip(state, cut, strict=True))
    # A loss on the next window reaches the parameters only through that window.
    embedding_grads = []
    for carried in (state, cut):
        model.zero_grad()
        logits, _ = model(torch.zeros(1, 2, dtype=torch.long), carried)
        logits.sum().backward(retain_graph=True)
        embedding_grads.append(model.embedding.weight.grad.clone())
    # Token 0 is the only input of the second window: with the graph cut, no other row
    # of the embedding gets a gradient; through the carried graph, the first window's do.
    assert embedding_grads[1][1:].abs().sum() == 0
    assert embedding_grads[0][1:].abs().sum() > 0
    assert detach_state(None) is None
    with pytest.raises(TypeError, match="state"):
        detach_state("h")


def test_tied_weights_share_one_parameter():
    model = _model(E=5, H=5, tie_weights=True, init_range=0.1)
    assert model.decoder.weight is model.embedding.weight
    assert sum(p.numel() for p in model.parameters()) == (
        sum(p.numel() for p in _model(E=5, H=5).parameters()) - 4 * 5
    )
    with pytest.raises(ValueError, match="embed_size == hidden_size"):
        _model(E=6, H=5, tie_weights=True)


def test_init_range_bounds_every_parameter():
    model = _model(init_range=0.05)
    assert all(p.abs().max() <= 0.05 for p in model.parameters())


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(dropout=1.0), ValueError),
        (dict(dropout=-0.1), ValueError),
        (dict(init_range=0), ValueError),
        (dict(L=0), ValueError),
        (dict(V=2.5), TypeError),
        (dict(dropout="0.5"), TypeError),
        (dict(tie_weights=1), TypeError),
    ],
)
def test_bad_constructor_arguments(kwargs, error):
    """A wrong type raises TypeError, a wrong value ValueError; the message names the argument."""
    name = {"V": "vocab_size", "L": "num_layers"}.get(next(iter(kwargs)), next(iter(kwargs)))
    with pytest.raises(error, match=name):
        _model(**kwargs)


def test_evaluate_equals_a_hand_computation(vocab):
    model = _model(dropout=0.3)
    ids = torch.tensor(vocab.encode(list(TEXT)))
    streams = batchify(ids, 3)  # (80, 3)
    nats = evaluate(model, bptt_batches(streams, 7))
    # By hand: the whole of each stream in one go (what carrying the state means),
    # no dropout, the mean cross-entropy of every next token.
    model.eval()
    with torch.no_grad():
        logits, _ = model(streams[:-1])
        expected = F.cross_entropy(logits.reshape(-1, 4), streams[1:].reshape(-1)).item()
    assert nats == pytest.approx(expected, rel=1e-5)
    model.train()
    assert evaluate(model, bptt_batches(streams, 7)) == pytest.approx(expected, rel=1e-5)
    assert model.training  # mode restored
    with pytest.raises(ValueError, match="no batches"):
        evaluate(model, [])


def test_train_epoch_with_zero_lr_reports_the_evaluation_loss(vocab):
    model = _model()
    batches = bptt_batches(batchify(torch.tensor(vocab.encode(list(TEXT))), 4), 6)
    losses = []
    mean = train_epoch(
        model,
        batches,
        torch.optim.SGD(model.parameters(), lr=0.0),
        progress=False,
        batch_losses=losses,
    )
    assert len(losses) == len(batches)
    assert mean == pytest.approx(evaluate(model, batches), rel=1e-5)


@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda p: torch.optim.SGD(p, lr=1.0),
        lambda p: torch.optim.Adam(p, lr=1e-2),
    ],
)
def test_train_epoch_learns(vocab, make_optimizer):
    model = _model(H=16)
    batches = bptt_batches(batchify(torch.tensor(vocab.encode(list(TEXT))), 4), 10)
    optimizer = make_optimizer(model.parameters())
    before = evaluate(model, batches)
    for _ in range(15):
        train_epoch(model, batches, optimizer, clip=1.0, progress=False)
    after = evaluate(model, batches)
    # 'ab' then c or d, each once per 6 characters: about (2/3) ln 2 = 0.46 nats at best.
    assert after < 0.5 * before and after < 0.8


def test_train_epoch_clips_and_steps_the_scheduler(vocab):
    model = _model()
    batches = bptt_batches(batchify(torch.tensor(vocab.encode(list(TEXT))), 4), 6)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    train_epoch(model, batches, optimizer, clip=1e-3, scheduler=scheduler, progress=False)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5 ** len(batches))
    with pytest.raises(ValueError, match="clip"):
        train_epoch(model, batches, optimizer, clip=0, progress=False)
    with pytest.raises(TypeError, match="clip"):
        train_epoch(model, batches, optimizer, clip="1", progress=False)


def test_distribution_temperature_and_top_k():
    logits = torch.tensor([1.0, 3.0, 2.0, -1.0])
    assert torch.allclose(next_token_distribution(logits), torch.softmax(logits, 0))
    assert torch.equal(next_token_distribution(logits, 0), torch.tensor([0.0, 1, 0, 0]))
    assert next_token_distribution(logits, 1e-3)[1] == pytest.approx(1.0)
    flat = next_token_distribution(logits, 1e3)
    assert torch.allclose(flat, torch.full((4,), 0.25), atol=1e-2)
    top2 = next_token_distribution(logits, 1.0, top_k=2)
    assert torch.equal(top2 > 0, torch.tensor([False, True, True, False]))
    assert top2.sum().item() == pytest.approx(1.0)
    assert top2[1] / top2[2] == pytest.approx(math.e, rel=1e-5)
    for bad in (dict(temperature=-1), dict(top_k=0), dict(top_k=5), dict(temperature=math.inf)):
        with pytest.raises(ValueError):
            next_token_distribution(logits, **bad)
    for bad in (dict(temperature="hot"), dict(temperature=True), dict(top_k=2.0)):
        with pytest.raises(TypeError):
            next_token_distribution(logits, **bad)


def test_sample_temperature_zero_is_greedy(vocab):
    model = _model()
    greedy = sample(model, vocab, "ab", 12, temperature=0)
    # By hand: feed back the argmax, one step at a time.
    ids, expected = vocab.encode(["a", "b"]), []
    model.eval()
    with torch.no_grad():
        logits, state = model(torch.tensor(ids).unsqueeze(1))
        for _ in range(12):
            nxt = int(logits[-1, 0].argmax())
            expected.append(vocab.itos[nxt])
            logits, state = model(torch.tensor([[nxt]]), state)
    assert greedy == "".join(expected)
    near_zero = sample(
        model, vocab, "ab", 12, temperature=1e-4, generator=torch.Generator().manual_seed(1)
    )
    assert near_zero == greedy
    assert sample(model, vocab, "ab", 12, top_k=1) == greedy
    assert sample(model, vocab, ["a", "b"], 3, temperature=0) == list(greedy[:3])


def test_sample_top_k_restricts_the_support(vocab):
    model = _model()
    model.eval()
    with torch.no_grad():
        logits, _ = model(torch.tensor(vocab.encode(["a"])).unsqueeze(1))
    allowed = {vocab.itos[i] for i in logits[-1, 0].topk(2).indices.tolist()}
    g = torch.Generator().manual_seed(0)
    drawn = {
        sample(model, vocab, "a", 1, temperature=5.0, top_k=2, generator=g) for _ in range(200)
    }
    assert drawn == allowed
    drawn_all = {sample(model, vocab, "a", 1, temperature=5.0, generator=g) for _ in range(200)}
    assert len(drawn_all) > 2


def test_sample_is_reproducible_and_checks_arguments(vocab):
    model = _model()
    a = sample(model, vocab, "ab", 30, generator=torch.Generator().manual_seed(3))
    b = sample(model, vocab, "ab", 30, generator=torch.Generator().manual_seed(3))
    assert a == b and len(a) == 30
    for bad in [
        dict(prompt=""),
        dict(prompt="abz"),
        dict(length=-1),
        dict(temperature=-0.5),
        dict(top_k=9),
    ]:
        kwargs = dict(prompt="ab", length=3) | bad
        with pytest.raises(ValueError):
            sample(model, vocab, **kwargs)


def test_checkpoint_round_trip(tmp_path, vocab, monkeypatch):
    model = _model(E=5, H=5, tie_weights=True, dropout=0.1)
    calls = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get("weights_only"))
        return real_load(*args, **kwargs)

    path = save_checkpoint(tmp_path / "sub" / "lm.pt", model, vocab, val_loss=1.25, epoch=3)
    monkeypatch.setattr(torch, "load", spy)
    loaded, loaded_vocab, meta = load_checkpoint(path)
    assert calls == [True]
    assert meta == {"val_loss": 1.25, "epoch": 3}
    assert loaded_vocab.itos == vocab.itos and loaded_vocab.stoi == vocab.stoi
    assert loaded.decoder.weight is loaded.embedding.weight
    assert not loaded.training
    x = torch.randint(0, 4, (7, 2))
    model.eval()
    assert torch.equal(model(x)[0], loaded(x)[0])
    assert not list(tmp_path.glob("sub/*.partial"))
    with pytest.raises(ValueError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")


def _ids(vocab):
    return torch.tensor(vocab.encode(list(TEXT)))


def test_fit_lm_with_sgd_and_a_step_decay_is_the_hand_written_loop(vocab):
    """The one loop, given SGD and a per-epoch rate, makes the updates of a plain loop
    over train_epoch, bit for bit; keep_best=False keeps the last weights."""
    ids = _ids(vocab)
    rate = lambda epoch: 2.0 * 0.5 ** (epoch - 1)  # noqa: E731
    model = _model()
    run = fit_lm(
        model,
        ids[:180],
        ids[180:],
        3,
        lr=rate,
        clip=0.5,
        batch=4,
        bptt=6,
        valid_batch=2,
        cosine=False,
        optimizer=torch.optim.SGD,
        keep_best=False,
    )
    by_hand = _model()
    optimizer = torch.optim.SGD(by_hand.parameters(), lr=rate(1))
    train_batches = bptt_batches(batchify(ids[:180], 4), 6)
    valid_batches = bptt_batches(batchify(ids[180:], 2), 6)
    train_loss, valid_loss = [], []
    for epoch in (1, 2, 3):
        optimizer.param_groups[0]["lr"] = rate(epoch)
        train_loss.append(train_epoch(by_hand, train_batches, optimizer, clip=0.5, progress=False))
        valid_loss.append(evaluate(by_hand, valid_batches))
    assert run.train_loss == train_loss and run.valid_loss == valid_loss
    for ours, theirs in zip(model.parameters(), by_hand.parameters(), strict=True):
        assert torch.equal(ours, theirs)
    assert run.updates == 3 * len(train_batches) == len(run.grad_norms)
    assert run.best_epoch == 1 + min(range(3), key=valid_loss.__getitem__)
    assert not model.training


def test_fit_lm_keeps_the_best_epoch_and_reports_each_epoch(vocab):
    ids = _ids(vocab)
    calls = []

    def on_epoch(epoch, run, improved):
        assert isinstance(run, LMRun) and len(run.valid_loss) == epoch
        calls.append((epoch, improved, run.best_epoch))

    model = _model(H=16)
    # A large constant Adam rate: the validation loss goes down, then up again.
    run = fit_lm(
        model,
        ids[:180],
        ids[180:],
        8,
        lr=0.3,
        batch=4,
        bptt=6,
        valid_batch=2,
        cosine=False,
        on_epoch=on_epoch,
    )
    assert [c[0] for c in calls] == list(range(1, 9))
    assert all(improved == (best == epoch) for epoch, improved, best in calls)
    assert run.best_epoch == calls[-1][2] == 1 + min(range(8), key=run.valid_loss.__getitem__)
    assert run.best_epoch < 8  # so the weights kept are not the last epoch's
    assert run.valid_ppl == [math.exp(v) for v in run.valid_loss]
    assert run.best_valid_ppl == min(run.valid_ppl) == min(run.history["valid_ppl"])
    assert set(run.history) == {"train_ppl", "valid_ppl", "seconds"}
    assert len(run.seconds) == 8 and run.total_seconds >= sum(run.seconds) > 0
    valid = bptt_batches(batchify(ids[180:], 2), 35)
    assert evaluate(model, valid) == pytest.approx(min(run.valid_loss), rel=1e-6)
    assert not model.training


def test_fit_lm_says_when_the_run_diverged(vocab):
    model = _model()
    with torch.no_grad():
        model.decoder.bias.fill_(math.nan)  # every loss is NaN: no epoch is ever best
    with pytest.raises(ValueError, match="diverged"):
        fit_lm(model, _ids(vocab)[:180], _ids(vocab)[180:], 2, lr=1e-3, batch=4, bptt=6)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(epochs=0), ValueError, "epochs"),
        (dict(epochs=2.0), TypeError, "epochs"),
        (dict(lr=0.0), ValueError, "lr"),
        (dict(lr="1e-3"), TypeError, "lr"),
        (dict(lr=lambda epoch: 0.1), ValueError, "cosine=False"),
        (dict(lr=lambda epoch: 0.0, cosine=False), ValueError, "lr"),
        (dict(keep_best=1), TypeError, "keep_best"),
        (dict(cosine=None), TypeError, "cosine"),
    ],
)
def test_fit_lm_refuses_bad_arguments(vocab, kwargs, error, match):
    arguments = dict(epochs=1, lr=1e-3, batch=4, bptt=6) | kwargs
    with pytest.raises(error, match=match):
        fit_lm(_model(), _ids(vocab)[:180], _ids(vocab)[180:], **arguments)
