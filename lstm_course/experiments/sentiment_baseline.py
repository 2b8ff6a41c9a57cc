"""The linear baselines of the sentiment chapter (chapter ``08_imdb_sentiment``), with
scikit-learn, on the same splits as the LSTM (``sentiment``):

- :func:`tfidf_logistic`: TF-IDF of words and word pairs (sublinear tf, ``min_df`` 2),
  then logistic regression, its ``C`` chosen on validation from a grid that is widened
  until the best value is inside it (:func:`grid_search`);
- :func:`nbsvm`: Wang & Manning's (2012) NBSVM, a linear SVM on binarized n-grams scaled
  by their naive-Bayes log-count ratios (:func:`log_count_ratio`), interpolated with
  naive Bayes (:func:`nbsvm_interpolate`).

Each takes ``train``, ``val`` and ``test`` as ``(texts, labels)`` pairs (labels 0/1, as
``load_imdb`` gives them) and returns a :class:`BaselineResult`.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from lstm_course.checks import check_int, check_nonnegative, check_positive
from lstm_course.data.text import tokenize

__all__ = [
    "TFIDF_GRID",
    "BaselineResult",
    "grid_search",
    "tfidf_logistic",
    "log_count_ratio",
    "nbsvm_interpolate",
    "nbsvm",
]


# The logistic-regression grid: 4x steps; widened by the same ratio while the best
# value sits at an edge.
TFIDF_GRID = (1.0, 4.0, 16.0, 64.0)

Labelled = tuple[Sequence[str], Sequence[int]]


@dataclass(frozen=True)
class BaselineResult:
    """What a baseline measured.

    ``val_accuracy`` and ``test_accuracy`` are of the model fitted on ``train`` only;
    ``params`` are its hyper-parameters (the chosen ``C`` and any fixed constants);
    ``val_accuracies`` maps each ``C`` tried to its validation accuracy (C increasing);
    ``at_edge`` is True if the best validation accuracy is still reached at an edge of
    the widened grid (see :func:`grid_search`);
    ``seconds`` is the wall time of the whole call (features, every fit, scoring);
    ``test_scores`` (N_test,) are the decision values on ``test`` (> 0: positive).
    """

    name: str
    val_accuracy: float
    test_accuracy: float
    params: dict[str, float]
    seconds: float
    n_features: int
    val_accuracies: dict[float, float] = field(default_factory=dict)
    at_edge: bool = False
    test_scores: np.ndarray | None = field(default=None, repr=False, compare=False)


def grid_search(
    score: Callable[[float], float], grid: Sequence[float], *, max_extensions: int = 4
) -> tuple[float, dict[float, float], bool]:
    """The grid value with the best ``score``, widening the grid while it is at an edge.

    ``grid`` is two or more increasing positive values. If the best score is reached
    at the first or the last value (alone or tied), one more value is added beyond it,
    by the ratio of the two values at that end, up to ``max_extensions`` times; if it is
    still reached at an edge, a warning says so. Among tied values the smallest wins
    (for ``C``: the strongest penalty).

    Returns:
        ``(best, scores, at_edge)``: ``scores`` maps every value tried to its score, in
        increasing order of value.
    """
    values = [check_positive("grid value", v) for v in grid]
    check_int("max_extensions", max_extensions, minimum=0)
    if len(values) < 2 or any(b <= a for a, b in zip(values, values[1:], strict=False)):
        raise ValueError(f"grid must hold two or more increasing values, got {list(grid)}")
    scores = {v: score(v) for v in values}
    for extension in range(max_extensions + 1):
        tried = sorted(scores)
        best = max(tried, key=lambda v: (scores[v], -v))  # ties: the smaller value
        # A top score tied at an edge counts as at the edge: the plateau may go on.
        low, high = (scores[tried[k]] == scores[best] for k in (0, -1))
        if not (low or high):
            return best, dict(sorted(scores.items())), False
        if extension < max_extensions:
            new = tried[0] ** 2 / tried[1] if low else tried[-1] ** 2 / tried[-2]
            scores[new] = score(new)
    warnings.warn(
        f"the best value {best:g} is at the edge of the grid {tried} after "
        f"{max_extensions} extensions: widen the grid",
        stacklevel=2,
    )
    return best, dict(sorted(scores.items())), True


def _bigrams_of(tokenizer: Callable[[str], list[str]]) -> dict:
    """The vectorizer options both baselines share: uni- and bigrams of ``tokenizer``'s
    tokens, as they come (the course's ``tokenize`` lowercases already)."""
    return dict(tokenizer=tokenizer, lowercase=False, token_pattern=None, ngram_range=(1, 2))


def _checked(*splits: Labelled) -> list[tuple[list[str], np.ndarray]]:
    return [_labelled(n, s) for n, s in zip(("train", "val", "test"), splits, strict=True)]


def _labelled(name: str, split: Labelled) -> tuple[list[str], np.ndarray]:
    """``(texts, labels (N,) int array)`` of a ``(texts, labels)`` pair, checked."""
    if not (isinstance(split, tuple | list) and len(split) == 2):
        raise TypeError(f"{name} must be a (texts, labels) pair, got {type(split).__name__}")
    texts, labels = list(split[0]), np.asarray(split[1])
    if len(texts) != len(labels) or not texts:
        raise ValueError(
            f"{name} needs as many labels as texts (and at least one), got "
            f"{len(texts)} texts and {len(labels)} labels"
        )
    if not np.isin(labels, (0, 1)).all():
        raise ValueError(f"{name}'s labels must be 0 or 1")
    return texts, labels.astype(np.int64)


def _accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    return float(((scores > 0) == (labels == 1)).mean())


def tfidf_logistic(
    train: Labelled,
    val: Labelled,
    test: Labelled,
    *,
    grid: Sequence[float] = TFIDF_GRID,
    min_df: int = 2,
    max_extensions: int = 4,
    tokenizer: Callable[[str], list[str]] = tokenize,
) -> BaselineResult:
    """TF-IDF of words and word pairs + L2-regularized logistic regression.

    Features: scikit-learn's ``TfidfVectorizer`` over ``tokenizer``'s tokens (the
    course's: lowercase, words and punctuation marks), uni- and bigrams, sublinear tf
    (1 + log count), n-grams in at least ``min_df`` training reviews, smoothed idf, rows
    L2-normalized; vocabulary and idf come from ``train`` only. Classifier:
    ``LogisticRegression`` (liblinear) with inverse penalty ``C``.

    Selection: one model per ``C`` is fitted on ``train`` and scored on ``val``;
    :func:`grid_search` picks ``C`` (widening ``grid`` while the best is at an edge).
    The model of the chosen ``C``, fitted on ``train`` only (not refitted on
    ``train + val``, so that it sees the same reviews as the LSTM it is compared with),
    is scored once on ``test``.
    """
    # scikit-learn is imported here, so that the other studies import without it.
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    start = time.perf_counter()
    (tr_x, tr_y), (va_x, va_y), (te_x, te_y) = _checked(train, val, test)
    vectorizer = TfidfVectorizer(
        **_bigrams_of(tokenizer), sublinear_tf=True, min_df=check_int("min_df", min_df)
    )
    X_train = vectorizer.fit_transform(tr_x)
    X_val = vectorizer.transform(va_x)
    models = {}

    def val_accuracy(C: float) -> float:
        models[C] = LogisticRegression(C=C, solver="liblinear", max_iter=1000)
        models[C].fit(X_train, tr_y)
        return _accuracy(models[C].decision_function(X_val), va_y)

    C, val_accuracies, at_edge = grid_search(val_accuracy, grid, max_extensions=max_extensions)
    test_scores = models[C].decision_function(vectorizer.transform(te_x))
    return BaselineResult(
        name="TF-IDF + logistic regression",
        val_accuracy=val_accuracies[C],
        test_accuracy=_accuracy(test_scores, te_y),
        params={"C": C, "min_df": min_df},
        seconds=time.perf_counter() - start,
        n_features=X_train.shape[1],
        val_accuracies=val_accuracies,
        at_edge=at_edge,
        test_scores=test_scores,
    )


def log_count_ratio(X, labels, alpha: float = 1.0) -> np.ndarray:
    """Naive Bayes's log-count ratio r (F,) of features X (N, F) (sparse or dense, >= 0).

    ``p = alpha + sum of the positive rows``, ``q = alpha + sum of the negative rows``,
    ``r = log((p / ||p||_1) / (q / ||q||_1))`` (Wang & Manning 2012, section 2.1).
    """
    check_positive("alpha", alpha)
    labels = np.asarray(labels)
    p = alpha + np.asarray(X[labels == 1].sum(axis=0)).ravel()
    q = alpha + np.asarray(X[labels == 0].sum(axis=0)).ravel()
    return np.log(p / p.sum()) - np.log(q / q.sum())


def nbsvm_interpolate(w: np.ndarray, beta: float) -> np.ndarray:
    """Wang & Manning's interpolation w' = (1 - beta) w_bar + beta w, (F,).

    ``w_bar = ||w||_1 / F`` is the mean magnitude of ``w``, a scalar added to every
    weight: on features ``x = f ∘ r`` the score ``w'·x`` is ``(1 - beta) w_bar`` times
    naive Bayes's ``r·f`` plus ``beta`` times the SVM's, "trust NB unless the SVM is
    very confident". ``beta = 1`` is the plain SVM.
    """
    beta = check_nonnegative("beta", beta)
    if beta > 1:
        raise ValueError(f"beta must be in [0, 1], got {beta!r}")
    w = np.asarray(w, dtype=np.float64)
    return (1 - beta) * np.abs(w).mean() + beta * w


def nbsvm(
    train: Labelled,
    val: Labelled,
    test: Labelled,
    *,
    C: float = 1.0,
    beta: float = 0.25,
    alpha: float = 1.0,
    tokenizer: Callable[[str], list[str]] = tokenize,
) -> BaselineResult:
    """NBSVM-bi of Wang & Manning (2012), "Baselines and Bigrams: Simple, Good Sentiment
    and Topic Classification", ACL, section 2.3 (91.22% on IMDB in their Table 2).

    Features: the binarized (present/absent) uni- and bigrams of ``tokenizer``'s tokens
    that occur in ``train`` (no frequency cut, as in the paper), f̂ (N, F); each is
    scaled by the log-count ratio r of ``train`` with ``alpha``: x = f̂ ∘ r. Classifier:
    an L2-regularized squared-hinge linear SVM (scikit-learn's ``LinearSVC``, liblinear's
    dual solver, the authors' ``-s 1``) with ``C``, then the weights interpolated with
    ``beta`` (:func:`nbsvm_interpolate`). The paper's constants are the defaults: alpha
    1, C 1, beta 0.25; they are fixed, not chosen here. No bias: the paper writes one,
    but the authors' released code (github.com/sidaw/nbsvm, ``trainMNBSVM.m``) trains
    liblinear without one, and naive Bayes's own bias log(N+/N-) is 0 on balanced IMDB.

    Everything is fitted on ``train`` only; ``val`` and ``test`` are scored once each.
    """
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.svm import LinearSVC

    start = time.perf_counter()
    (tr_x, tr_y), (va_x, va_y), (te_x, te_y) = _checked(train, val, test)
    vectorizer = CountVectorizer(**_bigrams_of(tokenizer), binary=True, dtype=np.float64)
    X_train = vectorizer.fit_transform(tr_x)
    r = log_count_ratio(X_train, tr_y, alpha)
    svm = LinearSVC(C=check_positive("C", C), dual=True, fit_intercept=False, max_iter=10_000)
    svm.fit(X_train.multiply(r).tocsr(), tr_y)
    w = nbsvm_interpolate(svm.coef_.ravel(), beta)

    def scores(texts: list[str]) -> np.ndarray:
        return vectorizer.transform(texts).multiply(r).tocsr() @ w

    test_scores = scores(te_x)
    return BaselineResult(
        name="NBSVM-bi",
        val_accuracy=_accuracy(scores(va_x), va_y),
        test_accuracy=_accuracy(test_scores, te_y),
        params={"C": C, "beta": beta, "alpha": alpha},
        seconds=time.perf_counter() - start,
        n_features=X_train.shape[1],
        test_scores=test_scores,
    )
