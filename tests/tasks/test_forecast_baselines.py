"""The statsforecast baselines on series whose structure is known."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("statsforecast")

from lstmkit.tasks.forecast import baselines as bl  # noqa: E402
from lstmkit.tasks.forecast import metrics as fm  # noqa: E402


def _seasonal(n: int, m: float, seed: int = 0, noise: float = 1.0) -> np.ndarray:
    """Linear trend + one sine season of period m + Gaussian noise."""
    t = np.arange(n, dtype=np.float64)
    rng = np.random.default_rng(seed)
    return 50 + 0.5 * t + 10 * np.sin(2 * np.pi * t / m) + rng.normal(0, noise, n)


def test_seasonal_naive_repeats_the_last_season_exactly():
    y = _seasonal(60, 12)
    f = bl.seasonal_naive(y, 30, 12)
    np.testing.assert_array_equal(f, np.concatenate([y[-12:], y[-12:], y[-12:-6]]))
    np.testing.assert_array_equal(bl.naive(y, 3), [y[-1]] * 3)
    # shorter than one season, or no season: the naive forecast
    np.testing.assert_array_equal(bl.seasonal_naive(y[:8], 4, 12), [y[7]] * 4)
    np.testing.assert_array_equal(bl.seasonal_naive(y, 4, 1), [y[-1]] * 4)


@pytest.mark.parametrize("name", ["ets", "arima"])
def test_auto_models_beat_the_naive_forecasts_on_a_trend_and_season(name):
    y = _seasonal(144, 12)
    train, test = y[:-24], y[-24:]
    f = bl.baseline_forecast(name, train, 24, 12)
    err = fm.mae(test, f)
    # the naive forecast misses the season (amplitude 10) and the trend (0.5 a step);
    # the seasonal naive one lags the trend by 6 per season
    assert err < 0.25 * fm.mae(test, bl.naive(train, 24))
    assert err < 0.5 * fm.mae(test, bl.seasonal_naive(train, 24, 12))
    assert err < 2.0  # noise sd 1: the forecast is near the known mean


def test_long_seasons_use_mstl_ets_and_fourier_arima():
    m = 365.25 / 7  # weekly data, fractional period
    y = _seasonal(4 * 52 + 26, m)
    train, test = y[:-26], y[-26:]
    naive_err = fm.mae(test, bl.naive(train, 26))
    for f in (bl.ets(train, 26, 52), bl.arima(train, 26, 52, fourier_period=m)):
        assert fm.mae(test, f) < 0.25 * naive_err


def test_log_transform_fits_the_log_series():
    y = np.exp(_seasonal(96, 12, noise=0.5) / 50)
    for name in ("ets", "seasonal_naive"):  # arima takes the same path, at 10x the time
        got = bl.baseline_forecast(name, y, 12, 12, transform="log")
        want = np.exp(bl.baseline_forecast(name, np.log(y), 12, 12))
        np.testing.assert_allclose(got, want, rtol=1e-10)
    with pytest.raises(ValueError, match="positive"):
        bl.ets(np.r_[y, 0.0], 3, 12, transform="log")
    with pytest.raises(ValueError, match="transform"):
        bl.ets(y, 3, 12, transform="boxcox")


def test_many_series_in_one_call_match_one_at_a_time():
    series = [_seasonal(72, 12, seed=1), _seasonal(40, 12, seed=2) + 100, _seasonal(9, 12, seed=3)]
    for name in ("seasonal_naive", "ets"):
        together = bl.baseline_forecasts(name, series, 6, 12)
        assert [len(f) for f in together] == [6, 6, 6]
        for y, f in zip(series, together):
            np.testing.assert_allclose(f, bl.baseline_forecast(name, y, 6, 12), rtol=1e-8)
    # the series shorter than two seasons gets a non-seasonal model, not an error
    assert np.isfinite(together[2]).all()


def test_bad_arguments_are_one_line_errors():
    with pytest.raises(ValueError, match="baseline must be one of"):
        bl.baseline_forecast("prophet", np.ones(10), 2, 1)
    with pytest.raises(ValueError, match="takes no options"):
        bl.baseline_forecast("ets", np.ones(10), 2, 1, fourier_period=3.0)
    with pytest.raises(ValueError, match="finite"):
        bl.naive(np.array([1.0, np.nan]), 2)


def test_theta_is_a_baseline_and_follows_a_linear_trend():
    y = 5.0 + 0.5 * np.arange(40)
    f = bl.theta(y, 4, 1)
    # Theta = SES with drift half the trend slope: the forecasts rise, by about b/2 .. b per step
    assert f.shape == (4,) and np.all(np.diff(f) > 0.2) and np.all(np.diff(f) < 0.6)
    assert "theta" in bl.BASELINES


def test_cli_baseline_choices_match_the_library():
    from lstmkit.commands import forecast as cmd
    from lstmkit.tasks.forecast.api import DEFAULT_BASELINES

    assert cmd.BASELINES == bl.BASELINES and set(DEFAULT_BASELINES) == set(bl.BASELINES)
