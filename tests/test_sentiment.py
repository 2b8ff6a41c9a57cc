"""Sentiment helpers: Keras padding, exact padded BiLSTM, pooling, running predictions,
the TF-IDF baseline."""

import math

import pytest
import torch
from torch import nn

from lstm_course.data.batching import pack, pad_batch
from lstm_course.experiments.sentiment import (
    SentimentLSTM,
    keras_init_,
    keras_pad,
    reverse_padded,
    review_loader,
    running_predictions,
)
from lstm_course.experiments.sentiment_baseline import (
    TfidfFeatures,
    fit_logistic,
    logistic_logits,
    ngrams,
)


def test_keras_pad_pads_and_truncates_at_the_front():
    out = keras_pad([[1, 2, 3, 4, 5], [7, 8]], maxlen=3)
    assert out.tolist() == [[3, 4, 5], [0, 7, 8]]
    with pytest.raises(ValueError, match="maxlen must be an int >= 1, got 0$"):
        keras_pad([[1]], 0)
    with pytest.raises(TypeError, match=r"maxlen must be an int >= 1, got 3.0 \(float\)"):
        keras_pad([[1]], 3.0)


def test_reverse_padded_reverses_each_review_within_its_length():
    x = torch.tensor([[1, 2, 3, 0], [4, 5, 0, 0]])
    r = reverse_padded(x, torch.tensor([3, 2]))
    assert r.tolist() == [[3, 2, 1, 0], [5, 4, 0, 0]]
    assert torch.equal(reverse_padded(r, torch.tensor([3, 2])), x)


def _batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    seqs = [torch.randint(1, 30, (n,), generator=g).tolist() for n in (9, 4, 6, 1)]
    return pad_batch(seqs)


@pytest.mark.parametrize("pooling", ["last", "max", "mean", "maxmean"])
def test_padded_bidirectional_equals_packed_and_nn_lstm(pooling):
    torch.manual_seed(0)
    model = SentimentLSTM(30, 6, 5, bidirectional=True, pooling=pooling).double().eval()
    tokens, lengths = _batch()
    padded = model(tokens, lengths)
    model.packed = True
    torch.testing.assert_close(padded, model(tokens, lengths))
    # The two one-direction LSTMs are exactly nn.LSTM(bidirectional=True), packed.
    bi = nn.LSTM(6, 5, batch_first=True, bidirectional=True).double()
    state = {k: v for k, v in model.lstm.state_dict().items()}
    state.update({k + "_reverse": v for k, v in model.lstm_reverse.state_dict().items()})
    bi.load_state_dict(state)
    out, (h_n, _) = bi(pack(model.embedding(tokens), lengths))
    _, last = model.sequence_features(tokens, lengths)
    torch.testing.assert_close(last, torch.cat([h_n[0], h_n[1]], 1))


def test_padding_does_not_change_a_review_prediction():
    torch.manual_seed(0)
    model = SentimentLSTM(30, 6, 5, bidirectional=True, pooling="maxmean").double().eval()
    tokens, lengths = _batch()
    alone = model(tokens[1:2, :4], lengths[1:2])
    torch.testing.assert_close(model(tokens, lengths)[1:2], alone)


@pytest.mark.parametrize("pooling", ["last", "max", "mean", "maxmean"])
def test_running_predictions_equal_predictions_on_prefixes(pooling):
    torch.manual_seed(0)
    model = SentimentLSTM(30, 6, 5, pooling=pooling).double()
    ids = [3, 7, 1, 22, 9]
    running = running_predictions(model, ids)
    assert model.training  # the mode is put back
    model.eval()
    prefixes = torch.stack(
        [torch.sigmoid(model(torch.tensor([ids[:t]]), torch.tensor([t])))[0] for t in range(1, 6)]
    )
    torch.testing.assert_close(running, prefixes)
    with pytest.raises(ValueError, match="unidirectional"):
        running_predictions(SentimentLSTM(30, 6, 5, bidirectional=True), ids)


def test_keras_style_model_trains_and_initializes_like_keras():
    torch.manual_seed(0)
    model = keras_init_(SentimentLSTM(30, 8, 4, dropout=0.2, recurrent_dropout=0.2))
    H = 4
    assert (
        torch.all(model.lstm.bias_ih_l0[H : 2 * H] == 1) and model.lstm.bias_hh_l0.abs().sum() == 0
    )
    w_hh = model.lstm.weight_hh_l0  # (4H, H): its transpose has orthonormal rows
    torch.testing.assert_close(w_hh.T @ w_hh, torch.eye(H), atol=1e-5, rtol=0)
    tokens = keras_pad([[1, 2, 3], [4, 5, 6, 7, 8]], 4)
    logits = model(tokens, torch.tensor([4, 4]))
    assert logits.shape == (2,)
    logits.sum().backward()
    assert model.lstm.weight_hh_l0.grad.abs().sum() > 0


def test_bad_model_options_raise():
    with pytest.raises(ValueError, match="pooling must be one of"):
        SentimentLSTM(10, pooling="sum")
    with pytest.raises(ValueError, match="unidirectional"):
        SentimentLSTM(10, bidirectional=True, recurrent_dropout=0.2)
    with pytest.raises(ValueError, match=r"output_dropout must be a probability in \[0, 1\)"):
        SentimentLSTM(10, output_dropout=1.0)
    with pytest.raises(TypeError, match=r"bidirectional must be True or False, got 1 \(int\)"):
        SentimentLSTM(10, bidirectional=1)


def test_running_predictions_runs_where_the_model_is_and_in_eval_mode():
    torch.manual_seed(0)
    model = SentimentLSTM(30, 6, 5, embed_dropout=0.5)  # dropout would make it random
    first = running_predictions(model, [3, 7, 1])
    assert model.training and torch.equal(first, running_predictions(model, [3, 7, 1]))


def test_review_loader_batches_and_buckets():
    ids = [[1] * n for n in (5, 1, 9, 2, 8, 3)]
    loader = review_loader(ids, [0, 1, 0, 1, 0, 1], 2, bucket=True, shuffle=False)
    batches = list(loader)
    assert [b[0][1].tolist() for b in batches] == [[1, 2], [3, 5], [8, 9]]
    (tokens, lengths), labels = batches[0]
    assert tokens.shape == (2, 2) and labels.dtype == torch.float32
    with pytest.raises(ValueError, match="as many labels"):
        review_loader(ids, [0], 2)
    with pytest.raises(ValueError, match="batch_size must be an int >= 1, got 0$"):
        review_loader(ids, [0] * 6, 0)
    with pytest.raises(TypeError, match="bucket must be True or False"):
        review_loader(ids, [0] * 6, 2, bucket="yes")


def test_tfidf_and_logistic_regression_separate_a_toy_task():
    docs = [["good", "film"], ["great", "good"], ["bad", "film"], ["awful", "bad"]] * 5
    y = torch.tensor([1, 1, 0, 0] * 5)
    assert ngrams(["a", "b", "c"]) == ["a", "b", "c", "a b", "b c"]
    feats = TfidfFeatures(min_df=2).fit(docs)
    X = feats.transform(docs)
    assert X.shape == (20, len(feats.index))
    dense = X.to_dense()
    torch.testing.assert_close(dense.norm(dim=1), torch.ones(20))
    # idf: 'film' (in half the docs) weighs less than 'great' (in a quarter)
    assert feats.idf[feats.index["film"]] < feats.idf[feats.index["great"]]
    assert math.isclose(feats.idf[feats.index["film"]].item(), math.log(21 / 11) + 1, rel_tol=1e-6)
    w, b = fit_logistic(X, y, l2=1e-3)
    assert ((logistic_logits(X, w, b) > 0).long() == y).all()
    with pytest.raises(ValueError, match="min_df"):
        TfidfFeatures(min_df=50).fit(docs)
