"""Text for LSTMs: tokens and a vocabulary.

:func:`tokenize` splits text into words or characters, :class:`Vocab` maps tokens to
indices and back. How the indices become batches is ``batching``'s part.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

import torch

from lstm_course.checks import check_int

__all__ = [
    "PAD",
    "UNK",
    "tokenize",
    "Vocab",
]

PAD = "<pad>"
UNK = "<unk>"


_HTML_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
# Markers such as <unk> or <eos> stay whole; words keep inner apostrophes (don't);
# every other non-space character is a token of its own.
_WORD = re.compile(r"<\w+>|\w+(?:'\w+)*|[^\w\s]")


def tokenize(text: str, level: str = "word") -> list[str]:
    """Split ``text`` into tokens.

    ``level="word"``: lowercase, drop ``<br />`` line breaks (IMDB reviews are full of
    them), then split into words and single punctuation marks:
    ``"Great film!<br />Don't miss it."`` -> ``great film ! don't miss it .``
    ``level="char"``: the characters, case and whitespace kept (for character LMs).
    Already tokenized corpora such as PTB need no tokenizer: use ``line.split()``.
    """
    if not isinstance(text, str):
        raise TypeError(f"tokenize needs a str, got {type(text).__name__}")
    if level == "word":
        return _WORD.findall(_HTML_BREAK.sub(" ", text).lower())
    if level == "char":
        return list(text)
    raise ValueError(f"unknown tokenize level {level!r}: use 'word' or 'char'")


class Vocab:
    """A token <-> index mapping, built from data.

    ``tokens`` is an iterable of tokens or of token lists (one per document). The
    ``specials`` come first, in the order given (so ``<pad>`` is 0 and ``<unk>`` is 1
    by default), then every token seen at least ``min_freq`` times, most frequent
    first, ties in alphabetical order so the same data always gives the same indices.

    ``max_size`` is the final ``len(vocab)``, specials included: rare tokens are cut
    until it fits. PTB already contains ``<unk>`` and ``<eos>`` as ordinary tokens, so
    ``Vocab(ptb_tokens, specials=())`` has exactly its 10,000 words and still maps
    unseen words to ``<unk>``: a ``<unk>`` entry is used whether it came from
    ``specials`` or from the data.
    """

    def __init__(
        self,
        tokens: Iterable[str] | Iterable[Sequence[str]],
        min_freq: int = 1,
        max_size: int | None = None,
        specials: Sequence[str] = (PAD, UNK),
    ):
        if isinstance(tokens, str):
            raise TypeError(
                "Vocab got a single string: pass its tokens, e.g. "
                "Vocab(tokenize(text)) or Vocab(tokenize(text, level='char'))"
            )
        check_int("min_freq", min_freq)
        specials = tuple(specials)
        if len(set(specials)) != len(specials):
            raise ValueError(f"specials must be distinct, got {specials!r}")
        if max_size is not None:
            check_int("max_size", max_size, max(1, len(specials)), " (it counts the specials)")

        self.counts: Counter[str] = Counter()
        for item in tokens:
            if isinstance(item, str):
                self.counts[item] += 1
            else:  # one document's token list
                self.counts.update(item)

        by_frequency = sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))
        kept = [tok for tok, n in by_frequency if n >= min_freq and tok not in specials]
        self.itos: list[str] = list(specials) + kept
        if max_size is not None:
            self.itos = self.itos[:max_size]
        if not self.itos:
            raise ValueError("the vocabulary is empty: no tokens reached min_freq and no specials")
        self.stoi: dict[str, int] = {tok: i for i, tok in enumerate(self.itos)}
        self.specials = specials

    @property
    def pad_index(self) -> int | None:
        """Index of ``<pad>``, or None when the vocabulary has none."""
        return self.stoi.get(PAD)

    @property
    def unk_index(self) -> int | None:
        """Index of ``<unk>`` (where unknown tokens go), or None when there is none."""
        return self.stoi.get(UNK)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def __getitem__(self, token: str) -> int:
        index = self.stoi.get(token)
        if index is not None:
            return index
        if self.unk_index is None:
            raise KeyError(
                f"{token!r} is not in the vocabulary, which has no {UNK!r} to fall "
                f"back on: add {UNK!r} to specials, or drop such tokens first"
            )
        return self.unk_index

    def encode(self, tokens: Iterable[str]) -> list[int]:
        """Tokens -> indices; unknown tokens become ``unk_index``."""
        if isinstance(tokens, str):
            raise TypeError("encode needs a list of tokens, not a string: tokenize it first")
        return [self[tok] for tok in tokens]

    def decode(self, ids: Iterable[int] | torch.Tensor) -> list[str]:
        """Indices (a list or a 1-D tensor) -> tokens."""
        if isinstance(ids, torch.Tensor):
            ids = ids.tolist()
        tokens = []
        for i in ids:
            if not 0 <= i < len(self.itos):
                raise ValueError(f"index {i} is outside the vocabulary (size {len(self)})")
            tokens.append(self.itos[i])
        return tokens

    def __repr__(self) -> str:
        return f"Vocab(size={len(self)}, specials={self.specials})"
