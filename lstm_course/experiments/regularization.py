"""Regularizing an LSTM language model: which dropout masks, where they go, tied
embeddings, and one training run per recipe so that recipes can be compared (chapter ``12_regularization``).

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

``fit_lm`` (the one language-model loop, returning an ``LMRun``) and ``count_parameters``
live in :mod:`lstm_course.training`; they are re-exported here, where chapter ``12_regularization`` imports them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstm_course.checks import check_bool, check_positive, check_probability
from lstm_course.layers.dropout import (
    dropout_lstm_layer,
    dropout_mask,
    embedding_dropout,
    locked_dropout,
)
from lstm_course.training.language_model import check_lm_args
from lstm_course.training.lm_fit import LMRun, fit_lm
from lstm_course.training.model_tools import count_parameters

__all__ = [
    "locked_dropout",
    "embedding_dropout",
    "RegularizedLM",
    "count_parameters",
    "LMRun",
    "fit_lm",
]

State = tuple[Tensor, Tensor]


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
        decoder_std: if given, the decoder's weight starts N(0, decoder_std^2) instead
            of PyTorch's uniform +-1/sqrt(H). A tied decoder starts as the embedding,
            N(0, 1), about sqrt(3H) times larger than an untied one; ``decoder_std=1``
            starts an untied decoder at that scale, so that a comparison of tied and
            untied models can change the tie alone. Not with ``tie_weights``.

    Every other parameter keeps PyTorch's default initialization.

    ``forward(tokens (T, B), state=None)`` returns logits (T, B, V) and the final
    ``(h, c)``, each (L, B, H), like ``language_model.LanguageModel``, so its
    ``train_epoch``, ``evaluate`` and :func:`fit_lm` work unchanged.
    """

    def __init__(self, vocab_size: int, embed_size: int, hidden_size: int, num_layers: int,
                 dropout: float = 0.0, variational: bool = False, recurrent_dropout: float = 0.0,
                 embedding_dropout: float = 0.0, tie_weights: bool = False,
                 decoder_std: float | None = None):  # fmt: skip
        super().__init__()
        V, E, H, L, self.dropout, tie_weights = check_lm_args(
            vocab_size, embed_size, hidden_size, num_layers, dropout, tie_weights
        )
        self.recurrent_dropout = check_probability("recurrent_dropout", recurrent_dropout)
        self.embedding_dropout = check_probability("embedding_dropout", embedding_dropout)
        variational = check_bool("variational", variational)
        self.variational = variational
        self.embedding = nn.Embedding(V, E)
        self.layers = nn.ModuleList(nn.LSTM(E if k == 0 else H, H) for k in range(L))
        self.decoder = nn.Linear(H, V)
        if decoder_std is not None:
            check_positive("decoder_std", decoder_std, why=" or None")
            if tie_weights:
                raise ValueError(
                    "decoder_std sets an untied decoder's starting scale; a tied decoder "
                    "is the embedding: leave decoder_std=None with tie_weights=True"
                )
            with torch.no_grad():
                self.decoder.weight.normal_(0.0, decoder_std)
        self.decoder_std = decoder_std
        if tie_weights:
            self.decoder.weight = self.embedding.weight  # one Parameter, used twice
        self.tie_weights = tie_weights

    def extra_repr(self) -> str:
        return (
            f"dropout={self.dropout}, variational={self.variational}, "
            f"recurrent_dropout={self.recurrent_dropout}, "
            f"embedding_dropout={self.embedding_dropout}, tie_weights={self.tie_weights}, "
            f"decoder_std={self.decoder_std}"
        )

    def _drop(self, x: Tensor) -> Tensor:
        if not self.training or self.dropout == 0:
            return x  # no draw at all, so the random stream is the same as without dropout
        if self.variational:
            return locked_dropout(x, self.dropout, self.training)
        return F.dropout(x, self.dropout, self.training)

    def forward(self, tokens: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        if tokens.dim() != 2:
            raise ValueError(
                f"tokens must be (T, B) ids, time first, got shape {tuple(tokens.shape)}"
            )
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
                x, (h, c) = dropout_lstm_layer(
                    x,
                    h0[0],
                    c0[0],
                    lstm.weight_ih_l0,
                    lstm.weight_hh_l0,
                    lstm.bias_ih_l0 + lstm.bias_hh_l0,
                    recurrent_mask=m_h,
                )
                h, c = h[None], c[None]
            else:
                x, (h, c) = lstm(x, (h0, c0))
            x = self._drop(x)  # between layers, and before the decoder after the last
            hs.append(h)
            cs.append(c)
        return self.decoder(x), (torch.cat(hs), torch.cat(cs))
