"""Forecast accuracy on series of known structure: tests a wrong model fails.

Quantile ordering and shapes hold by construction; these tests need the
forecasts to be good. The series are trend + season + small noise, so the
seasonal-naive forecast (last season repeated) is wrong by the trend times
the lead time, while a model that learned the structure is wrong by about
the noise. The errors are computed here from the raw arrays, not with the
library's metrics or baselines.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstmkit.tasks.forecast import Forecast, baselines, default_config
from lstmkit.tasks.forecast.config import DataConfig

M, H = 12, 12  # monthly season, one season ahead
NOISE = 0.5


def _series(n: int, seed: int, slope: float = 0.6, level: float = 50.0, amp: float = 8.0) -> np.ndarray:
    """level + slope t + a two-harmonic season of period M + N(0, NOISE²) noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=np.float64)
    phase = rng.uniform(0, 2 * np.pi)
    season = amp * np.sin(2 * np.pi * t / M + phase) + 0.4 * amp * np.cos(4 * np.pi * t / M + phase)
    return level + slope * t + season + rng.normal(0, NOISE, n)


def _seasonal_naive(y: np.ndarray, h: int) -> np.ndarray:
    return np.array([y[len(y) - M + (k % M)] for k in range(h)])


def _mae(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(a) - np.asarray(b))))


# seeded fits whose figures the assertions hold are run at one thread (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("one_thread")


def test_lstm_beats_seasonal_naive_on_trend_plus_season():
    """Seasonal naive misses the trend (its MAE is about slope x 6.5 + noise); the LSTM, trained
    a few seconds on six such series, must at least halve that error on the held-out season."""
    n = 108
    ds = pd.date_range("2000-01-01", periods=n, freq="MS")
    full = {f"s{i}": _series(n, seed=i, slope=0.4 + 0.1 * i, level=40.0 + 10 * i) for i in range(6)}
    train = pd.concat([pd.DataFrame({"unique_id": k, "ds": ds[:-H], "y": v[:-H]}) for k, v in full.items()])
    cfg = default_config(H, M, lookback=36, data=DataConfig(batch_size=64))
    fc = Forecast(cfg, Forecast.default_train(max_epochs=40, progress=False, seed=0)).fit(train)
    pred = fc.predict(train)
    lstm_err, snaive_err = [], []
    for uid, y in full.items():
        got = pred.loc[pred.unique_id == uid, "y_hat"].to_numpy()
        assert len(got) == H
        lstm_err.append(_mae(got, y[-H:]))
        snaive_err.append(_mae(_seasonal_naive(y[:-H], H), y[-H:]))
    lstm, snaive = float(np.mean(lstm_err)), float(np.mean(snaive_err))
    assert snaive > 2.0  # the set-up: the baseline really is off by the trend
    assert lstm < 0.5 * snaive, f"LSTM MAE {lstm:.3f} vs seasonal naive {snaive:.3f}"


def test_seasonal_arima_baseline_learns_trend_and_season():
    """The seasonal ARIMA path (m = 12 <= 24: a seasonal (P, D, Q)_12 part): on trend + season +
    noise its one-season-ahead MAE is near the noise level and far below seasonal naive's.
    Uses only the public ``baselines.arima(y, h, m)``."""
    y = _series(72 + H, seed=10)
    f = np.asarray(baselines.arima(y[:-H], H, M), dtype=np.float64)
    assert f.shape == (H,) and np.isfinite(f).all()
    arima, snaive = _mae(f, y[-H:]), _mae(_seasonal_naive(y[:-H], H), y[-H:])
    assert arima < 4 * NOISE, f"ARIMA MAE {arima:.3f}, noise sd {NOISE}"
    assert arima < 0.4 * snaive, f"ARIMA MAE {arima:.3f} vs seasonal naive {snaive:.3f}"


def test_ets_baseline_learns_trend_and_season():
    """The same for the AIC/AICc-selected ETS (trend and seasonal states)."""
    y = _series(72 + H, seed=20)
    f = np.asarray(baselines.ets(y[:-H], H, M), dtype=np.float64)
    assert f.shape == (H,) and np.isfinite(f).all()
    err, snaive = _mae(f, y[-H:]), _mae(_seasonal_naive(y[:-H], H), y[-H:])
    assert err < 4 * NOISE and err < 0.4 * snaive, f"ETS MAE {err:.3f} vs seasonal naive {snaive:.3f}"
