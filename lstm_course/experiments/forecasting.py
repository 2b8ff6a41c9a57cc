"""Forecasting a series: rolling origins, baselines, a least-squares autoregression, a
seasonal ARIMA (statsmodels), recursive and direct multi-step forecasts, and error
metrics (chapter ``13_forecasting``).

A *forecaster* here is any function ``contexts -> forecasts`` with contexts of shape
(M, L), the L values before each of M forecast origins (oldest first), and forecasts
of shape (M, H), the next H values. Every model of the chapter (naive, seasonal naive,
autoregression, seasonal ARIMA, LSTM) is written that way, so one evaluation loop scores them all:

    origins = rolling_origins(start=len(train) + len(val), stop=len(series), horizon=12)
    contexts, targets = origin_windows(series, origins, context=24, horizon=12)
    errors = forecaster(contexts) - targets                    # (M, 12)

Splitting and scaling live in :mod:`lstm_course.experiments.common_mistakes` (``chronological_split``,
``Standardizer``, ``sliding_windows``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from lstm_course.checks import check_int, check_positive

__all__ = [
    "rolling_origins",
    "origin_windows",
    "naive_forecast",
    "seasonal_naive_forecast",
    "fit_linear_ar",
    "predict_linear_ar",
    "fit_sarima",
    "sarima_forecaster",
    "recursive_forecast",
    "direct_forecast",
    "on_differences",
    "mae",
    "rmse",
    "seasonal_naive_scale",
    "mase",
    "LSTMForecaster",
]


def _contexts(contexts, needed: int, who: str) -> np.ndarray:
    contexts = np.asarray(contexts, dtype=np.float64)
    if contexts.ndim != 2 or contexts.shape[1] < needed:
        raise ValueError(
            f"{who} needs contexts of shape (M, L) with L >= {needed}, got "
            f"{contexts.shape}: pass a longer context to origin_windows"
        )
    return contexts


# ----------------------------------------------------------------------------------
# Where forecasts are made


def rolling_origins(start: int, stop: int, horizon: int, step: int = 1) -> np.ndarray:
    """Forecast origins for walk-forward evaluation over ``series[start:stop]``.

    An origin ``o`` means "everything before index o is known; forecast o, ..., o+H-1".
    Returns ``start, start + step, ...`` up to the last origin whose H targets all lie
    before ``stop``, so every origin is scored at every horizon.
    """
    start, stop = check_int("start", start, 0), check_int("stop", stop)
    horizon, step = check_int("horizon", horizon), check_int("step", step)
    if stop - start < horizon:
        raise ValueError(
            f"the period [{start}, {stop}) holds {stop - start} values, fewer than "
            f"the horizon {horizon}: lengthen the period or shorten the horizon"
        )
    return np.arange(start, stop - horizon + 1, step)


def origin_windows(series, origins, context: int, horizon: int):
    """The last ``context`` values before each origin and the ``horizon`` values after it.

    Returns ``(contexts, targets)`` of shapes (M, context) and (M, horizon) for a 1-D
    series and M origins: ``contexts[k] = series[o - context:o]``,
    ``targets[k] = series[o:o + horizon]`` with ``o = origins[k]``.
    """
    series = np.asarray(series, dtype=np.float64)
    origins = np.asarray(origins)
    context, horizon = check_int("context", context), check_int("horizon", horizon)
    if series.ndim != 1:
        raise ValueError(f"origin_windows needs a 1-D series, got shape {series.shape}")
    if origins.ndim != 1 or len(origins) == 0 or not np.issubdtype(origins.dtype, np.integer):
        raise ValueError("origins must be a non-empty 1-D array of ints (see rolling_origins)")
    if origins.min() < context or origins.max() + horizon > len(series):
        raise ValueError(
            f"origins must lie in [{context}, {len(series) - horizon}] for a context "
            f"of {context} and a horizon of {horizon} in a series of {len(series)}; "
            f"got {origins.min()} to {origins.max()}"
        )
    contexts = series[origins[:, None] + np.arange(-context, 0)[None, :]]
    targets = series[origins[:, None] + np.arange(horizon)[None, :]]
    return contexts, targets


# ----------------------------------------------------------------------------------
# Baselines


def naive_forecast(contexts, horizon: int) -> np.ndarray:
    """Every horizon gets the last known value: (M, L) -> (M, H)."""
    contexts = _contexts(contexts, 1, "naive_forecast")
    return np.repeat(contexts[:, -1:], check_int("horizon", horizon), axis=1)


def seasonal_naive_forecast(contexts, horizon: int, period: int = 12) -> np.ndarray:
    """Horizon h gets the value one season earlier: y[t+h] = y[t+h-period*k], k = ceil(h/period).

    (M, L) -> (M, H), with L >= period.
    """
    period = check_int("period", period)
    contexts = _contexts(contexts, period, "seasonal_naive_forecast")
    h = np.arange(1, check_int("horizon", horizon) + 1)
    back = period * np.ceil(h / period).astype(int) - h  # steps before the origin, 0 = last
    return contexts[:, contexts.shape[1] - 1 - back]


def fit_linear_ar(series, order: int, horizon: int = 1) -> np.ndarray:
    """Least-squares autoregression y[t+h] ~ b + w . (y[t-p+1], ..., y[t]).

    ``horizon`` 1 is the usual AR(p); a larger one fits the *direct* h-step model.
    Returns the coefficients ``(b, w_1, ..., w_p)`` with the weights ordered like a
    context (oldest first), for :func:`predict_linear_ar`.
    """
    series = np.asarray(series, dtype=np.float64)
    order, horizon = check_int("order", order), check_int("horizon", horizon)
    rows = len(series) - order - horizon + 1
    if series.ndim != 1 or rows < order + 1:
        raise ValueError(
            f"an AR({order}) at horizon {horizon} needs a 1-D series of at least "
            f"{2 * order + horizon} values, got shape {series.shape}"
        )
    starts = np.arange(rows)
    lags = series[starts[:, None] + np.arange(order)[None, :]]  # (rows, p)
    design = np.hstack([np.ones((rows, 1)), lags])
    target = series[starts + order + horizon - 1]
    coef, *_ = np.linalg.lstsq(design, target, rcond=None)
    return coef


def predict_linear_ar(coef, contexts) -> np.ndarray:
    """Apply :func:`fit_linear_ar`'s coefficients to contexts (M, L >= p): returns (M,)."""
    coef = np.asarray(coef, dtype=np.float64)
    contexts = _contexts(contexts, len(coef) - 1, "predict_linear_ar")
    return coef[0] + contexts[:, contexts.shape[1] - len(coef) + 1 :] @ coef[1:]


def fit_sarima(series, order: tuple, seasonal_order: tuple):
    """A seasonal ARIMA(p, d, q)(P, D, Q)_m fitted by maximum likelihood on ``series``.

    ``order`` is (p, d, q) and ``seasonal_order`` (P, D, Q, m), as for statsmodels'
    ``SARIMAX``, which does the work. Returns its results object; whether the optimizer
    converged is in ``result.mle_retvals["converged"]``.
    """
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    series = np.asarray(series, dtype=np.float64)
    if series.ndim != 1:
        raise ValueError(f"fit_sarima needs a 1-D series, got shape {series.shape}")
    with warnings.catch_warnings():  # optimizer chatter: convergence is in mle_retvals
        warnings.simplefilter("ignore")
        return SARIMAX(series, order=order, seasonal_order=seasonal_order).fit(disp=False)


def sarima_forecaster(result, horizon: int) -> Callable[[np.ndarray], np.ndarray]:
    """A forecaster (contexts (M, L) -> forecasts (M, H)) from :func:`fit_sarima`'s result.

    The fitted parameters stay fixed; each context is run through the model's Kalman
    filter afresh (``result.apply``) and forecast ``horizon`` steps on. A context should
    hold several seasons: the filter starts from nothing at its first value.
    """
    horizon = check_int("horizon", horizon)

    def forecast(contexts):
        contexts = _contexts(contexts, 2, "sarima_forecaster")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.stack([result.apply(row).forecast(horizon) for row in contexts])

    return forecast


# ----------------------------------------------------------------------------------
# Multi-step strategies and differencing


def recursive_forecast(
    one_step: Callable[[np.ndarray], np.ndarray], contexts, horizon: int
) -> np.ndarray:
    """Iterate a one-step forecaster, feeding each forecast back as the newest value.

    ``one_step`` maps (M, L) contexts to (M,) next values. Returns (M, H). The errors of
    early steps become inputs of later ones, which is the recursive strategy's weakness.
    """
    window = _contexts(contexts, 1, "recursive_forecast").copy()
    out = np.empty((len(window), check_int("horizon", horizon)))
    for h in range(horizon):
        out[:, h] = np.asarray(one_step(window), dtype=np.float64).reshape(len(window))
        window = np.concatenate([window[:, 1:], out[:, h : h + 1]], axis=1)  # slide by one
    return out


def direct_forecast(models: list[Callable[[np.ndarray], np.ndarray]], contexts) -> np.ndarray:
    """The direct strategy: ``models[h-1]`` forecasts horizon h from the context alone.

    Each model maps (M, L) to (M,); returns (M, H) with H = len(models).
    """
    if not models:
        raise ValueError("direct_forecast needs one model per horizon, got none")
    contexts = _contexts(contexts, 1, "direct_forecast")
    return np.stack(
        [np.asarray(m(contexts), dtype=np.float64).reshape(len(contexts)) for m in models], axis=1
    )


def on_differences(forecaster: Callable[[np.ndarray], np.ndarray]):
    """Turn a forecaster of first differences into one of levels.

    The returned function takes level contexts (M, L+1), hands ``forecaster`` their
    differences (M, L), and turns its (M, H) forecast differences back into levels:
    ``y[t+h] = y[t] + d[t+1] + ... + d[t+h]``.
    """

    def forecast_levels(contexts):
        contexts = _contexts(contexts, 2, "a forecaster on differences")
        steps = np.asarray(forecaster(np.diff(contexts, axis=1)), dtype=np.float64)
        return contexts[:, -1:] + np.cumsum(steps.reshape(len(contexts), -1), axis=1)

    return forecast_levels


# ----------------------------------------------------------------------------------
# Error metrics: forecasts and targets of the same shape; per horizon with axis=0


def mae(forecasts, targets, axis=None):
    """Mean absolute error."""
    return np.mean(np.abs(np.asarray(forecasts) - np.asarray(targets)), axis=axis)


def rmse(forecasts, targets, axis=None):
    """Root mean squared error."""
    return np.sqrt(np.mean((np.asarray(forecasts) - np.asarray(targets)) ** 2, axis=axis))


def seasonal_naive_scale(train, period: int = 12) -> float:
    """MASE's denominator: the in-sample MAE of the one-step seasonal naive forecast,
    mean |y[t] - y[t-period]| over the training part (period 1: the naive forecast)."""
    train = np.asarray(train, dtype=np.float64)
    period = check_int("period", period)
    if train.ndim != 1 or len(train) <= period:
        raise ValueError(
            f"the scale needs a 1-D training series longer than the period "
            f"{period}, got shape {train.shape}"
        )
    scale = np.mean(np.abs(train[period:] - train[:-period]))
    if scale == 0:
        raise ValueError("the training series repeats exactly every period: MASE is undefined")
    return float(scale)


def mase(forecasts, targets, scale: float, axis=None):
    """Mean absolute scaled error: MAE divided by ``seasonal_naive_scale(train)``.

    Below 1: better than the in-sample one-step seasonal naive forecast.
    """
    check_positive("scale", scale)
    return mae(forecasts, targets, axis=axis) / scale


# ----------------------------------------------------------------------------------
# The LSTM


class LSTMForecaster(nn.Module):
    """One-layer LSTM read out at its last step: contexts (N, L) -> forecasts (N, H).

    H = ``horizon`` outputs: 1 for a one-step model (iterate it with
    :func:`recursive_forecast`), H for a direct multi-step model (one output per horizon).
    """

    def __init__(self, hidden_size: int, horizon: int = 1):
        super().__init__()
        self.lstm = nn.LSTM(1, check_int("hidden_size", hidden_size), batch_first=True)
        self.head = nn.Linear(hidden_size, check_int("horizon", horizon))

    def forward(self, contexts: torch.Tensor) -> torch.Tensor:
        if contexts.dim() != 2:
            raise ValueError(f"LSTMForecaster takes contexts (N, L), got {tuple(contexts.shape)}")
        output, _ = self.lstm(contexts.unsqueeze(-1))  # (N, L, H): one feature per step
        return self.head(output[:, -1])
