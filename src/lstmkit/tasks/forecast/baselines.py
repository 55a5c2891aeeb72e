r"""Statistical baselines every forecasting report shows beside the LSTM (statsforecast).

For training values :math:`x_1..x_n`, horizon :math:`h` and season length :math:`m`:

* naive:           :math:`f_{n+k} = x_n` (statsforecast ``Naive``)
* seasonal naive:  :math:`f_{n+k} = x_{n - m + 1 + ((k - 1) \bmod m)}` (``SeasonalNaive``;
                   the naive forecast when :math:`m \le 1` or :math:`n < m`)
* ETS:             ``AutoETS``: every admissible error (A/M) x trend (N/A/Ad) x season
                   (N/A/M) state-space model is fitted by maximum likelihood and the one with
                   the lowest AICc is kept (Hyndman et al. 2008; multiplicative parts only for
                   positive series). statsforecast, like R's ``forecast::ets``, fits no seasonal
                   state for :math:`m > 24`; there (weekly data) the series is decomposed by
                   ``MSTL`` and the seasonally adjusted part forecast by a non-seasonal AutoETS,
                   the seasonal part repeated (Hyndman's ``stlf``).
* ARIMA:           ``AutoARIMA`` (Hyndman & Khandakar 2008): KPSS / seasonal-strength tests choose
                   :math:`d` and :math:`D`, a stepwise search over :math:`(p, q)(P, Q)_m` the
                   lowest AICc (the search fits by conditional sum of squares when
                   :math:`n > 150` or :math:`m > 12`, R's rule; the chosen order is refitted
                   by exact likelihood). For :math:`m > 24` no seasonal part: Fourier terms
                   :math:`\sin(2\pi k t / P), \cos(2\pi k t / P)`, :math:`k = 1..4`, enter as
                   regressors (dynamic harmonic regression), with period :math:`P` =
                   ``fourier_period`` (default :math:`m`), which may be fractional (52.18 weeks).

* Theta:           statsforecast ``Theta`` (Assimakopoulos & Nikolopoulos 2000, as
                   Hyndman & Billah 2003 state it: simple exponential smoothing with drift
                   equal to half the linear trend's slope), after a classical multiplicative
                   seasonal decomposition when a 90% autocorrelation test finds the season
                   significant (:math:`m \le 24`); for :math:`m > 24` the series is
                   deseasonalised by ``MSTL`` as for ETS.

A model that cannot be fitted to a series falls back to the seasonal naive forecast.

``transform="log"`` fits every model to :math:`\log x_t` and returns :math:`\exp` of its
forecasts (the median, not the mean, of a log-normal forecast), the preprocessing the LSTM
applies to a multiplicative series; it needs positive values.

Each function takes the training values and returns ``h`` forecasts as a float array;
:func:`baseline_forecasts` does the same for a list of series in one statsforecast call.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

BASELINES = ("naive", "seasonal_naive", "ets", "arima", "theta")
TRANSFORMS = ("none", "log")
MAX_ETS_SEASON = 24  # statsforecast's (and R's) limit for a seasonal ETS state
FOURIER_ORDER = 4


def _statsforecast():
    try:
        import statsforecast
        import statsforecast.models
    except ImportError as err:  # pragma: no cover - statsforecast is in the train extra
        raise ImportError("the forecast baselines need statsforecast: pip install 'lstmkit[train]'") from err
    return statsforecast


def _check_transform(transform: str | None) -> str:
    transform = transform or "none"
    if transform not in TRANSFORMS:
        raise ValueError(f"transform must be one of {TRANSFORMS}, received {transform!r}")
    return transform


def _fourier(t: np.ndarray, period: float, order: int) -> np.ndarray:
    cols = []
    for k in range(1, order + 1):
        cols += [np.sin(2 * np.pi * k * t / period), np.cos(2 * np.pi * k * t / period)]
    return np.stack(cols, axis=1)


def _run(model, fallback, series: list[np.ndarray], h: int, exog_period: float | None = None) -> list[np.ndarray]:
    """Forecast every series with one StatsForecast call; the model's column per series, in order."""
    import pandas as pd

    sf = _statsforecast()
    ids = np.concatenate([np.full(len(y), i) for i, y in enumerate(series)])
    steps = np.concatenate([np.arange(len(y)) for y in series])
    frame = pd.DataFrame({"unique_id": ids, "ds": steps, "y": np.concatenate(series)})
    future = None
    if exog_period is not None:
        names = [f"fourier{j}" for j in range(2 * FOURIER_ORDER)]
        frame[names] = _fourier(steps.astype(np.float64), exog_period, FOURIER_ORDER)
        f_ids = np.repeat(np.arange(len(series)), h)
        f_steps = np.concatenate([np.arange(len(y), len(y) + h) for y in series])
        future = pd.DataFrame({"unique_id": f_ids, "ds": f_steps})
        future[names] = _fourier(f_steps.astype(np.float64), exog_period, FOURIER_ORDER)
    engine = sf.StatsForecast(models=[model], freq=1, n_jobs=1, fallback_model=fallback)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = engine.forecast(h=h, df=frame, X_df=future)
    column = [c for c in out.columns if c not in ("unique_id", "ds")][0]
    values = out[column].to_numpy(dtype=np.float64).reshape(len(series), h)
    order = out["unique_id"].to_numpy().reshape(len(series), h)[:, 0]
    result = [np.empty(0)] * len(series)
    for row, i in enumerate(order):
        result[int(i)] = values[row]
    return result


def _models(name: str, m: int, long: bool, fourier_period: float | None):
    """(model, fallback, Fourier period or None) for series with (long) or without n >= 2m."""
    models = _statsforecast().models
    snaive = models.SeasonalNaive(season_length=m) if m > 1 else models.Naive()
    if name == "naive" or (name == "seasonal_naive" and not long):
        return models.Naive(), None, None
    if name == "seasonal_naive":
        return snaive, None, None
    if not long:
        m = 1
        fallback = models.Naive()
    else:
        fallback = snaive
    if name == "ets":
        if m > MAX_ETS_SEASON:
            return models.MSTL(season_length=m, trend_forecaster=models.AutoETS(model="ZZN")), fallback, None
        return models.AutoETS(season_length=m), fallback, None
    if name == "arima":
        if m > MAX_ETS_SEASON:
            return models.AutoARIMA(season_length=1, approximation=None), fallback, float(fourier_period or m)
        return models.AutoARIMA(season_length=m, approximation=None), fallback, None
    if name == "theta":
        if m > MAX_ETS_SEASON:
            return models.MSTL(season_length=m, trend_forecaster=models.Theta()), fallback, None
        return models.Theta(season_length=m), fallback, None
    raise ValueError(f"baseline must be one of {BASELINES}, received {name!r}")


def baseline_forecasts(name: str, series: Sequence[np.ndarray], h: int, m: int, *,
                       transform: str | None = None, fourier_period: float | None = None) -> list[np.ndarray]:
    """``h`` forecasts of baseline ``name`` (one of `BASELINES`) for each series in ``series``.

    All series are fitted in one statsforecast call (per group: series with at least
    ``2 m`` values use the seasonal models, shorter ones the non-seasonal ones).
    """
    if name not in BASELINES:
        raise ValueError(f"baseline must be one of {BASELINES}, received {name!r}")
    if not isinstance(h, int | np.integer) or h < 1:
        raise ValueError(f"h must be a positive integer, received {h!r}")
    transform = _check_transform(transform)
    m = max(1, int(round(m)))
    ys = [np.asarray(y, dtype=np.float64).ravel() for y in series]
    for i, y in enumerate(ys):
        if len(y) == 0 or not np.isfinite(y).all():
            raise ValueError(f"series {i}: expected finite values, received {len(y)} values with gaps or none")
        if transform == "log" and y.min() <= 0:
            raise ValueError(f"series {i}: transform='log' needs positive values, the minimum is {y.min():g}")
    if transform == "log":
        ys = [np.log(y) for y in ys]
    # seasonal naive needs one full season, the seasonal models two
    need = m if name == "seasonal_naive" else 2 * m
    result: list[np.ndarray] = [np.empty(0)] * len(ys)
    for long in (True, False):
        members = [i for i, y in enumerate(ys) if (len(y) >= need and m > 1) == long]
        if not members:
            continue
        model, fallback, period = _models(name, m, long, fourier_period)
        for i, f in zip(members, _run(model, fallback, [ys[i] for i in members], int(h), period)):
            result[i] = f
    return [np.exp(f) for f in result] if transform == "log" else result


def naive(y: np.ndarray, h: int, transform: str | None = None) -> np.ndarray:
    return baseline_forecasts("naive", [y], h, 1, transform=transform)[0]


def seasonal_naive(y: np.ndarray, h: int, m: int, transform: str | None = None) -> np.ndarray:
    return baseline_forecasts("seasonal_naive", [y], h, m, transform=transform)[0]


def ets(y: np.ndarray, h: int, m: int, transform: str | None = None) -> np.ndarray:
    """AICc-selected ETS forecast (MSTL + ETS for m > 24; see the module docstring)."""
    return baseline_forecasts("ets", [y], h, m, transform=transform)[0]


def arima(y: np.ndarray, h: int, m: int, fourier_period: float | None = None,
          transform: str | None = None) -> np.ndarray:
    """AICc-selected (S)ARIMA forecast (Fourier regressors for m > 24; see the module docstring)."""
    return baseline_forecasts("arima", [y], h, m, transform=transform, fourier_period=fourier_period)[0]


def theta(y: np.ndarray, h: int, m: int, transform: str | None = None) -> np.ndarray:
    """Theta-method forecast (seasonally adjusted when the season tests significant)."""
    return baseline_forecasts("theta", [y], h, m, transform=transform)[0]


def baseline_forecast(name: str, y: np.ndarray, h: int, m: int, transform: str | None = None,
                      **kwargs) -> np.ndarray:
    """Dispatch by name: one of `BASELINES` (``fourier_period`` only for ``arima``)."""
    if kwargs and name != "arima":
        raise ValueError(f"baseline {name!r} takes no options, received {sorted(kwargs)}")
    return baseline_forecasts(name, [y], h, m, transform=transform, **kwargs)[0]
