"""The linear baseline of the sentiment chapter (chapter ``08_imdb_sentiment``): TF-IDF features of words and
word pairs, then logistic regression.

Documents are token lists (``tokenize(text)``). ``TfidfFeatures().fit(train).transform(docs)``
gives sparse (N, F) float32 rows; :func:`fit_logistic` fits the weights (F,) and bias by
L-BFGS, :func:`logistic_logits` scores new rows (N,). The LSTM it is compared with is in
``sentiment``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from lstm_course.checks import check_int

__all__ = [
    "ngrams",
    "TfidfFeatures",
    "fit_logistic",
    "logistic_logits",
]


def ngrams(tokens: Sequence[str], n_max: int = 2) -> list[str]:
    """The tokens, then every run of 2..n_max tokens joined by a space."""
    out = list(tokens)
    for n in range(2, n_max + 1):
        out += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return out


class TfidfFeatures:
    """TF-IDF rows, L2-normalized: tf = 1 + log(count), idf = log((1 + N) / (1 + df)) + 1.

    ``fit`` keeps the n-grams found in at least ``min_df`` training documents;
    ``transform`` returns a sparse (N, F) float32 tensor.
    """

    def __init__(self, n_max: int = 2, min_df: int = 3):
        self.n_max, self.min_df = check_int("n_max", n_max), check_int("min_df", min_df)

    def fit(self, documents: Sequence[Sequence[str]]) -> TfidfFeatures:
        df = Counter()
        for doc in documents:
            df.update(set(ngrams(doc, self.n_max)))
        kept = sorted(g for g, n in df.items() if n >= self.min_df)
        if not kept:
            raise ValueError(f"no n-gram occurs in {self.min_df} documents: lower min_df")
        self.index = {g: i for i, g in enumerate(kept)}
        N = len(documents)
        self.idf = torch.tensor([math.log((1 + N) / (1 + df[g])) + 1 for g in kept])
        return self

    def transform(self, documents: Sequence[Sequence[str]]) -> Tensor:
        rows, cols, vals = [], [], []
        for r, doc in enumerate(documents):
            counts = Counter(g for g in ngrams(doc, self.n_max) if g in self.index)
            rows += [r] * len(counts)
            cols += [self.index[g] for g in counts]
            vals += [1 + math.log(n) for n in counts.values()]
        cols_t = torch.tensor(cols, dtype=torch.long)
        vals_t = torch.tensor(vals) * self.idf[cols_t]
        norms = torch.zeros(len(documents)).index_add_(0, torch.tensor(rows), vals_t**2)
        vals_t = vals_t / norms.sqrt().clamp_min(1e-12)[rows]
        return torch.sparse_coo_tensor(
            torch.tensor([rows, cols]),
            vals_t,
            (len(documents), len(self.index)),
            check_invariants=False,
        ).coalesce()


def fit_logistic(X: Tensor, y: Tensor, l2: float, max_iter: int = 100) -> tuple[Tensor, Tensor]:
    """Minimize mean binary cross-entropy + l2/2 ||w||^2 with L-BFGS; returns (w (F,), b)."""
    check_int("max_iter", max_iter)
    w = torch.zeros(X.shape[1], 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=max_iter, line_search_fn="strong_wolfe")
    y = y.float()

    def closure():
        opt.zero_grad()
        logits = torch.sparse.mm(X, w).squeeze(1) + b
        loss = F.binary_cross_entropy_with_logits(logits, y) + l2 / 2 * (w**2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach().squeeze(1), b.detach()


def logistic_logits(X: Tensor, w: Tensor, b: Tensor) -> Tensor:
    """Logits (N,) of a fitted :func:`fit_logistic` model on sparse features X."""
    return torch.sparse.mm(X, w[:, None]).squeeze(1) + b
