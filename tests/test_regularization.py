"""Tests of lstm_course.experiments.regularization (and train_epoch's grad_norms) on tiny models."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from lstm_course.data.batching import batchify, bptt_batches
from lstm_course.experiments.regularization import (
    RegularizedLM,
    count_parameters,
    embedding_dropout,
    fit_lm,
    locked_dropout,
)
from lstm_course.training.language_model import LanguageModel, evaluate, train_epoch

V = 6
TEXT = torch.tensor([0, 1, 2, 0, 1, 3, 4, 5] * 40)


def _model(**kw):
    torch.manual_seed(0)
    sizes = dict(vocab_size=V, embed_size=5, hidden_size=5, num_layers=2)
    sizes.update({k: kw.pop(k) for k in list(kw) if k in sizes})
    return RegularizedLM(**sizes, **kw)


def test_locked_dropout_uses_one_mask_for_all_steps():
    torch.manual_seed(0)
    x = torch.ones(30, 4, 8)
    y = locked_dropout(x, 0.5)
    assert torch.equal(y, y[:1].expand_as(y))  # every step the same as the first
    assert set(y.unique().tolist()) == {0.0, 2.0}  # dropped, or kept and scaled by 1/(1-p)
    assert 0.2 < (y[0] == 0).float().mean() < 0.8
    assert locked_dropout(x, 0.5, training=False) is x
    assert locked_dropout(x, 0.0) is x
    with pytest.raises(ValueError, match=r"\(T, B, F\)"):
        locked_dropout(torch.ones(4, 8), 0.5)
    with pytest.raises(ValueError, match="probability"):
        locked_dropout(x, 1.0)


def test_embedding_dropout_drops_whole_words():
    torch.manual_seed(0)
    weight = torch.randn(50, 4)
    dropped = embedding_dropout(weight, 0.4)
    zero_rows = (dropped == 0).all(1)
    assert ((dropped == 0).any(1) == zero_rows).all()  # a row is dropped whole or not at all
    assert torch.allclose(dropped[~zero_rows], weight[~zero_rows] / 0.6)
    assert 5 < zero_rows.sum() < 35
    tokens = torch.randint(0, 50, (20, 3))
    looked_up = F.embedding(tokens, dropped)  # (T, B, E)
    reads_zero = (looked_up == 0).all(-1)
    assert torch.equal(reads_zero, zero_rows[tokens])  # every occurrence of a word alike
    assert embedding_dropout(weight, 0.4, training=False) is weight


def test_shapes_and_state_layout():
    model = _model(num_layers=3, dropout=0.3, recurrent_dropout=0.3, embedding_dropout=0.1)
    for mode in (model.train, model.eval):
        mode()
        logits, (h, c) = model(torch.randint(0, V, (7, 4)))
        assert logits.shape == (7, 4, V)
        assert h.shape == c.shape == (3, 4, 5)
        logits, _ = model(torch.randint(0, V, (2, 4)), (h, c))  # the state carries over
    with pytest.raises(ValueError, match="time first"):
        model(torch.zeros(3, dtype=torch.long))


def test_eval_mode_equals_language_model_with_the_same_weights():
    model = _model(
        dropout=0.5, variational=True, recurrent_dropout=0.5, embedding_dropout=0.5
    ).eval()
    reference = LanguageModel(V, 5, 5, 2, dropout=0.5).eval()
    state = {}
    for name, value in model.state_dict().items():
        if name.startswith("layers."):  # layers.k.weight_ih_l0 -> lstm.weight_ih_l{k}
            _, k, param = name.split(".")
            name = f"lstm.{param[:-1]}{k}"
        state[name] = value
    reference.load_state_dict(state)
    x = torch.randint(0, V, (9, 3))
    (ours, (h, c)), (theirs, (h2, c2)) = model(x), reference(x)
    assert torch.allclose(ours, theirs, atol=1e-6)
    assert torch.allclose(h, h2, atol=1e-6) and torch.allclose(c, c2, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(dropout=0.5),
        dict(dropout=0.5, variational=True),
        dict(recurrent_dropout=0.5),
        dict(embedding_dropout=0.5),
    ],
)
def test_each_dropout_acts_only_in_training_and_gradients_reach_everything(kwargs):
    model = _model(**kwargs)
    x = torch.randint(0, V, (6, 3))
    model.eval()
    assert torch.equal(model(x)[0], model(x)[0])
    model.train()
    first, second = model(x)[0], model(x)[0]
    assert not torch.equal(first, second)
    first.sum().backward()
    assert all(
        p.grad is not None and p.grad.abs().sum() > 0
        for name, p in model.named_parameters()
        if name != "embedding.weight"
    )


def test_recurrent_dropout_masks_h_with_one_mask_per_window():
    # Layer 1 of a one-layer model with recurrent dropout, rebuilt by hand from the
    # same random draws: the mask multiplies h_{t-1} at every step, nothing else.
    model = _model(num_layers=1, recurrent_dropout=0.5).train()
    x = torch.randint(0, V, (8, 3))
    torch.manual_seed(1)
    logits, (h_n, _) = model(x)
    torch.manual_seed(1)
    lstm = model.layers[0]
    mask = (torch.rand(3, 5) >= 0.5).float() / 0.5
    h = c = torch.zeros(3, 5)
    for t in range(8):
        gates = (
            model.embedding(x[t]) @ lstm.weight_ih_l0.T
            + lstm.bias_ih_l0
            + (h * mask) @ lstm.weight_hh_l0.T
            + lstm.bias_hh_l0
        )
        i, f, g, o = gates.chunk(4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
    assert torch.allclose(h_n[0], h, atol=1e-6)


def test_tied_weights_are_one_parameter_counted_once():
    tied, untied = _model(tie_weights=True), _model()
    assert tied.decoder.weight is tied.embedding.weight
    assert count_parameters(untied) - count_parameters(tied) == V * 5
    with pytest.raises(ValueError, match="embed_size == hidden_size"):
        _model(embed_size=4, tie_weights=True)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(dropout=1.0), ValueError),
        (dict(recurrent_dropout=-0.1), ValueError),
        (dict(embedding_dropout=True), TypeError),
        (dict(num_layers=0), ValueError),
        (dict(variational=1), TypeError),
        (dict(vocab_size=2.5), TypeError),
    ],
)
def test_bad_arguments_raise(kwargs, error):
    """A wrong type raises TypeError, a wrong value ValueError; the message names the argument."""
    with pytest.raises(error, match=next(iter(kwargs))):
        _model(**kwargs)


def test_train_epoch_reports_norms_before_clipping_and_leaves_gradients_alone():
    batches = bptt_batches(batchify(TEXT, 4), 10)
    norms = {}
    params = {}
    for clip in (None, 1e-3):
        for record in (False, True):
            model = _model(dropout=0.0)
            norms[clip, record] = [] if record else None
            train_epoch(
                model,
                list(batches)[:3],
                torch.optim.SGD(model.parameters(), lr=0.5),
                clip=clip,
                progress=False,
                grad_norms=norms[clip, record],
            )
            params[clip, record] = torch.cat([p.detach().flatten() for p in model.parameters()])
    # Recording changes nothing, with or without clipping.
    assert torch.equal(params[None, False], params[None, True])
    assert torch.equal(params[1e-3, False], params[1e-3, True])
    assert len(norms[None, True]) == 3
    # The first update starts from the same weights, so both runs saw the same norm.
    assert norms[None, True][0] == pytest.approx(norms[1e-3, True][0], rel=1e-6)
    assert all(n > 1e-3 for n in norms[1e-3, True])  # so clipping acted on each update


def test_fit_lm_learns_keeps_the_best_epoch_and_anneals():
    model = _model(hidden_size=16, embed_size=16, dropout=0.1)
    run = fit_lm(model, TEXT[:240], TEXT[240:], epochs=10, lr=3e-2, clip=1.0, batch=4, bptt=10)
    assert not model.training
    assert len(run.history["valid_ppl"]) == 10 and len(run.grad_norms) == 10 * 6
    assert (
        run.best_valid_ppl == min(run.history["valid_ppl"]) < 2.0
    )  # 6 at random, 1 for a perfect model
    valid = bptt_batches(batchify(TEXT[240:], 10), 35)
    assert math.exp(evaluate(model, valid)) == pytest.approx(run.best_valid_ppl, rel=1e-5)
    assert run.seconds_per_epoch > 0
    with pytest.raises(ValueError, match="epochs"):
        fit_lm(model, TEXT[:240], TEXT[240:], epochs=0, lr=1e-2)


def test_decoder_std_starts_an_untied_decoder_at_the_tied_scale():
    H = 16
    sizes = dict(vocab_size=200, embed_size=H, hidden_size=H)
    untied, tied = _model(**sizes), _model(**sizes, tie_weights=True)
    matched = _model(**sizes, decoder_std=1.0)
    # PyTorch's defaults: the tied decoder is the N(0, 1) embedding, far larger.
    assert tied.decoder.weight.std() > 3 * untied.decoder.weight.std()
    assert 0.9 < matched.decoder.weight.std() < 1.1  # N(0, 1), like the embedding
    assert matched.decoder.weight is not matched.embedding.weight
    tokens = torch.randint(0, 200, (7, 3))
    sd = {name: m.eval()(tokens)[0].std() for name, m in
          (("untied", untied), ("tied", tied), ("matched", matched))}  # fmt: skip
    assert 0.5 < sd["matched"] / sd["tied"] < 2 and sd["untied"] < sd["tied"] / 2
    with pytest.raises(ValueError, match="decoder_std"):
        _model(**sizes, tie_weights=True, decoder_std=1.0)
    with pytest.raises(ValueError, match="decoder_std"):
        _model(**sizes, decoder_std=0.0)
