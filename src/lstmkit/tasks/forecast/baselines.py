"""Statistical baselines every forecasting report shows beside the LSTM.

* naive:           f_{n+k} = x_n
* seasonal naive:  f_{n+k} = x_{n - m + 1 + ((k - 1) mod m)}
* ETS:             statsmodels `ETSModel`, the combination of error (add/mul), trend
                   (none/add/damped) and seasonality (none/add/mul) with the lowest AIC
                   (multiplicative parts only for positive series).
* ARIMA:           statsmodels `SARIMAX`, the lowest-AIC order on a small grid:
                   (p, d, q) in {0,1,2} x {d} x {0,1,2} with d = 1, plus a seasonal
                   (P, 1, Q)_m part, P, Q in {0, 1}, when m <= 24; for long periods
                   (m > 24, e.g. weekly data) Fourier terms of order 4 as regressors
                   instead of a seasonal part (Hyndman's dynamic harmonic regression).

Each function takes the training values and returns h forecasts as a float array.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np

BASELINES = ("naive", "seasonal_naive", "ets", "arima")


def naive(y: np.ndarray, h: int) -> np.ndarray:
    return np.full(h, float(np.asarray(y)[-1]))


def seasonal_naive(y: np.ndarray, h: int, m: int) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    if m <= 1 or len(y) < m:
        return naive(y, h)
    last = y[-m:]
    return np.array([last[k % m] for k in range(h)])


def ets(y: np.ndarray, h: int, m: int) -> np.ndarray:
    """AIC-selected ETS forecast (falls back to seasonal naive if nothing fits)."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    y = np.asarray(y, dtype=np.float64)
    positive = bool(np.min(y) > 0)
    seasonal_options = [None]
    if 1 < m and len(y) >= 2 * m + 2:
        seasonal_options += ["add"] + (["mul"] if positive else [])
    best, best_aic = None, np.inf
    for error, trend, damped, seasonal in itertools.product(
        ["add"] + (["mul"] if positive else []), [None, "add"], [False, True], seasonal_options
    ):
        if damped and trend is None:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = ETSModel(y, error=error, trend=trend, damped_trend=damped, seasonal=seasonal,
                                 seasonal_periods=m if seasonal else None)
                fit = model.fit(disp=False, maxiter=200)
        except (ValueError, np.linalg.LinAlgError):
            continue
        if np.isfinite(fit.aic) and fit.aic < best_aic:
            best, best_aic = fit, fit.aic
    if best is None:
        return seasonal_naive(y, h, m)
    return np.asarray(best.forecast(h), dtype=np.float64)


def _fourier(t: np.ndarray, m: float, order: int) -> np.ndarray:
    cols = []
    for k in range(1, order + 1):
        cols += [np.sin(2 * np.pi * k * t / m), np.cos(2 * np.pi * k * t / m)]
    return np.stack(cols, axis=1)


def arima(y: np.ndarray, h: int, m: int, fourier_period: float | None = None) -> np.ndarray:
    """AIC-selected (S)ARIMA forecast (see the module docstring for the grid)."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    y = np.asarray(y, dtype=np.float64)
    use_fourier = m > 24
    exog = exog_future = None
    if use_fourier:
        period = fourier_period or float(m)
        t = np.arange(len(y) + h, dtype=np.float64)
        terms = _fourier(t, period, 4)
        exog, exog_future = terms[: len(y)], terms[len(y):]
    seasonal_grid = [(0, 0, 0, 0)]
    if not use_fourier and m > 1 and len(y) >= 3 * m:
        seasonal_grid = [(sp, 1, sq, m) for sp in (0, 1) for sq in (0, 1)]
    best, best_aic = None, np.inf
    for p, q, seasonal in itertools.product((0, 1, 2), (0, 1, 2), seasonal_grid):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = SARIMAX(y, exog=exog, order=(p, 1, q), seasonal_order=seasonal,
                                trend="n" if seasonal[1] or not use_fourier else "c")
                fit = model.fit(disp=False, maxiter=100)
        except (ValueError, np.linalg.LinAlgError):
            continue
        if np.isfinite(fit.aic) and fit.aic < best_aic:
            best, best_aic = fit, fit.aic
    if best is None:
        return seasonal_naive(y, h, m)
    return np.asarray(best.forecast(h, exog=exog_future), dtype=np.float64)


def baseline_forecast(name: str, y: np.ndarray, h: int, m: int, **kwargs) -> np.ndarray:
    """Dispatch by name: one of `BASELINES`."""
    if name == "naive":
        return naive(y, h)
    if name == "seasonal_naive":
        return seasonal_naive(y, h, m)
    if name == "ets":
        return ets(y, h, m)
    if name == "arima":
        return arima(y, h, m, **kwargs)
    raise ValueError(f"baseline must be one of {BASELINES}, received {name!r}")
