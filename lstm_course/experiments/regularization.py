"""Regularizing an LSTM language model: which dropout masks, where they go, tied
embeddings, and one training run per recipe so that recipes can be compared (chapter 12).

Shapes: T steps, B parallel streams, V vocabulary size, E embedding size, H hidden
size, L layers. Every mask is "inverted": kept entries are scaled by 1/(1-p) in
training, so nothing changes in evaluation, where no mask is drawn.

- **standard** dropout (Zaremba et al. 2014): a fresh mask for every entry of a
  (T, B, F) activation, used only on the non-recurrent connections (the embeddings,
  between layers, before the decoder);
- **variational** ("locked") dropout (Gal & Ghahramani 2016): one (B, F) mask per
  window, the same at every step, on those connections and, with
  ``recurrent_dropout``, on h_{t-1} where it enters the gates;
- **embedding** dropout (Gal & Ghahramani 2016; Merity et al. 2018): one mask over the
  V rows of the embedding matrix, so a dropped word is dropped wherever it occurs in
  the window (all its occurrences read the zero vector).

    model = RegularizedLM(V, 200, 200, 2, dropout=0.5, variational=True,
                          recurrent_dropout=0.25, embedding_dropout=0.1, tie_weights=True)
    run = fit_lm(model, train_ids, valid_ids, epochs=20, lr=2e-3, clip=0.25)
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstm_course.data.text import batchify, bptt_batches
from lstm_course.layers.dropout import _count, _probability, dropout_lstm_layer, dropout_mask
from lstm_course.training.language_model import evaluate, train_epoch

__all__ = [
    "locked_dropout",
    "embedding_dropout",
    "RegularizedLM",
    "count_parameters",
    "LMRun",
    "fit_lm",
]

State = tuple[Tensor, Tensor]


def locked_dropout(x: Tensor, p: float, training: bool = True,
                   generator: torch.Generator | None = None) -> Tensor:
    """Variational dropout of a (T, B, F) activation: one (B, F) mask for all T steps."""
    p = _probability("p", p)
    if not training or p == 0:
        return x
    if x.dim() != 3:
        raise ValueError(f"locked_dropout needs a (T, B, F) tensor, got shape {tuple(x.shape)}")
    return x * dropout_mask(p, (1, *x.shape[1:]), x, generator)


def embedding_dropout(weight: Tensor, p: float, training: bool = True,
                      generator: torch.Generator | None = None) -> Tensor:
    """The (V, E) embedding matrix with whole rows (words) zeroed with probability p.

    Look tokens up in the result (``F.embedding(tokens, dropped)``): every occurrence
    of a dropped word reads zeros, every kept word its row scaled by 1/(1-p).
    """
    p = _probability("p", p)
    if not training or p == 0:
        return weight
    return weight * dropout_mask(p, (weight.shape[0], 1), weight, generator)


class RegularizedLM(nn.Module):
    """Embedding -> L one-layer ``nn.LSTM``s -> linear decoder, with dropout where asked.

    Args:
        vocab_size: V. embed_size: E. hidden_size: H. num_layers: L.
        dropout: probability on the non-recurrent connections: the embeddings fed to
            layer 1, the outputs passed between layers, the top outputs fed to the decoder.
        variational: those masks are drawn once per window and sequence (B, F) and
            reused at every step; else a fresh mask per entry and step (Zaremba et al.).
        recurrent_dropout: probability on h_{t-1} where it enters the gates, one (B, H)
            mask per layer and window (Gal & Ghahramani). Training then runs the
            layer's time loop in Python (slower); evaluation always uses ``nn.LSTM``.
        embedding_dropout: probability of dropping a word (a row of the embedding).
        tie_weights: the decoder's weight is the embedding matrix; needs E == H.

    Every parameter keeps PyTorch's default initialization (the embedding N(0, 1), so a
    tied decoder starts with that matrix as its weight).

    ``forward(tokens (T, B), state=None)`` returns logits (T, B, V) and the final
    ``(h, c)``, each (L, B, H), like ``language_model.LanguageModel``, so its
    ``train_epoch`` and ``evaluate`` work unchanged.
    """

    def __init__(self, vocab_size: int, embed_size: int, hidden_size: int, num_layers: int,
                 dropout: float = 0.0, variational: bool = False,
                 recurrent_dropout: float = 0.0, embedding_dropout: float = 0.0,
                 tie_weights: bool = False):
        super().__init__()
        V, E, H, L = (_count(n, v) for n, v in [("vocab_size", vocab_size), ("embed_size", embed_size),
                                                ("hidden_size", hidden_size), ("num_layers", num_layers)])
        self.dropout = _probability("dropout", dropout)
        self.recurrent_dropout = _probability("recurrent_dropout", recurrent_dropout)
        self.embedding_dropout = _probability("embedding_dropout", embedding_dropout)
        if not isinstance(variational, bool) or not isinstance(tie_weights, bool):
            raise ValueError(f"variational and tie_weights must be True or False, got "
                             f"{variational!r} and {tie_weights!r}")
        if tie_weights and E != H:
            raise ValueError(f"tie_weights needs embed_size == hidden_size (the decoder's weight "
                             f"is (V, H), the embedding (V, E)), got E={E}, H={H}")
        self.variational = variational
        self.embedding = nn.Embedding(V, E)
        self.layers = nn.ModuleList(nn.LSTM(E if k == 0 else H, H) for k in range(L))
        self.decoder = nn.Linear(H, V)
        if tie_weights:
            self.decoder.weight = self.embedding.weight  # one Parameter, used twice
        self.tie_weights = tie_weights

    def extra_repr(self) -> str:
        return (f"dropout={self.dropout}, variational={self.variational}, "
                f"recurrent_dropout={self.recurrent_dropout}, "
                f"embedding_dropout={self.embedding_dropout}, tie_weights={self.tie_weights}")

    def _drop(self, x: Tensor) -> Tensor:
        if not self.training or self.dropout == 0:
            return x  # no draw at all, so the random stream is the same as without dropout
        if self.variational:
            return locked_dropout(x, self.dropout, self.training)
        return F.dropout(x, self.dropout, self.training)

    def forward(self, tokens: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        if tokens.dim() != 2:
            raise ValueError(f"tokens must be (T, B) ids, time first, got shape {tuple(tokens.shape)}")
        weight = embedding_dropout(self.embedding.weight, self.embedding_dropout, self.training)
        x = self._drop(F.embedding(tokens, weight))
        B = tokens.shape[1]
        hs, cs = [], []
        for k, lstm in enumerate(self.layers):
            if state is None:
                h0 = c0 = x.new_zeros(1, B, lstm.hidden_size)
            else:
                h0, c0 = state[0][k : k + 1], state[1][k : k + 1]
            if self.training and self.recurrent_dropout > 0:
                m_h = dropout_mask(self.recurrent_dropout, (B, lstm.hidden_size), x)
                x, (h, c) = dropout_lstm_layer(x, h0[0], c0[0], lstm.weight_ih_l0,
                                               lstm.weight_hh_l0, lstm.bias_ih_l0 + lstm.bias_hh_l0,
                                               recurrent_mask=m_h)
                h, c = h[None], c[None]
            else:
                x, (h, c) = lstm(x, (h0, c0))
            x = self._drop(x)  # between layers, and before the decoder after the last
            hs.append(h)
            cs.append(c)
        return self.decoder(x), (torch.cat(hs), torch.cat(cs))


def count_parameters(model: nn.Module) -> int:
    """Number of trainable numbers; a tied (shared) Parameter is counted once."""
    return sum(p.numel() for p in model.parameters())


@dataclass
class LMRun:
    """What :func:`fit_lm` returns. ``history`` holds per-epoch ``train_ppl`` (dropout
    on), ``valid_ppl`` and ``seconds`` (training time of the epoch, validation
    excluded); ``grad_norms`` every update's gradient norm before clipping."""

    model: nn.Module
    history: dict[str, list[float]] = field(default_factory=dict)
    grad_norms: list[float] = field(default_factory=list)
    best_epoch: int = 0

    @property
    def best_valid_ppl(self) -> float:
        return self.history["valid_ppl"][self.best_epoch - 1]

    @property
    def seconds_per_epoch(self) -> float:
        return sum(self.history["seconds"]) / len(self.history["seconds"])


def fit_lm(model: nn.Module, train_ids: Tensor, valid_ids: Tensor, epochs: int, lr: float,
           clip: float | None = None, batch: int = 20, bptt: int = 35, valid_batch: int = 10,
           cosine: bool = True, progress: bool = False) -> LMRun:
    """Train with Adam for ``epochs`` epochs of truncated BPTT.

    The learning rate starts at ``lr`` and, with ``cosine``, falls along a half cosine
    to 0 at the last update, so every recipe ends its budget annealed; else it stays.

    After every epoch the validation perplexity is measured (dropout off); the returned
    model holds the weights of the best epoch (selection on validation, never on test)
    and is in eval mode. ``clip``: gradient norm threshold, or None for no clipping.
    """
    _count("epochs", epochs)
    device = next(model.parameters()).device
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    train_batches = bptt_batches(batchify(train_ids, batch), bptt)
    total = epochs * len(train_batches)
    scheduler = (torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda update: 0.5 * (1 + math.cos(math.pi * update / total)))
        if cosine else None)
    valid_batches = bptt_batches(batchify(valid_ids, valid_batch), bptt)
    run = LMRun(model, {"train_ppl": [], "valid_ppl": [], "seconds": []})
    best, best_state = math.inf, None
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        nats = train_epoch(model, train_batches, optimizer, clip=clip, scheduler=scheduler,
                           progress=progress,
                           desc=f"epoch {epoch}", grad_norms=run.grad_norms)
        if device.type == "cuda":
            torch.cuda.synchronize()
        run.history["seconds"].append(time.perf_counter() - start)
        valid_ppl = math.exp(evaluate(model, valid_batches))
        run.history["train_ppl"].append(math.exp(nats))
        run.history["valid_ppl"].append(valid_ppl)
        if valid_ppl < best:
            best, run.best_epoch = valid_ppl, epoch
            best_state = copy.deepcopy(model.state_dict())
    if best_state is None:
        raise ValueError("the validation perplexity was never finite: the run diverged "
                         "(lower lr, or clip the gradient norm)")
    model.load_state_dict(best_state)
    model.eval()
    return run
