"""The sentiment chapter's protocol: Keras's IMDB encoding, recipes, one training run
under early stopping, runs side by side in worker processes, and the summary over seeds."""

import math

import pytest
import torch

from lstm_course.experiments.sentiment import (
    KERAS_SPECIALS,
    SentimentLSTM,
    keras_encode,
    keras_vocab,
    keras_words,
)
from lstm_course.experiments.sentiment_study import (
    KERAS_RECIPE,
    EncodedReviews,
    Job,
    RecipeRun,
    build_model,
    clearly_different,
    recipe_loader,
    run_recipes,
    summarize,
    train_recipe,
)
from lstm_course.runtime import default_workers, map_in_workers


def test_keras_words_follow_the_keras_tokenizer_defaults():
    assert keras_words("Great film!<br />Don't miss it...") == [
        "great",
        "film",
        "br",
        "don't",
        "miss",
        "it",
    ]
    assert keras_words('A-b "c" (d) e_f\tg\nh') == ["a", "b", "c", "d", "e", "f", "g", "h"]
    assert keras_words("") == []
    with pytest.raises(TypeError, match="keras_words needs a str, got list"):
        keras_words(["a"])


def test_keras_vocab_numbers_words_as_keras_imdb_does():
    reviews = [["good", "film", "good"], ["bad", "film", "good"], ["rare"]]
    vocab = keras_vocab(reviews, num_words=7)
    assert vocab.itos[:4] == list(KERAS_SPECIALS)
    # good (3) before film (2), then bad and rare (1 each, alphabetical); 7 indices in all
    assert vocab.itos[4:] == ["good", "film", "bad"]
    assert len(vocab) == 7 and vocab.pad_index == 0 and vocab.unk_index == 2
    assert keras_encode(vocab, ["good", "rare", "film"]) == [1, 4, 2, 5]
    with pytest.raises(ValueError, match="num_words must be an int >= 5"):
        keras_vocab(reviews, num_words=4)


def test_a_trainable_padding_row_as_in_keras():
    tokens, lengths = torch.tensor([[0, 0, 3, 4]]), torch.tensor([4])
    for pad_index, trained in ((0, False), (None, True)):
        torch.manual_seed(0)
        model = SentimentLSTM(10, 4, 3, pad_index=pad_index)
        model(tokens, lengths).sum().backward()
        assert bool(model.embedding.weight.grad[0].abs().sum() > 0) is trained


def test_a_recipe_changes_one_thing_under_a_new_name():
    nxt = KERAS_RECIPE.then("no LSTM dropout", lstm_dropout=0.0)
    assert nxt.name == "no LSTM dropout" and nxt.lstm_dropout == 0.0
    assert {k for k in vars(nxt) if getattr(nxt, k) != getattr(KERAS_RECIPE, k)} == {
        "name",
        "lstm_dropout",
    }
    with pytest.raises(TypeError):
        KERAS_RECIPE.then("typo", pooling_="max")


def test_build_model_is_the_recipes_model_with_keras_initialization():
    torch.manual_seed(0)
    model = build_model(KERAS_RECIPE, 50)
    assert model.lstm.__class__.__name__ == "DropoutLSTM"
    assert model.embedding.padding_idx is None
    H = 128
    assert torch.all(model.lstm.bias_ih_l0[H : 2 * H] == 1.0)  # the forget gate's bias
    bi = build_model(KERAS_RECIPE.then("bi", lstm_dropout=0.0, bidirectional=True), 50)
    assert isinstance(bi.lstm, torch.nn.LSTM) and torch.all(
        bi.lstm_reverse.bias_ih_l0[H : 2 * H] == 1
    )


def test_recipe_loader_reads_reviews_as_the_recipe_says():
    ids, labels = [[1, 5, 6, 7], [1, 8], [1, 9, 9]], [1, 0, 1]
    (tokens, lengths), _ = next(
        iter(recipe_loader(KERAS_RECIPE.then("k", maxlen=3), ids, labels, train=False, seed=0))
    )
    assert tokens.tolist() == [[5, 6, 7], [0, 1, 8], [1, 9, 9]] and lengths.tolist() == [3, 3, 3]
    end = KERAS_RECIPE.then("end", front_pad=False, maxlen=3)
    (tokens, lengths), _ = next(iter(recipe_loader(end, ids, labels, train=False, seed=0)))
    assert tokens.tolist() == [[5, 6, 7], [1, 8, 0], [1, 9, 9]] and lengths.tolist() == [3, 2, 3]
    orders = [
        [y.tolist() for _, y in recipe_loader(end, ids * 20, labels * 20, train=True, seed=s)]
        for s in (0, 0, 1)
    ]
    assert orders[0] == orders[1] != orders[2]  # seeded shuffling


def toy_reviews(n, seed):
    """Reviews of filler words 10..29 with one cue: 3 in positive reviews, 4 in negative."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 2, (n,), generator=g).tolist()
    ids = []
    for y in labels:
        length = int(torch.randint(4, 12, (1,), generator=g))
        review = torch.randint(10, 30, (length,), generator=g).tolist()
        review[int(torch.randint(0, length, (1,), generator=g))] = 3 if y else 4
        ids.append([1, *review])
    return ids, labels


@pytest.fixture(scope="module")
def toy():
    return EncodedReviews(
        toy_reviews(256, 0), toy_reviews(64, 1), toy_reviews(64, 2), vocab_size=30
    )


SMALL = KERAS_RECIPE.then(
    "small", maxlen=12, embed_dim=8, hidden_size=8, lstm_dropout=0.0, pooling="max"
)


def test_train_recipe_learns_and_early_stopping_triggers(toy):
    # patience 2 rides out the dip at epoch 3 and stops two epochs after the first 1.0
    run = train_recipe(Job(SMALL, 0, "toy", epochs=40, patience=2, keep_weights=True), toy)
    assert run.val == max(run.val_accuracy) == 1.0 and run.test_accuracy == 1.0
    assert run.stopped_early and len(run.val_accuracy) == run.best_epoch + 2 < 40
    assert len(run.train_accuracy) == len(run.epoch_seconds) == len(run.val_accuracy)
    assert run.seconds == sum(run.epoch_seconds) > 0
    model = build_model(SMALL, 30)
    model.load_state_dict(run.weights)  # the tested (best) weights


def test_without_patience_the_last_epoch_is_tested(toy):
    run = train_recipe(Job(SMALL, 0, "toy", epochs=2, patience=None), toy)
    assert run.best_epoch == 2 and not run.stopped_early and run.weights is None
    # the toy's validation and test splits differ, but both are easy enough to agree
    assert run.test_accuracy == run.val_accuracy[-1]


def test_run_recipes_in_workers_gives_the_runs_of_one_process(toy):
    other = SMALL.then("other", pooling="mean")
    jobs = [Job(r, s, "toy", epochs=2, patience=None) for r in (SMALL, other) for s in (0, 1)]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # workers run one thread: the same arithmetic
    try:
        here = run_recipes(jobs, {"toy": toy}, workers=1, progress=False)
    finally:
        torch.set_num_threads(threads)
    side_by_side = run_recipes(jobs, {"toy": toy}, workers=2, progress=False)
    assert [r.job for r in side_by_side] == jobs  # the order of the jobs
    for a, b in zip(here, side_by_side, strict=True):
        assert a.val_accuracy == b.val_accuracy and a.test_accuracy == b.test_accuracy
    with pytest.raises(ValueError, match=r"jobs name data \['toy'\] that is not given"):
        run_recipes(jobs, {"other": toy}, progress=False)


def fake_run(name, val, test, seed, stopped=True):
    job = Job(KERAS_RECIPE.then(name), seed, "x", 5)
    return RecipeRun(job, [0.5, 0.6], [val - 0.1, val], [60.0, 60.0], 2, stopped, test)


def test_summarize_gives_means_and_sample_sds_per_recipe():
    runs = [
        fake_run("a", 0.80, 0.79, 0),
        fake_run("b", 0.90, 0.88, 0),
        fake_run("a", 0.82, 0.81, 1, False),
    ]
    a, b = summarize(runs)
    assert (a.name, a.seeds, b.seeds) == ("a", 2, 1)
    assert math.isclose(a.val_mean, 0.81) and math.isclose(a.val_sd, math.sqrt(2) * 0.01)
    assert math.isclose(a.test_mean, 0.80) and a.best_epochs == (2, 2) and a.capped == 1
    assert math.isclose(a.minutes, 2.0) and math.isnan(b.val_sd)


def test_clearly_different_needs_a_gap_over_twice_the_larger_sd():
    base = [fake_run("a", v, v, s) for s, v in enumerate((0.80, 0.81, 0.82))]  # sd 0.01
    near = [fake_run("b", v, v, s) for s, v in enumerate((0.81, 0.82, 0.83))]  # +0.01
    far = [fake_run("c", v, v, s) for s, v in enumerate((0.83, 0.835, 0.84))]  # +0.025
    a, b, c = summarize(base + near + far)
    assert not clearly_different(a, b) and clearly_different(a, c) and clearly_different(c, a)
    assert clearly_different(a, c, "test")
    with pytest.raises(ValueError, match="split must be 'val' or 'test'"):
        clearly_different(a, b, "train")


def _square(x):
    return x * x


_SEEN = []


def _remember(*args):
    _SEEN.append(args)


def test_map_in_workers_keeps_the_order_and_runs_the_initializer():
    assert map_in_workers(
        _square, [3, 1, 2], 1, initializer=_remember, initargs=(7,), progress=False
    ) == [9, 1, 4]
    assert _SEEN == [(7,)]
    assert map_in_workers(_square, [3, 1, 2], 2, progress=False) == [9, 1, 4]
    with pytest.raises(ValueError, match="workers must be an int >= 1, got 0"):
        map_in_workers(_square, [1], 0)
    assert default_workers("cpu") >= 1 and default_workers("cuda") == 1
