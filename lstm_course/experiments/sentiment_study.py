"""The controlled experiments of the sentiment chapter (``08_imdb_sentiment``).

A :class:`Recipe` says how reviews are read (how many tokens, padding at the front as
Keras does or at the end, batches bucketed by length or not) and which model reads them
(the LSTM's own dropout, pooling, dropout, one or two directions). Every recipe is trained
under one protocol, :func:`train_recipe`: Keras's initialization (forget-gate bias 1),
Adam (lr 1e-3, eps 1e-7), batches of 32, at most ``epochs`` epochs, early stopping on
validation accuracy with the best epoch's weights restored, then the test set once.

:func:`run_recipes` trains many ``(recipe, seed)`` :class:`Job` s side by side in
one-thread worker processes (:func:`lstm_course.runtime.map_in_workers`), and
:func:`summarize` gives each recipe's mean and standard deviation over its seeds.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from lstm_course.checks import check_int
from lstm_course.experiments.sentiment import SentimentLSTM, keras_init_, keras_pad, review_loader
from lstm_course.runtime import map_in_workers
from lstm_course.training import accuracy, evaluate, fit

__all__ = [
    "Recipe",
    "KERAS_RECIPE",
    "EncodedReviews",
    "Job",
    "RecipeRun",
    "RecipeSummary",
    "build_model",
    "recipe_loader",
    "train_recipe",
    "run_recipes",
    "summarize",
    "clearly_different",
]

BATCH_SIZE = 32
EVAL_BATCH_SIZE = 256


@dataclass(frozen=True)
class Recipe:
    """How reviews are read and which model reads them.

    maxlen: tokens kept per review (its last ``maxlen``, as Keras's ``pad_sequences``).
    front_pad: pad and cut at the front, every review exactly ``maxlen`` ids (Keras);
        otherwise pad at the end and read each review to its own last token.
    bucket: batches of reviews of similar length (only with end padding).
    lstm_dropout: Keras's ``dropout`` and ``recurrent_dropout`` of the LSTM layer, the
        same value for both: one mask per sequence on its input x_t and one on h_{t-1}
        (0: a plain ``nn.LSTM``, neither mask).
    pooling, embed_dropout, output_dropout, bidirectional, embed_dim, hidden_size: as
        for :class:`~lstm_course.experiments.sentiment.SentimentLSTM`.
    """

    name: str
    maxlen: int = 80
    front_pad: bool = True
    bucket: bool = False
    lstm_dropout: float = 0.2
    pooling: str = "last"
    embed_dropout: float = 0.0
    output_dropout: float = 0.0
    bidirectional: bool = False
    embed_dim: int = 128
    hidden_size: int = 128

    def then(self, name: str, **change) -> Recipe:
        """This recipe with ``change`` applied, under a new name: the next row."""
        return dataclasses.replace(self, name=name, **change)


#: The Keras example's model and input: 80 tokens padded and cut at the front,
#: Embedding(20000, 128), LSTM(128, dropout=0.2, recurrent_dropout=0.2), last state.
KERAS_RECIPE = Recipe("Keras model")


@dataclass(frozen=True)
class EncodedReviews:
    """The three splits as token ids: ``train``, ``val`` and ``test`` are each
    ``(ids, labels)``, ids a list of int lists (one per review), labels 0/1; index 0
    is padding and ``vocab_size`` the embedding's row count."""

    train: tuple[list[list[int]], list[int]]
    val: tuple[list[list[int]], list[int]]
    test: tuple[list[list[int]], list[int]]
    vocab_size: int


@dataclass(frozen=True)
class Job:
    """One training run: ``recipe`` from ``seed`` on the data named ``data`` (a key of
    the dict given to :func:`run_recipes`), at most ``epochs`` epochs, early stopping
    with ``patience`` (None: no early stopping, the last epoch's weights are tested);
    ``keep_weights`` returns the trained state dict."""

    recipe: Recipe
    seed: int
    data: str
    epochs: int
    patience: int | None = 2
    keep_weights: bool = False
    device: str = "cpu"


@dataclass(frozen=True)
class RecipeRun:
    """What one :class:`Job` measured. Per-epoch lists are 1..epochs trained;
    ``best_epoch`` is the epoch whose weights were tested (the last one without early
    stopping); ``stopped_early``: the patience ran out before the cap; ``seconds``: all
    epochs trained, validation passes included, not only those up to ``best_epoch``."""

    job: Job
    train_accuracy: list[float]
    val_accuracy: list[float]
    epoch_seconds: list[float]
    best_epoch: int
    stopped_early: bool
    test_accuracy: float
    weights: dict | None = dataclasses.field(default=None, repr=False)

    @property
    def val(self) -> float:
        """Validation accuracy of the tested weights."""
        return self.val_accuracy[self.best_epoch - 1]

    @property
    def seconds(self) -> float:
        return sum(self.epoch_seconds)


def build_model(recipe: Recipe, vocab_size: int) -> SentimentLSTM:
    """The recipe's model with Keras's initialization; index 0 (padding) is an ordinary,
    trainable embedding row, as in Keras."""
    rd = recipe.lstm_dropout
    model = SentimentLSTM(
        vocab_size,
        recipe.embed_dim,
        recipe.hidden_size,
        bidirectional=recipe.bidirectional,
        pooling=recipe.pooling,
        embed_dropout=recipe.embed_dropout,
        output_dropout=recipe.output_dropout,
        dropout=rd,
        recurrent_dropout=rd,
        pad_index=None,
    )
    return keras_init_(model)


def recipe_loader(
    recipe: Recipe, ids: Sequence[Sequence[int]], labels: Sequence[int], *, train: bool, seed: int
):
    """Batches of ``((tokens (B, T), lengths (B,)), labels (B,))`` as the recipe reads
    reviews: shuffled batches of 32 for training (seeded), batches of 256 otherwise."""
    if recipe.front_pad:
        rows = list(keras_pad(ids, recipe.maxlen, 0))
        bucket = False
    else:
        rows = [list(review)[-recipe.maxlen :] for review in ids]
        bucket = recipe.bucket
    size = BATCH_SIZE if train else EVAL_BATCH_SIZE
    return review_loader(rows, labels, size, shuffle=train, bucket=bucket, seed=seed)


def train_recipe(job: Job, reviews: EncodedReviews) -> RecipeRun:
    """Train ``job.recipe`` from ``job.seed`` under the chapter's protocol (see the
    module's docstring) and score the chosen weights on ``reviews.test`` once."""
    check_int("epochs", job.epochs)
    torch.manual_seed(job.seed)
    model = build_model(job.recipe, reviews.vocab_size)
    loaders = {
        split: recipe_loader(
            job.recipe, *getattr(reviews, split), train=split == "train", seed=job.seed
        )
        for split in ("train", "val", "test")
    }
    loss_fn = nn.BCEWithLogitsLoss()
    metrics = {"accuracy": accuracy}
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    history = fit(
        model,
        loaders["train"],
        loss_fn,
        optimizer,
        job.epochs,
        val_loader=loaders["val"],
        metrics=metrics,
        early_stopping=job.patience,
        monitor="val_accuracy",
        progress=False,
        device=job.device,
    )
    test = evaluate(model, loaders["test"], loss_fn, metrics)["accuracy"]
    epochs = len(history.train_loss)
    return RecipeRun(
        job=job,
        train_accuracy=list(history.train_accuracy),
        val_accuracy=list(history.val_accuracy),
        epoch_seconds=list(history.epoch_time),
        best_epoch=history.best_epoch if job.patience is not None else epochs,
        stopped_early=history.stopped_early,
        test_accuracy=test,
        weights={k: v.cpu() for k, v in model.state_dict().items()} if job.keep_weights else None,
    )


_DATA: dict[str, EncodedReviews] = {}


def _receive(data: dict[str, EncodedReviews]) -> None:
    _DATA.clear()
    _DATA.update(data)


def _run(job: Job) -> RecipeRun:
    return train_recipe(job, _DATA[job.data])


def _cost(job: Job) -> float:
    """A rough relative cost, only to start the longest jobs first."""
    r = job.recipe
    per_epoch = min(r.maxlen, 250) * (2 if r.bidirectional else 1) * (3 if r.lstm_dropout else 1)
    regularized = r.embed_dropout > 0 or r.output_dropout > 0
    expected_epochs = (
        job.epochs if job.patience is None else min(job.epochs, 10 if regularized else 5)
    )
    return per_epoch * expected_epochs


def run_recipes(
    jobs: Sequence[Job],
    data: dict[str, EncodedReviews],
    workers: int = 1,
    *,
    progress: bool = True,
) -> list[RecipeRun]:
    """Run every job, ``workers`` at a time in one-thread processes (1: here, in order),
    the costliest first; the runs come back in the order of ``jobs``. A run does not
    depend on which worker ran it or beside what."""
    missing = sorted({job.data for job in jobs} - set(data))
    if missing:
        raise ValueError(
            f"jobs name data {missing} that is not given: pass data={{name: EncodedReviews}}"
        )
    order = sorted(range(len(jobs)), key=lambda i: -_cost(jobs[i]))
    runs = map_in_workers(
        _run,
        [jobs[i] for i in order],
        workers,
        initializer=_receive,
        initargs=(data,),
        progress=progress,
        desc="training runs",
    )
    by_job = dict(zip(order, runs, strict=True))
    return [by_job[i] for i in range(len(jobs))]


@dataclass(frozen=True)
class RecipeSummary:
    """A recipe's runs over seeds: means and sample standard deviations (n - 1) of the
    chosen weights' validation and test accuracy; ``best_epochs`` per seed;
    ``capped``: how many seeds the epoch cap stopped (their patience had not run out);
    ``minutes``: mean training minutes per seed (every epoch trained)."""

    name: str
    seeds: int
    val_mean: float
    val_sd: float
    test_mean: float
    test_sd: float
    best_epochs: tuple[int, ...]
    capped: int
    minutes: float


def summarize(runs: Sequence[RecipeRun]) -> list[RecipeSummary]:
    """One :class:`RecipeSummary` per recipe name, in order of first appearance."""
    names = list(dict.fromkeys(run.job.recipe.name for run in runs))
    summaries = []
    for name in names:
        mine = [run for run in runs if run.job.recipe.name == name]
        val = [run.val for run in mine]
        test = [run.test_accuracy for run in mine]
        summaries.append(
            RecipeSummary(
                name=name,
                seeds=len(mine),
                val_mean=statistics.fmean(val),
                val_sd=statistics.stdev(val) if len(val) > 1 else float("nan"),
                test_mean=statistics.fmean(test),
                test_sd=statistics.stdev(test) if len(test) > 1 else float("nan"),
                best_epochs=tuple(run.best_epoch for run in mine),
                capped=sum(not run.stopped_early for run in mine),
                minutes=statistics.fmean(run.seconds for run in mine) / 60,
            )
        )
    return summaries


def clearly_different(a: RecipeSummary, b: RecipeSummary, split: str = "val") -> bool:
    """The chapter's rule: two recipes differ clearly on ``split`` ("val" or "test")
    when their means are further apart than twice the larger standard deviation."""
    if split not in ("val", "test"):
        raise ValueError(f"split must be 'val' or 'test', got {split!r}")
    mean_a, mean_b = getattr(a, f"{split}_mean"), getattr(b, f"{split}_mean")
    spread = max(getattr(a, f"{split}_sd"), getattr(b, f"{split}_sd"))
    return abs(mean_a - mean_b) > 2 * spread
