"""Word-level language modelling on Penn Treebank: Zaremba et al.'s configurations,
the training run they describe, and a command line for readers with a GPU.

    python -m lstm_course.experiments.ptb small                  # 2 x 200, no dropout, 13 epochs
    python -m lstm_course.experiments.ptb medium --device cuda   # 2 x 650, dropout 0.5, 39 epochs
    python -m lstm_course.experiments.ptb large --device cuda    # 2 x 1500, dropout 0.65, 55 epochs

Chapter ``10_word_lm_ptb`` runs ``small`` and a shortened regularized model on a CPU. Shapes: N tokens,
B parallel streams, T steps per BPTT window, V = 10,000 words.
"""

from __future__ import annotations

import argparse
import itertools
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch

from lstm_course.checks import check_int
from lstm_course.data import load_ptb
from lstm_course.data.batching import batchify, bptt_batches
from lstm_course.data.text import Vocab
from lstm_course.training.language_model import LanguageModel, evaluate, save_checkpoint
from lstm_course.training.lm_fit import LMRun, fit_lm

__all__ = [
    "PTBConfig",
    "ZAREMBA",
    "ZAREMBA_PERPLEXITY",
    "PTBData",
    "load_ptb_ids",
    "perplexity",
    "PTBRun",
    "train",
    "main",
]


@dataclass(frozen=True)
class PTBConfig:
    """One training recipe: the model, SGD with a step-decay schedule, clipping.

    The learning rate of epoch e (1-based) is ``lr * decay ** max(0, e - constant_epochs)``:
    constant for ``constant_epochs`` epochs, then multiplied by ``decay`` every epoch
    (Zaremba et al. 2014, section 4.1).

    ``lr`` and ``clip`` are in the units of Zaremba et al.'s code, whose loss for a
    window is the *sum* over its T steps of the mean over the B streams. ``train_epoch``
    minimizes the mean over all T * B targets, whose gradient is 1/T of that, so
    :func:`train` runs SGD with ``lr * T`` and clips at ``clip / T``: the same updates,
    since an SGD step is the learning rate times the clipped gradient and clipping
    commutes with scaling (see :meth:`mean_loss_sgd`).
    """

    hidden: int
    layers: int = 2
    dropout: float = 0.0
    tie_weights: bool = False
    init_range: float = 0.1
    batch: int = 20
    bptt: int = 20
    epochs: int = 13
    lr: float = 1.0
    constant_epochs: int = 4
    decay: float = 0.5
    clip: float = 5.0

    def __post_init__(self):
        check_int("epochs", self.epochs)
        check_int("constant_epochs", self.constant_epochs, minimum=0)
        if not 0 < self.decay <= 1:
            raise ValueError(
                f"decay must be in (0, 1] (the factor applied each epoch), got {self.decay}"
            )

    def lr_at(self, epoch: int) -> float:
        """The learning rate of ``epoch`` (1-based)."""
        if epoch < 1:
            raise ValueError(f"epochs count from 1, got {epoch}")
        return self.lr * self.decay ** max(0, epoch - self.constant_epochs)

    def mean_loss_sgd(self, epoch: int) -> tuple[float, float]:
        """``(learning rate, clip)`` for the mean-over-targets loss that give the same
        update in ``epoch`` as ``lr_at(epoch)`` and ``clip`` on the summed-over-steps loss."""
        return self.lr_at(epoch) * self.bptt, self.clip / self.bptt

    def model(self, vocab_size: int) -> LanguageModel:
        """A fresh model of this configuration (embedding size = hidden size)."""
        return LanguageModel(
            vocab_size,
            self.hidden,
            self.hidden,
            self.layers,
            dropout=self.dropout,
            tie_weights=self.tie_weights,
            init_range=self.init_range,
        )


# The columns of ZAREMBA's rows; the other fields keep PTBConfig's defaults (2 layers,
# batches of 20 streams, lr 1.0).
_COLUMNS = "hidden dropout init_range bptt epochs constant_epochs decay clip".split()

#: The three models of Zaremba, Sutskever & Vinyals (2014): the non-regularized
#: "small" one and the regularized "medium" and "large" ones, as section 4.1 of the
#: paper describes them. The text gives no clipping threshold for the small one: its 5
#: is the released code's. That code also halves the small one's learning rate only
#: after epoch 5, not 4; here, as in 10_word_lm_ptb, the text's schedule is kept.
ZAREMBA = {
    name: PTBConfig(**dict(zip(_COLUMNS, row, strict=True)))
    for name, row in {
        "small": (200, 0.0, 0.1, 20, 13, 4, 0.5, 5.0),
        "medium": (650, 0.5, 0.05, 35, 39, 6, 1 / 1.2, 5.0),
        "large": (1500, 0.65, 0.04, 35, 55, 14, 1 / 1.15, 10.0),
    }.items()
}

#: (validation, test) perplexity reported in Zaremba et al. (2014), Table 1.
ZAREMBA_PERPLEXITY = {"small": (120.7, 114.5), "medium": (86.2, 82.7), "large": (82.2, 78.4)}


@dataclass
class PTBData:
    """The vocabulary and the three splits as 1-D id tensors."""

    vocab: Vocab
    train: torch.Tensor
    valid: torch.Tensor
    test: torch.Tensor


def load_ptb_ids(
    train_tokens: int | None = None, eval_tokens: int | None = None, progress: bool = True
) -> PTBData:
    """Penn Treebank as ids over its 10,000-word vocabulary, built from the training split.

    ``train_tokens`` keeps only the first that many training tokens and ``eval_tokens``
    the first that many validation and test tokens (for quick runs); the vocabulary is
    still built from the whole training split, so ids never change.
    """
    # Checked before the (slow) loading; slicing with None keeps the whole split.
    for name, count in (("train_tokens", train_tokens), ("eval_tokens", eval_tokens)):
        if count is not None:
            check_int(name, count, minimum=2, why=" or None")
    train = load_ptb("train", progress=progress)
    vocab = Vocab(train, specials=())
    ids = {
        split: torch.tensor(vocab.encode(tokens))
        for split, tokens in [
            ("train", train),
            ("valid", load_ptb("valid", progress=progress)),
            ("test", load_ptb("test", progress=progress)),
        ]
    }
    for name, keep in [("train", train_tokens), ("valid", eval_tokens), ("test", eval_tokens)]:
        ids[name] = ids[name][:keep]
    return PTBData(vocab, ids["train"], ids["valid"], ids["test"])


def perplexity(model: LanguageModel, ids: torch.Tensor, batch: int = 1, bptt: int = 35) -> float:
    """exp(mean NLL per word) of ``model`` reading ``ids`` as ``batch`` streams.

    ``ids`` (N,) holds token ids; :func:`~lstm_course.data.batchify` cuts it into
    ``batch`` streams, (N // batch, batch), the remainder dropped, read in windows of
    inputs and targets (T, batch) each, T = ``bptt`` (shorter last window).

    ``batch=1`` reads the text as one stream with the state carried throughout, as
    Zaremba et al.'s code scored the test set (its validation read 20 streams); more
    streams are faster but each starts from a zero state, which costs a little.
    """
    return math.exp(evaluate(model, bptt_batches(batchify(ids, batch), bptt)))


@dataclass
class PTBRun:
    """What :func:`train` returns: the model selected on validation and the curves.

    Attributes:
        model: the model of the epoch with the best validation perplexity.
        config: the recipe it was trained with.
        history: per-epoch lists, one entry per epoch: ``"lr"`` (the recipe's learning
            rate), ``"train_ppl"`` (with dropout on), ``"valid_ppl"`` and ``"minutes"``
            (cumulative training time, validation excluded).
        best_epoch: the epoch (from 1) whose model is kept.
        minutes: the whole training time, validation excluded.

    ``history`` is a dict with these fixed keys, not a record with attributes: the old
    spelling, kept until chapter ``10_word_lm_ptb``, which indexes it so
    (``run.history["lr"]``, ``["train_ppl"]``, ``["valid_ppl"]``), is re-executed.
    """

    model: LanguageModel
    config: PTBConfig
    history: dict[str, list[float]] = field(default_factory=dict)
    best_epoch: int = 0
    minutes: float = 0.0


def train(
    config: PTBConfig,
    data: PTBData,
    device: torch.device | str = "cpu",
    checkpoint: str | Path | None = None,
    valid_batch: int = 10,
    progress: bool = True,
    log: Callable[[str], None] | None = print,
) -> PTBRun:
    """Train ``config`` on ``data.train``; after each epoch measure validation perplexity.

    The course's one language-model loop (:func:`lstm_course.training.lm_fit.fit_lm`)
    with SGD, the configuration's per-epoch learning rate and its clipping (converted
    by :meth:`PTBConfig.mean_loss_sgd` for the mean loss that ``train_epoch`` uses).
    Validation during training reads ``valid_batch`` streams (faster); the model with
    the best validation perplexity is kept (and written to ``checkpoint`` if given)
    and returned. ``history`` has per-epoch ``lr`` (the recipe's), ``train_ppl`` (with dropout on),
    ``valid_ppl`` and ``minutes`` (cumulative training time, validation excluded).
    """
    model = config.model(len(data.vocab)).to(torch.device(device))

    def after_epoch(epoch: int, run: LMRun, improved: bool) -> None:
        train_ppl, valid_ppl = math.exp(run.train_loss[-1]), math.exp(run.valid_loss[-1])
        if improved and checkpoint is not None:
            save_checkpoint(
                checkpoint,
                model,
                data.vocab,
                epoch=epoch,
                valid_ppl=valid_ppl,
                recipe=str(asdict(config)),
            )
        if log is not None:
            log(
                f"epoch {epoch:2d}  lr {config.lr_at(epoch):8.4f}  train ppl {train_ppl:7.1f}  "
                f"valid ppl {valid_ppl:7.1f}  {sum(run.seconds) / 60:5.1f} min"
            )

    # The clip of mean_loss_sgd is the same in every epoch: clip / T.
    run = fit_lm(
        model,
        data.train,
        data.valid,
        config.epochs,
        lr=lambda epoch: config.mean_loss_sgd(epoch)[0],
        clip=config.clip / config.bptt,
        batch=config.batch,
        bptt=config.bptt,
        valid_batch=valid_batch,
        cosine=False,
        progress=progress,
        optimizer=torch.optim.SGD,
        on_epoch=after_epoch,
    )
    minutes = [seconds / 60 for seconds in itertools.accumulate(run.seconds)]
    history = {
        "lr": [config.lr_at(epoch) for epoch in range(1, config.epochs + 1)],
        "train_ppl": run.train_ppl,
        "valid_ppl": run.valid_ppl,
        "minutes": minutes,
    }
    return PTBRun(run.model, config, history, run.best_epoch, minutes[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m lstm_course.experiments.ptb",
        description="Train one of Zaremba et al.'s Penn Treebank LSTMs and report perplexity.",
    )
    parser.add_argument("config", choices=sorted(ZAREMBA))
    parser.add_argument(
        "--device", default=None, help="cuda, mps or cpu (default: the best there is)"
    )
    parser.add_argument("--epochs", type=int, default=None, help="override the paper's epoch count")
    parser.add_argument("--checkpoint", default=None, help="where to save the best model (.pt)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)

    from lstm_course.runtime import get_device

    config = ZAREMBA[args.config]
    if args.epochs is not None:
        config = replace(config, epochs=args.epochs)
    device = get_device(args.device)
    torch.manual_seed(0)
    data = load_ptb_ids(progress=not args.no_progress)
    print(f"{args.config}: {config} on {device}")
    run = train(config, data, device, checkpoint=args.checkpoint, progress=not args.no_progress)
    valid, test = perplexity(run.model, data.valid), perplexity(run.model, data.test)
    paper_valid, paper_test = ZAREMBA_PERPLEXITY[args.config]
    print(
        f"best epoch {run.best_epoch}: valid {valid:.1f} (paper {paper_valid}), "
        f"test {test:.1f} (paper {paper_test}), {run.minutes:.1f} min of training"
    )


if __name__ == "__main__":
    main()
