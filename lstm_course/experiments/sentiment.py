"""Sentiment classification of reviews (chapter ``08_imdb_sentiment``): batches, the LSTM classifier and a
running prediction. Its TF-IDF logistic-regression baseline is ``sentiment_baseline``.

Reviews are lists of token ids (``Vocab.encode(tokenize(text))``). A batch is
``((tokens (B, T), lengths (B,)), labels (B,) float)``, right-padded, so
``lstm_course.training.loop.fit`` can call ``model(tokens, lengths)`` and a binary
cross-entropy on one logit per review. :func:`keras_pad` reproduces Keras's
``pad_sequences`` (padding and truncation at the front) for the Keras example.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

from lstm_course.checks import check_bool, check_int, check_probability
from lstm_course.data.batching import BucketBatchSampler, last_valid_step, pack, pad_batch, unpack
from lstm_course.data.text import Vocab
from lstm_course.layers.dropout import DropoutLSTM
from lstm_course.training.model_tools import eval_mode, model_device

__all__ = [
    "KERAS_FILTERS",
    "KERAS_SPECIALS",
    "keras_words",
    "keras_vocab",
    "keras_encode",
    "POOLINGS",
    "keras_pad",
    "reverse_padded",
    "collate",
    "review_loader",
    "SentimentLSTM",
    "running_predictions",
    "keras_init_",
]

POOLINGS = ("last", "max", "mean", "maxmean")

#: Keras's ``Tokenizer`` default ``filters``: each becomes a space before the split.
KERAS_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
#: ``keras.datasets.imdb``'s reserved indices: 0 padding, 1 start of review
#: (``start_char``), 2 out of vocabulary (``oov_char``), 3 unused (words start at
#: ``index_from=3`` + 1).
KERAS_SPECIALS = ("<pad>", "<start>", "<unk>", "<unused>")
_KERAS_TABLE = str.maketrans(KERAS_FILTERS, " " * len(KERAS_FILTERS))


def keras_words(text: str) -> list[str]:
    """Keras's ``text_to_word_sequence`` with its defaults: lowercase, every character
    of :data:`KERAS_FILTERS` replaced by a space, split on whitespace. Punctuation
    goes, the apostrophe stays, and ``<br />`` leaves the word ``br``, as in Keras's
    IMDB: ``"Great!<br />Don't."`` -> ``['great', 'br', "don't"]``."""
    if not isinstance(text, str):
        raise TypeError(f"keras_words needs a str, got {type(text).__name__}")
    return text.lower().translate(_KERAS_TABLE).split()


def keras_vocab(word_lists: Sequence[Sequence[str]], num_words: int = 20_000) -> Vocab:
    """The vocabulary of ``keras.datasets.imdb.load_data(num_words=...)``: indices 0..3
    are :data:`KERAS_SPECIALS`, then the most frequent words, ``num_words`` indices in
    all (19,996 words for 20,000); rarer words map to index 2. Build it from the
    training reviews only (Keras's index was counted over its whole corpus)."""
    num_words = check_int("num_words", num_words, len(KERAS_SPECIALS) + 1)
    return Vocab(word_lists, max_size=num_words, specials=KERAS_SPECIALS)


def keras_encode(vocab: Vocab, words: Sequence[str]) -> list[int]:
    """One review's ids as Keras's IMDB gives them: the start mark (1), then each word's
    index in ``vocab`` (:func:`keras_vocab`), 2 for a word outside it."""
    return [vocab.stoi["<start>"], *vocab.encode(words)]


def keras_pad(sequences: Sequence[Sequence[int]], maxlen: int, pad_index: int = 0) -> Tensor:
    """Keras's ``pad_sequences(seqs, maxlen)`` with its defaults: (N, maxlen) LongTensor.

    Both defaults are ``'pre'``: a longer review loses its *beginning* (the last
    ``maxlen`` tokens are kept), a shorter one gets ``pad_index`` in *front*, so an LSTM
    reads the padding first and ends on the review's last token.
    """
    maxlen = check_int("maxlen", maxlen)
    out = torch.full((len(sequences), maxlen), pad_index, dtype=torch.long)
    for i, seq in enumerate(sequences):
        kept = list(seq)[-maxlen:]
        if kept:
            out[i, maxlen - len(kept) :] = torch.as_tensor(kept, dtype=torch.long)
    return out


def reverse_padded(x: Tensor, lengths: Tensor) -> Tensor:
    """Reverse each row's first ``lengths[b]`` steps, leaving the padding at the end.

    x is (B, T, ...) right-padded. Applied twice it is the identity. An LSTM run over
    the result is the backward direction of a bidirectional LSTM, exactly, without
    packing: each review is read from its last real token, padding only after it.
    """
    B, T = x.shape[:2]
    steps = torch.arange(T, device=x.device)[None, :]
    lengths = lengths.to(x.device)[:, None]
    index = torch.where(steps < lengths, lengths - 1 - steps, steps)  # (B, T)
    index = index.view(B, T, *([1] * (x.dim() - 2))).expand_as(x)
    return x.gather(1, index)


def collate(batch: Sequence[tuple[Sequence[int], int]], pad_index: int = 0):
    """[(ids, label), ...] -> ((tokens (B, T), lengths (B,)), labels (B,) float32)."""
    tokens, lengths = pad_batch([ids for ids, _ in batch], pad_index)
    labels = torch.tensor([label for _, label in batch], dtype=torch.float32)
    return (tokens, lengths), labels


def review_loader(
    ids: Sequence[Sequence[int]],
    labels: Sequence[int],
    batch_size: int,
    *,
    shuffle: bool = False,
    bucket: bool = False,
    seed: int = 0,
    pad_index: int = 0,
) -> DataLoader:
    """Batches of reviews for :func:`lstm_course.training.loop.fit`.

    ``bucket=True`` groups reviews of similar length (see ``BucketBatchSampler``), so
    a batch is padded to little more than its longest review rather than the longest
    in a random sample. ``seed`` fixes the order of every epoch.
    """
    check_int("batch_size", batch_size)
    check_bool("shuffle", shuffle)
    check_bool("bucket", bucket)
    if len(ids) != len(labels) or len(ids) == 0:
        raise ValueError(
            f"need as many labels as reviews (and at least one), got "
            f"{len(ids)} reviews and {len(labels)} labels"
        )
    data = list(zip(ids, labels, strict=True))

    def fn(batch):
        return collate(batch, pad_index)

    if bucket:
        sampler = BucketBatchSampler([len(x) for x in ids], batch_size, shuffle, seed)
        return DataLoader(data, batch_sampler=sampler, collate_fn=fn)
    return DataLoader(
        data,
        batch_size=batch_size,
        shuffle=shuffle,
        collate_fn=fn,
        generator=torch.Generator().manual_seed(seed),
    )


class SentimentLSTM(nn.Module):
    """Embedding -> LSTM -> pooling over time -> one logit per review.

    Args:
        vocab_size, embed_dim (E), hidden_size (H).
        bidirectional: add a second LSTM that reads each review backwards; features
            are [forward, backward], 2H.
        pooling: ``"last"`` (the state after the last real token; for the backward
            direction, after the first), ``"max"`` or ``"mean"`` over the real steps,
            or ``"maxmean"`` (both, concatenated).
        packed: run the LSTMs on packed sequences. Otherwise they run on the padded
            batch, which gives the same result (the padding comes after each review in
            both directions, see :func:`reverse_padded`) and is much faster on a CPU.
        embed_dropout, output_dropout: ordinary dropout on the embeddings and on the
            pooled features, in training.
        dropout, recurrent_dropout: Keras-style masks on the LSTM's input and on
            h_{t-1} (see :class:`~lstm_course.layers.dropout.DropoutLSTM`);
            unidirectional and unpacked only (it is a Python loop).
        pad_index: the embedding row kept at zero and out of training (``padding_idx``),
            or None for none: Keras trains index 0 like any word, which matters when the
            model reads the padding (front padding).

    ``forward(tokens (B, T), lengths (B,)) -> logits (B,)``. The LSTMs are
    ``self.lstm`` and, if bidirectional, ``self.lstm_reverse``, each one-layer and
    ``batch_first``, so their weights load into ``nn.LSTM(bidirectional=True)``'s.
    """

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int = 128,
        hidden_size: int = 128,
        *,
        bidirectional: bool = False,
        pooling: str = "last",
        packed: bool = False,
        embed_dropout: float = 0.0,
        output_dropout: float = 0.0,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        pad_index: int | None = 0,
    ):
        super().__init__()
        check_bool("bidirectional", bidirectional)
        check_bool("packed", packed)
        for name, p in (
            ("embed_dropout", embed_dropout),
            ("output_dropout", output_dropout),
            ("dropout", dropout),
            ("recurrent_dropout", recurrent_dropout),
        ):
            check_probability(name, p)
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        keras_style = dropout > 0 or recurrent_dropout > 0
        if keras_style and (bidirectional or packed):
            raise ValueError(
                "dropout/recurrent_dropout use DropoutLSTM, which is "
                "unidirectional and reads padded input: set bidirectional=False "
                "and packed=False, or use embed_dropout/output_dropout instead"
            )
        self.pooling, self.packed, self.bidirectional = pooling, packed, bidirectional
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_index)
        self.embed_dropout = nn.Dropout(embed_dropout)
        if keras_style:
            self.lstm = DropoutLSTM(
                embed_dim, hidden_size, dropout, recurrent_dropout, batch_first=True
            )
        else:
            self.lstm = nn.LSTM(embed_dim, hidden_size, batch_first=True)
        if bidirectional:
            self.lstm_reverse = nn.LSTM(embed_dim, hidden_size, batch_first=True)
        features = hidden_size * (2 if bidirectional else 1)
        self.output_dropout = nn.Dropout(output_dropout)
        self.head = nn.Linear(features * (2 if pooling == "maxmean" else 1), 1)

    def _run(self, lstm: nn.Module, x: Tensor, lengths: Tensor) -> Tensor:
        if not self.packed:
            return lstm(x)[0]
        return unpack(lstm(pack(x, lengths))[0], total_length=x.shape[1])[0]

    def sequence_features(self, tokens: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """LSTM outputs (B, T, F) in reading order, and the 'last' features (B, F)."""
        lengths = torch.as_tensor(lengths)
        x = self.embed_dropout(self.embedding(tokens))
        out = self._run(self.lstm, x, lengths)
        last = last_valid_step(out, lengths)
        if self.bidirectional:
            back = self._run(self.lstm_reverse, reverse_padded(x, lengths), lengths)
            last = torch.cat([last, last_valid_step(back, lengths)], dim=1)
            out = torch.cat([out, reverse_padded(back, lengths)], dim=2)
        return out, last

    def pool(self, out: Tensor, last: Tensor, lengths: Tensor) -> Tensor:
        """Pooled features (B, F or 2F) from outputs (B, T, F) over the real steps."""
        if self.pooling == "last":
            return last
        valid = (
            torch.arange(out.shape[1], device=out.device)[None, :]
            < torch.as_tensor(lengths, device=out.device)[:, None]
        )[..., None]
        pooled = []
        if self.pooling in ("max", "maxmean"):
            pooled.append(out.masked_fill(~valid, -math.inf).amax(dim=1))
        if self.pooling in ("mean", "maxmean"):
            pooled.append((out * valid).sum(1) / valid.sum(1))
        return torch.cat(pooled, dim=1)

    def forward(self, tokens: Tensor, lengths: Tensor) -> Tensor:
        out, last = self.sequence_features(tokens, lengths)
        return self.head(self.output_dropout(self.pool(out, last, lengths))).squeeze(-1)


def running_predictions(model: SentimentLSTM, ids: Sequence[int]) -> Tensor:
    """P(positive) after each token: (T,), entry t is the model's output on ids[:t+1].

    One pass over the review: the forward LSTM's output at step t depends only on the
    prefix, and the pooling is taken over the prefix (a running max or mean). Only for
    unidirectional models: a backward LSTM reads the future.
    """
    if model.bidirectional:
        raise ValueError(
            "running_predictions needs a unidirectional model: a "
            "bidirectional one reads the whole review before step 1"
        )
    device = model_device(model)
    with eval_mode(model), torch.no_grad():
        tokens = torch.as_tensor(list(ids), dtype=torch.long, device=device)[None]
        out = model.lstm(model.embedding(tokens))[0][0]  # (T, H)
        steps = torch.arange(1, len(out) + 1, device=device)[:, None]
        parts = {"last": [out], "max": [out.cummax(0).values], "mean": [out.cumsum(0) / steps]}
        parts["maxmean"] = parts["max"] + parts["mean"]
        return torch.sigmoid(model.head(torch.cat(parts[model.pooling], 1))).squeeze(-1)


def keras_init_(model: SentimentLSTM) -> SentimentLSTM:
    """Keras's default initialization, in place: embeddings U(-0.05, 0.05); LSTM input
    kernel Glorot-uniform, recurrent kernel orthogonal, bias 0 except 1 for the forget
    gate (``unit_forget_bias``); dense kernel Glorot-uniform, bias 0."""
    with torch.no_grad():
        nn.init.uniform_(model.embedding.weight, -0.05, 0.05)
        for lstm in [model.lstm] + ([model.lstm_reverse] if model.bidirectional else []):
            H = lstm.hidden_size
            nn.init.xavier_uniform_(lstm.weight_ih_l0)  # fans (D, 4H), as Keras's kernel
            # Keras's recurrent kernel is one orthogonal (H, 4H) matrix: transpose of ours.
            lstm.weight_hh_l0.copy_(nn.init.orthogonal_(torch.empty(H, 4 * H)).t())
            lstm.bias_ih_l0.zero_()
            lstm.bias_ih_l0[H : 2 * H] = 1.0  # the forget gate's slice (order i, f, g, o)
            lstm.bias_hh_l0.zero_()
        nn.init.xavier_uniform_(model.head.weight)
        model.head.bias.zero_()
    return model
