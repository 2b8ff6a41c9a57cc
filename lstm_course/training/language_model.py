"""An LSTM language model, its training loop over BPTT windows, sampling, checkpoints.

Chapter ``09_char_lm`` uses it on characters (Tiny Shakespeare), chapter ``10_word_lm_ptb`` on words (Penn
Treebank, Zaremba et al. 2014). Shapes: T steps, B parallel streams, V vocabulary
size, E embedding size, H hidden size, L layers.

    model = LanguageModel(V, E, H, L, dropout=0.2)
    loss = train_epoch(model, bptt_batches(batchify(train_ids, B), T), optimizer, clip=1.0)
    nats = evaluate(model, bptt_batches(batchify(valid_ids, B), T))

The text is one stream, so the state at the end of one window is the state at the
start of the next: :func:`train_epoch` carries it across windows and *detaches* it,
so backpropagation stops at the window's start (truncated BPTT) instead of running
back through every window seen since the start of the epoch. A whole run (epochs,
validation, the best weights kept) is :func:`lstm_course.training.lm_fit.fit_lm`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstm_course.checks import check_bool, check_int, check_positive, check_probability
from lstm_course.data.text import Vocab
from lstm_course.runtime import progress_bar
from lstm_course.training.model_tools import eval_mode, model_device

__all__ = [
    "LanguageModel",
    "check_lm_args",
    "detach_state",
    "train_epoch",
    "evaluate",
    "save_checkpoint",
    "load_checkpoint",
]

State = tuple[Tensor, Tensor]


def check_lm_args(
    vocab_size, embed_size, hidden_size, num_layers, dropout, tie_weights
) -> tuple[int, int, int, int, float, bool]:
    """The arguments every language model here shares, checked and returned in order:
    the sizes V, E, H, L (ints >= 1), ``dropout`` (a probability below 1) and
    ``tie_weights`` (a bool; True needs E == H)."""
    names = ("vocab_size", "embed_size", "hidden_size", "num_layers")
    values = (vocab_size, embed_size, hidden_size, num_layers)
    sizes = [check_int(name, value) for name, value in zip(names, values, strict=True)]
    dropout = check_probability("dropout", dropout)
    tie_weights = check_bool("tie_weights", tie_weights)
    if tie_weights and embed_size != hidden_size:
        raise ValueError(
            f"tie_weights needs embed_size == hidden_size (the decoder's weight "
            f"is (V, H), the embedding (V, E)), got E={embed_size}, "
            f"H={hidden_size}: make them equal or set tie_weights=False"
        )
    return (*sizes, dropout, tie_weights)


class LanguageModel(nn.Module):
    """Embedding -> multi-layer ``nn.LSTM`` -> linear decoder to next-token logits.

    Dropout (probability ``dropout``) sits on the non-recurrent connections only, as
    in Zaremba et al. (2014): on the embeddings, between LSTM layers and before the
    decoder; the recurrent path h_{t-1} -> h_t is never dropped.

    Args:
        vocab_size: V. embed_size: E. hidden_size: H. num_layers: L.
        tie_weights: share the embedding matrix (V, E) with the decoder's weight
            (V, H) (Press & Wolf 2017; Inan et al. 2017); needs E == H.
        init_range: if given, every parameter is drawn uniformly from
            [-init_range, init_range] (Zaremba et al.); else PyTorch's defaults.
    """

    def __init__(self, vocab_size: int, embed_size: int, hidden_size: int, num_layers: int,
                 dropout: float = 0.0, tie_weights: bool = False,
                 init_range: float | None = None):  # fmt: skip
        super().__init__()
        vocab_size, embed_size, hidden_size, num_layers, dropout, tie_weights = check_lm_args(
            vocab_size, embed_size, hidden_size, num_layers, dropout, tie_weights
        )
        if init_range is not None:
            check_positive("init_range", init_range, why=" or None")
        # Kept so a checkpoint can rebuild the same model (see save_checkpoint).
        self.config = {
            "vocab_size": vocab_size,
            "embed_size": embed_size,
            "hidden_size": hidden_size,
            "num_layers": num_layers,
            "dropout": dropout,
            "tie_weights": tie_weights,
            "init_range": init_range,
        }
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.drop = nn.Dropout(dropout)
        self.lstm = nn.LSTM(
            embed_size, hidden_size, num_layers, dropout=dropout if num_layers > 1 else 0.0
        )
        self.decoder = nn.Linear(hidden_size, vocab_size)
        if init_range is not None:
            for p in self.parameters():
                nn.init.uniform_(p, -init_range, init_range)
        if tie_weights:
            # One Parameter in two places: gradients from both uses add up in it.
            self.decoder.weight = self.embedding.weight

    def forward(self, tokens: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """tokens (T, B) ids -> logits (T, B, V) and the final state (h, c), each (L, B, H)."""
        if tokens.dim() != 2:
            raise ValueError(
                f"tokens must be (T, B) ids, time first, got shape {tuple(tokens.shape)}"
            )
        output, state = self.lstm(self.drop(self.embedding(tokens)), state)
        return self.decoder(self.drop(output)), state


def detach_state(state):
    """The same state values, cut from the graph that computed them.

    Works on a tensor, a tuple or list of them (an LSTM's ``(h, c)``), or None.
    """
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    raise TypeError(f"a state is a tensor, a tuple of tensors or None, got {type(state).__name__}")


def train_epoch(
    model: LanguageModel,
    batches: Iterable[tuple[Tensor, Tensor]],
    optimizer: torch.optim.Optimizer,
    clip: float | None = None,
    scheduler=None,
    progress: bool = True,
    desc: str = "train",
    batch_losses: list[float] | None = None,
    grad_norms: list[float] | None = None,
) -> float:
    """One pass over ``batches`` of (inputs (T, B), targets (T, B)); mean loss in nats.

    The state starts at zeros, is carried from window to window and detached after
    each one. ``clip``: rescale the joint gradient norm to at most this. ``scheduler``
    (optional) is stepped after every update, for per-update schedules; step per-epoch
    schedules yourself. ``batch_losses``, if a list, receives every window's loss;
    ``grad_norms``, if a list, every update's joint gradient norm *before* clipping.
    The mean weights each window by its number of targets (the last may be shorter).
    """
    if clip is not None:
        check_positive("clip", clip, why=" or None")
    device = model_device(model)
    model.train()
    state, total, count = None, 0.0, 0
    bar = progress_bar(batches, progress=progress, desc=desc, dynamic_ncols=True, leave=False)
    for step, (inputs, targets) in enumerate(bar):
        inputs, targets = inputs.to(device), targets.to(device)
        logits, state = model(inputs, state)
        state = detach_state(state)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if clip is not None:
            norm = nn.utils.clip_grad_norm_(model.parameters(), clip)
        elif grad_norms is not None:
            # Measured only: the gradients are left exactly as they are.
            norm = torch.linalg.vector_norm(
                torch.stack(
                    [
                        torch.linalg.vector_norm(p.grad)
                        for p in model.parameters()
                        if p.grad is not None
                    ]
                )
            )
        if grad_norms is not None:
            grad_norms.append(float(norm))
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        value = loss.item()
        total, count = total + value * targets.numel(), count + targets.numel()
        if batch_losses is not None:
            batch_losses.append(value)
        if progress and step % 20 == 0:
            bar.set_postfix(loss=f"{total / count:.3f}", refresh=False)
    if count == 0:
        raise ValueError("train_epoch got no batches")
    return total / count


@torch.no_grad()
def evaluate(model: LanguageModel, batches: Iterable[tuple[Tensor, Tensor]]) -> float:
    """Mean negative log-likelihood per target token, in nats, over the windows.

    ``batches`` yields ``(inputs, targets)`` pairs of token ids, each (T, B) (time first;
    T may vary, as in :func:`~lstm_course.data.bptt_batches`' shorter last window); the
    model maps inputs to logits (T, B, V). The state is carried across windows as in training, so the stream is scored as
    if read in one go. Runs in eval mode (no dropout) and restores the mode after.
    Divide by ln 2 for bits per token; exp() of it is the perplexity.
    """
    device = model_device(model)
    state, total, count = None, 0.0, 0
    with eval_mode(model):
        for inputs, targets in batches:
            targets = targets.to(device)
            logits, state = model(inputs.to(device), state)
            total += F.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="sum"
            ).item()
            count += targets.numel()
    if count == 0:
        raise ValueError("evaluate got no batches")
    return total / count


def save_checkpoint(
    path: str | os.PathLike, model: LanguageModel, vocab: Vocab | None = None, **metadata
) -> Path:
    """Write the weights, the model's constructor arguments, the vocabulary and any
    ``metadata`` (numbers, strings, lists of them) to ``path``; returns the path.

    Only tensors and plain Python values go in, so :func:`load_checkpoint` can read it
    with ``torch.load(weights_only=True)``, which cannot run code from the file. The
    file is written next to its final name and renamed, so a crash leaves no half file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "config": dict(model.config),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "metadata": metadata,
    }
    if vocab is not None:
        payload["vocab"] = {"itos": list(vocab.itos), "specials": list(vocab.specials)}
    partial = path.with_name(path.name + ".partial")
    torch.save(payload, partial)
    os.replace(partial, path)
    return path


def load_checkpoint(
    path: str | os.PathLike, device: torch.device | str = "cpu"
) -> tuple[LanguageModel, Vocab | None, dict]:
    """Rebuild a model saved by :func:`save_checkpoint`: ``(model, vocab, metadata)``.

    The model comes back in eval mode on ``device``; ``vocab`` is None if none was saved.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no checkpoint at {path}: train the model and save it first")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    model = LanguageModel(**payload["config"])
    model.load_state_dict(payload["state_dict"])
    vocab = None
    if "vocab" in payload:
        # Rebuild with the saved order: the specials keep their place, and every
        # other token is listed as a special too so nothing is re-sorted.
        vocab = Vocab([], specials=payload["vocab"]["itos"])
        vocab.specials = tuple(payload["vocab"]["specials"])
    return model.to(device).eval(), vocab, payload["metadata"]
