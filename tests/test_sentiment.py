"""Sentiment helpers: Keras padding, exact padded BiLSTM, pooling, running predictions,
the linear baselines (scikit-learn's TF-IDF + logistic regression, NBSVM) and the grid
search that keeps the best value inside its grid."""

import math
import random
import warnings
from collections import Counter

import numpy as np
import pytest
import torch
from torch import nn

from lstm_course.data.batching import pack, pad_batch
from lstm_course.data.text import tokenize
from lstm_course.experiments.sentiment import (
    SentimentLSTM,
    keras_init_,
    keras_pad,
    reverse_padded,
    review_loader,
    running_predictions,
)
from lstm_course.experiments.sentiment_baseline import (
    TFIDF_GRID,
    grid_search,
    log_count_ratio,
    nbsvm,
    nbsvm_interpolate,
    tfidf_logistic,
)


def ngrams(tokens, n_max=2):
    """The reference the baselines' features are checked against: the tokens, then every
    run of 2..n_max tokens joined by a space."""
    out = list(tokens)
    for n in range(2, n_max + 1):
        out += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return out


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


# --- scikit-learn baselines -----------------------------------------------------------


def reviews(n, seed, n_cues=2, noise=0.2):
    """(texts, labels): 30 filler words and ``n_cues`` sentiment words per review, with
    a share ``noise`` of the labels flipped, so that neither C extreme is best."""
    rng = random.Random(seed)
    texts, labels = [], []
    for _ in range(n):
        y = rng.randrange(2)
        cues = [f"{'good' if y else 'bad'}{rng.randrange(20)}" for _ in range(n_cues)]
        words = [f"w{rng.randrange(300)}" for _ in range(30)] + cues
        rng.shuffle(words)
        texts.append(" ".join(words) + (" !" if y else " ."))
        labels.append(y if rng.random() > noise else 1 - y)
    return texts, labels


def peak_at(c):
    return lambda v: -((math.log(v) - math.log(c)) ** 2)


def test_grid_search_widens_the_grid_until_the_best_is_inside():
    best, scores, at_edge = grid_search(peak_at(0.1), (1.0, 4.0))
    assert (best, at_edge) == (0.0625, False)
    assert list(scores) == [0.015625, 0.0625, 0.25, 1.0, 4.0]  # two steps down
    best, scores, at_edge = grid_search(peak_at(4.0), TFIDF_GRID)
    assert (best, list(scores), at_edge) == (4.0, list(TFIDF_GRID), False)  # nothing added
    best, _, _ = grid_search(peak_at(500.0), TFIDF_GRID)
    assert best == 256.0


def test_grid_search_warns_when_the_best_stays_at_an_edge():
    with pytest.warns(UserWarning, match="at the edge of the grid"):
        best, scores, at_edge = grid_search(peak_at(1e6), (1.0, 4.0), max_extensions=2)
    assert (best, at_edge, len(scores)) == (64.0, True, 4)
    with pytest.warns(UserWarning, match="after 0 extensions"):
        grid_search(peak_at(1e-6), (1.0, 4.0, 16.0), max_extensions=0)


def test_grid_search_breaks_ties_towards_the_smaller_value_and_checks_its_grid():
    flat_top = {1.0: 0.5, 2.0: 0.9, 4.0: 0.9, 8.0: 0.5}
    assert grid_search(flat_top.__getitem__, list(flat_top))[0] == 2.0
    # A top tied at the edge (2 and 8 here) may go on beyond it: the grid is widened.
    plateau = {1.0: 0.5, 2.0: 0.9, 4.0: 0.8, 8.0: 0.9, 16.0: 0.7}
    best, scores, at_edge = grid_search(plateau.__getitem__, [1.0, 2.0, 4.0, 8.0])
    assert (best, list(scores), at_edge) == (2.0, [1.0, 2.0, 4.0, 8.0, 16.0], False)
    for bad in [(1.0,), (4.0, 1.0), (1.0, 1.0)]:
        with pytest.raises(ValueError, match="two or more increasing values"):
            grid_search(peak_at(1.0), bad)
    with pytest.raises(ValueError, match="grid value must be a finite number > 0"):
        grid_search(peak_at(1.0), (0.0, 1.0))


def test_tfidf_logistic_chooses_c_inside_its_grid_on_validation():
    train, val, test = reviews(300, 0), reviews(300, 1), reviews(300, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no edge warning, no convergence warning
        result = tfidf_logistic(train, val, test)
    tried = sorted(result.val_accuracies)
    assert tried[0] < result.params["C"] < tried[-1] and not result.at_edge
    assert tried[0] < min(TFIDF_GRID)  # this task wants a small C: the grid was widened
    assert result.val_accuracy == max(result.val_accuracies.values())
    assert result.val_accuracy == result.val_accuracies[result.params["C"]]
    assert 0.65 < result.test_accuracy < 0.9  # 20% of the labels are flipped
    assert result.test_scores.shape == (300,) and result.seconds > 0
    # The vocabulary: the uni- and bigrams of the course's tokens in >= 2 training texts.
    df = Counter(g for t in train[0] for g in set(ngrams(tokenize(t))))
    assert result.n_features == sum(n >= 2 for n in df.values())
    assert np.mean((result.test_scores > 0) == np.array(test[1])) == result.test_accuracy


def test_log_count_ratio_and_the_interpolation_follow_wang_and_manning():
    X = np.array([[1, 0, 1], [1, 1, 0], [0, 1, 0]])
    r = log_count_ratio(X, [1, 1, 0], alpha=1.0)
    p, q = np.array([3, 2, 2]) / 7, np.array([1, 2, 1]) / 4
    np.testing.assert_allclose(r, np.log(p / q))
    w = np.array([2.0, -1.0, 0.0, 1.0])  # mean magnitude 1
    np.testing.assert_allclose(nbsvm_interpolate(w, 0.25), 0.75 + 0.25 * w)
    np.testing.assert_allclose(nbsvm_interpolate(w, 1.0), w)
    with pytest.raises(ValueError, match=r"beta must be in \[0, 1\]"):
        nbsvm_interpolate(w, 1.5)


def test_nbsvm_with_beta_zero_is_naive_bayes_on_binarized_ngrams():
    train, val, test = reviews(300, 0), reviews(200, 1), reviews(200, 2)
    result = nbsvm(train, val, test, beta=0.0)
    # r by hand: presence of each uni/bigram of the course's tokens in the training texts.
    present = [set(ngrams(tokenize(t))) for t in train[0]]
    pos = Counter(g for s, y in zip(present, train[1], strict=True) if y for g in s)
    neg = Counter(g for s, y in zip(present, train[1], strict=True) if not y for g in s)
    vocab = set(pos) | set(neg)
    assert result.n_features == len(vocab)
    p_sum, q_sum = sum(1 + pos[g] for g in vocab), sum(1 + neg[g] for g in vocab)
    r = {g: math.log((1 + pos[g]) / p_sum) - math.log((1 + neg[g]) / q_sum) for g in vocab}
    nb = np.array([sum(r[g] for g in set(ngrams(tokenize(t))) & vocab) for t in test[0]])
    ratio = result.test_scores / nb  # the score is (mean |w|) * NB's, for every review
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-6)
    assert ratio[0] > 0


def test_nbsvm_uses_the_papers_constants_and_learns_the_task():
    train, val, test = reviews(300, 0), reviews(300, 1), reviews(300, 2)
    result = nbsvm(train, val, test)
    assert result.params == {"C": 1.0, "beta": 0.25, "alpha": 1.0}
    assert result.name == "NBSVM-bi" and not result.val_accuracies
    assert 0.65 < result.val_accuracy < 0.9 and 0.65 < result.test_accuracy < 0.9


def test_baselines_check_their_splits():
    good = reviews(20, 0)
    with pytest.raises(ValueError, match="val needs as many labels as texts"):
        nbsvm(good, (good[0], good[1][:-1]), good)
    with pytest.raises(ValueError, match="test's labels must be 0 or 1"):
        tfidf_logistic(good, good, (good[0], [2] * 20))
    with pytest.raises(TypeError, match="train must be a \\(texts, labels\\) pair"):
        nbsvm(good[0], good, good)
