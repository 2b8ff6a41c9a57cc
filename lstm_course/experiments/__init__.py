"""The studies behind the chapters, one module each; each imports what it needs from
``layers``, ``training`` and ``data``, and nothing imports them back.

- ``vanishing_gradients``: gradient norm against time lag (why plain RNNs forget);
- ``long_lags``: the adding problem (the 1997 paper's and the modern variant) and the
  memory task, and the models that learn them;
- ``lag_study``: contestants trained over seeds and lags, chains run side by side;
- ``sentiment``: IMDB classification with an LSTM (and Keras's IMDB encoding);
  ``sentiment_study``: its recipes trained over seeds under one protocol;
  ``sentiment_baseline``: its linear baselines (TF-IDF and logistic regression, NBSVM);
- ``ptb``: Zaremba et al.'s Penn Treebank recipes and their command line;
- ``variant_study``: LSTM variants compared over seeds; ``seed_comparison``: telling
  arms apart over seeds (spread, separation), which it re-exports;
- ``regularization``: the language model with every dropout placement;
- ``forecasting``: rolling origins, baselines, recursive and direct forecasts;
- ``wrong_equations``: wrong LSTM equations from popular articles, runnable;
  ``cell_reference``: ``nn.LSTMCell``'s step written out and the check of any step
  against it, which it re-exports;
- ``common_mistakes``: tools for the common-mistakes chapter (graph size, honest splits).
"""

from lstm_course.experiments import (
    cell_reference,
    common_mistakes,
    forecasting,
    lag_study,
    long_lags,
    ptb,
    regularization,
    seed_comparison,
    sentiment,
    sentiment_baseline,
    sentiment_study,
    vanishing_gradients,
    variant_study,
    wrong_equations,
)

__all__ = [
    "cell_reference",
    "common_mistakes",
    "forecasting",
    "lag_study",
    "long_lags",
    "ptb",
    "regularization",
    "seed_comparison",
    "sentiment",
    "sentiment_baseline",
    "sentiment_study",
    "vanishing_gradients",
    "variant_study",
    "wrong_equations",
]
