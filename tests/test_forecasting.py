import numpy as np
import pytest
import torch

from lstm_course.experiments import forecasting as fc
from lstm_course.experiments.common_mistakes import sliding_windows


def test_rolling_origins_score_every_horizon():
    origins = fc.rolling_origins(10, 20, horizon=3)
    assert origins[0] == 10 and origins[-1] == 17  # 17 + 3 = 20: the last full horizon
    assert np.array_equal(fc.rolling_origins(10, 20, 3, step=4), [10, 14])
    with pytest.raises(ValueError, match="horizon"):
        fc.rolling_origins(10, 12, horizon=3)
    with pytest.raises(ValueError, match="start must be an int >= 0, got -1$"):
        fc.rolling_origins(-1, 12, horizon=3)
    with pytest.raises(TypeError, match=r"step must be an int >= 1, got 1.0 \(float\)"):
        fc.rolling_origins(0, 12, horizon=3, step=1.0)
    assert np.array_equal(fc.rolling_origins(np.int64(10), np.int64(20), 3), origins)


def test_origin_windows_contexts_end_just_before_each_origin():
    s = np.arange(30.0)
    contexts, targets = fc.origin_windows(s, np.array([5, 9]), context=4, horizon=3)
    assert np.array_equal(contexts, [[1, 2, 3, 4], [5, 6, 7, 8]])
    assert np.array_equal(targets, [[5, 6, 7], [9, 10, 11]])
    # horizon 1 agrees with pitfalls.sliding_windows
    x, y = sliding_windows(s, 4, 1)
    c, t = fc.origin_windows(s, np.arange(4, 30), 4, 1)
    assert np.array_equal(c, x) and np.array_equal(t[:, 0], y)
    with pytest.raises(ValueError, match="origins must lie"):
        fc.origin_windows(s, np.array([2]), context=4, horizon=1)
    with pytest.raises(ValueError, match="origins must lie"):
        fc.origin_windows(s, np.array([28]), context=4, horizon=3)


def test_naive_and_seasonal_naive():
    contexts = np.arange(24.0)[None, :]  # one context: values 0..23, origin at 24
    assert np.array_equal(fc.naive_forecast(contexts, 3), [[23, 23, 23]])
    seasonal = fc.seasonal_naive_forecast(contexts, 14, period=12)
    # y[24+h-1] gets y[24+h-1-12k]: h=1 -> 12, h=12 -> 23, h=13 -> 12 again
    assert np.array_equal(seasonal[0], [12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 12, 13])
    # on a purely periodic series the seasonal naive forecast is exact
    wave = np.sin(2 * np.pi * np.arange(60) / 12)
    c, t = fc.origin_windows(wave, np.array([30, 40]), 12, 18)
    assert np.allclose(fc.seasonal_naive_forecast(c, 18), t)
    with pytest.raises(ValueError, match="L >= 12"):
        fc.seasonal_naive_forecast(np.zeros((2, 5)), 3)


def test_linear_ar_recovers_known_coefficients_and_direct_matches_recursive_on_noiseless_data():
    rng = np.random.default_rng(0)
    y = np.zeros(400)
    for t in range(2, 400):
        y[t] = 0.5 + 0.6 * y[t - 1] - 0.2 * y[t - 2] + 0.1 * rng.standard_normal()
    coef = fc.fit_linear_ar(y, 2)
    assert np.allclose(coef, [0.5, -0.2, 0.6], atol=0.05)  # weights oldest first
    c, t = fc.origin_windows(y, np.arange(10, 390), 5, 1)
    assert np.allclose(fc.predict_linear_ar(coef, c), coef[0] + c[:, -2:] @ coef[1:])
    # a noiseless AR(1): the direct 3-step model is the recursive one composed
    z = 2.0 * 0.9 ** np.arange(50) + 1.0  # z[t+1] = 0.1 + 0.9 z[t]
    one = fc.fit_linear_ar(z, 1)
    three = fc.fit_linear_ar(z, 1, horizon=3)
    c, t = fc.origin_windows(z, np.arange(5, 40), 1, 3)
    rec = fc.recursive_forecast(lambda w: fc.predict_linear_ar(one, w), c, 3)
    direct = fc.direct_forecast(
        [lambda w, h=h: fc.predict_linear_ar(fc.fit_linear_ar(z, 1, h), w) for h in (1, 2, 3)], c
    )
    assert np.allclose(rec, t) and np.allclose(direct, t)
    assert np.allclose(direct[:, 2], fc.predict_linear_ar(three, c))
    with pytest.raises(ValueError, match="at least"):
        fc.fit_linear_ar(np.arange(5.0), 3)


def test_recursive_forecast_feeds_forecasts_back():
    seen = []

    def one_step(window):
        seen.append(window.copy())
        return window[:, -1] + 1.0

    out = fc.recursive_forecast(one_step, np.array([[0.0, 5.0]]), 3)
    assert np.array_equal(out, [[6, 7, 8]])
    assert np.array_equal(seen[2], [[6, 7]])  # the third call sees two of its own forecasts


def test_on_differences_integrates_forecast_steps():
    linear = np.arange(20.0) * 2 + 3
    c, t = fc.origin_windows(linear, np.array([6, 10]), 5, 4)
    forecast = fc.on_differences(lambda d: np.full((len(d), 4), d[:, -1:].mean()))
    assert np.allclose(forecast(c), t)  # a constant step of 2 continues the line
    with pytest.raises(ValueError, match="differences"):
        forecast(np.zeros((3, 1)))


def test_metrics():
    f, y = np.array([[1.0, 2.0], [3.0, 6.0]]), np.array([[1.0, 1.0], [1.0, 2.0]])
    assert fc.mae(f, y) == pytest.approx(7 / 4)
    assert np.allclose(fc.mae(f, y, axis=0), [1.0, 2.5])
    assert fc.rmse(f, y) == pytest.approx(np.sqrt(21 / 4))
    train = np.array([0.0, 1, 2, 3, 5, 7])
    assert fc.seasonal_naive_scale(train, period=2) == pytest.approx(np.mean([2, 2, 3, 4]))
    assert fc.mase(f, y, scale=2.0) == pytest.approx(7 / 8)
    with pytest.raises(ValueError, match="longer than the period"):
        fc.seasonal_naive_scale(train, period=6)
    with pytest.raises(ValueError, match="undefined"):
        fc.seasonal_naive_scale(np.tile([1.0, 2.0], 5), period=2)
    with pytest.raises(ValueError, match="scale must be a finite number > 0, got 0.0$"):
        fc.mase(f, y, scale=0.0)
    with pytest.raises(TypeError, match="scale must be a finite number > 0"):
        fc.mase(f, y, scale=None)


def test_lstm_forecaster_shapes_and_errors():
    torch.manual_seed(0)
    net = fc.LSTMForecaster(8, horizon=12)
    assert net(torch.randn(5, 24)).shape == (5, 12)
    assert fc.LSTMForecaster(8)(torch.randn(3, 10)).shape == (3, 1)
    with pytest.raises(ValueError, match=r"\(N, L\)"):
        net(torch.randn(5, 24, 1))
    with pytest.raises(ValueError, match="horizon must be an int >= 1, got 0$"):
        fc.LSTMForecaster(8, horizon=0)
    with pytest.raises(TypeError, match=r"hidden_size must be an int >= 1, got True \(bool\)"):
        fc.LSTMForecaster(True)


def test_linear_ar_equals_statsmodels_autoreg():
    from statsmodels.tsa.ar_model import AutoReg

    y = np.cumsum(np.random.default_rng(1).standard_normal(300)) + np.sin(np.arange(300) / 2)
    for order in (1, 3, 13):
        ours = fc.fit_linear_ar(y, order)
        theirs = AutoReg(y, lags=order, trend="c").fit().params  # (const, lag 1, ..., lag p)
        assert np.allclose(ours[0], theirs[0]) and np.allclose(ours[1:][::-1], theirs[1:])
        c, _ = fc.origin_windows(y, np.arange(order, 300), order, 1)
        fitted = AutoReg(y, lags=order, trend="c").fit().fittedvalues
        assert np.allclose(fc.predict_linear_ar(ours, c), fitted)


def test_sarima_forecaster_filters_each_context_with_the_fitted_parameters():
    rng = np.random.default_rng(2)
    t = np.arange(120)
    y = 0.05 * t + np.sin(2 * np.pi * t / 12) + 0.1 * rng.standard_normal(120)
    result = fc.fit_sarima(y[:96], (0, 1, 1), (0, 1, 1, 12))
    forecast = fc.sarima_forecaster(result, 6)
    assert np.allclose(forecast(y[None, :96])[0], result.forecast(6))  # its own history
    c, targets = fc.origin_windows(y, np.array([96, 100, 110]), 60, 6)
    out = forecast(c)
    assert out.shape == (3, 6)
    assert fc.mae(out, targets) < 0.3  # noise sd 0.1: the seasonal model follows the series
    assert np.allclose(result.params, fc.fit_sarima(y[:96], (0, 1, 1), (0, 1, 1, 12)).params)
    with pytest.raises(ValueError, match="1-D series"):
        fc.fit_sarima(y[None, :], (0, 1, 1), (0, 1, 1, 12))
