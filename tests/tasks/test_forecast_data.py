"""Forecasting input: windowing, scaling, and every bad-input message (issue 4, section 6)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstmkit.tasks.forecast.config import DataConfig, ForecastConfig, ModelConfig
from lstmkit.tasks.forecast.data import (
    ForecastDataError,
    future_index,
    prepare_panel,
    time_in_steps,
)
from lstmkit.tasks.forecast.scaling import fit_scaler, window_stats
from lstmkit.tasks.forecast.windowing import fourier_terms, inference_windows, training_windows


def _monthly(uid: str, n: int, start: str = "2000-01-01") -> pd.DataFrame:
    ds = pd.date_range(start, periods=n, freq="MS")
    return pd.DataFrame({"unique_id": uid, "ds": ds.strftime("%Y-%m-%d"), "y": np.arange(1.0, n + 1)})


# ----------------------------------------------------------------------------- windowing
def test_training_windows_layout_and_per_window_scaling():
    z = [np.arange(10.0)]
    empty = [np.zeros((10, 0))]
    win = training_windows(z, empty, empty, np.array([1e-8]), lookback=3, horizon=2)
    # a series with a full window (10 >= L + H) gives only full windows: origins 2..7
    assert len(win) == 6
    assert win.enc.shape == (6, 3, 1) and win.dec.shape == (6, 2, 0) and win.target.shape == (6, 2)
    assert win.origin.tolist() == [2, 3, 4, 5, 6, 7] and win.length.tolist() == [3] * 6 and win.mask.all()
    std = np.std([0.0, 1.0, 2.0])
    np.testing.assert_allclose(win.level[0], 1.0)
    np.testing.assert_allclose(win.scale[0], std)
    np.testing.assert_allclose(win.enc[0, :, 0], [-1 / std, 0.0, 1 / std], rtol=1e-6)
    # the target is scaled with the lookback's statistics only: (3 - 1) / std, (4 - 1) / std
    np.testing.assert_allclose(win.target[0], [2 / std, 3 / std], rtol=1e-6)
    # every window is shift-invariant: same scaled inputs for all windows of a line
    np.testing.assert_allclose(win.enc[:, :, 0], np.repeat(win.enc[:1, :, 0], 6, axis=0), rtol=1e-6)


def test_series_shorter_than_lookback_plus_horizon_give_left_padded_windows():
    z = [np.arange(4.0)]
    win = training_windows(z, [np.zeros((4, 0))], [np.zeros((4, 0))], np.array([1e-8]), lookback=3, horizon=2,
                           spreads=np.array([1.0]))
    # origins 0, 1 with 1 and 2 observed steps, zero rows first; level from the real steps only
    assert win.origin.tolist() == [0, 1] and win.length.tolist() == [1, 2] and win.mask.all()
    np.testing.assert_allclose(win.enc[1, 0, 0], 0.0)
    np.testing.assert_allclose(win.level, [0.0, 0.5])


def test_short_series_give_padded_windows_with_masked_targets():
    """A series of 3 points (< lookback + horizon, even <= horizon) still gives windows."""
    z = [np.array([1.0, 2.0, 4.0])]
    empty = [np.zeros((3, 0))]
    spread = float(np.std(z[0]))
    win = training_windows(z, empty, empty, np.array([1e-8]), lookback=5, horizon=4,
                           spreads=np.array([spread]))
    assert win.origin.tolist() == [0, 1] and win.length.tolist() == [1, 2]
    # origin 0 sees targets 2, 4 (steps 3, 4 unobserved); origin 1 sees 4
    assert win.mask.tolist() == [[1, 1, 0, 0], [1, 0, 0, 0]]
    # fewer than SHORT_CONTEXT observed steps: the series' spread is the scale
    np.testing.assert_allclose(win.scale, [spread, spread])
    np.testing.assert_allclose(win.target[0, :2], [(2 - 1) / spread, (4 - 1) / spread], rtol=1e-6)
    assert np.isfinite(win.enc).all() and np.isfinite(win.target).all()


def test_training_windows_carry_known_and_past_features():
    n = 8
    z = [np.arange(n, dtype=float)]
    known = [np.stack([np.arange(n) * 10.0], axis=1)]
    past = [np.stack([np.arange(n) * 100.0], axis=1)]
    win = training_windows(z, known, past, np.array([1e-8]), lookback=3, horizon=2)
    # the first full window: encoder [scaled z, known_t, past_t] for t = 0..2 ; decoder known_t, t = 3, 4
    first = int(np.flatnonzero(win.length == 3)[0])
    np.testing.assert_allclose(win.enc[first, :, 1], [0, 10, 20])
    np.testing.assert_allclose(win.enc[first, :, 2], [0, 100, 200])
    np.testing.assert_allclose(win.dec[first, :, 0], [30, 40])


def test_training_windows_respect_limits_and_too_short_series():
    z = [np.arange(10.0), np.arange(4.0)]
    empty = [np.zeros((10, 0)), np.zeros((4, 0))]
    win = training_windows(z, empty, empty, np.array([1e-8, 1e-8]), 3, 2, limits=[7, 1])
    # series 0 up to 7: full windows at origins 2..4; series 1 cut to 1 point: nothing
    assert len(win) == 3 and set(win.series.tolist()) == {0}
    with pytest.raises(ValueError, match="fewer than 2 observed steps"):
        training_windows([np.arange(1.0)], [np.zeros((1, 0))], [np.zeros((1, 0))], np.array([1.0]), 3, 2)


def test_inference_windows_use_the_last_lookback_steps():
    z = [np.arange(6.0)]
    empty = [np.zeros((6, 0))]
    win = inference_windows(z, empty, empty, [np.zeros((2, 0))], np.array([1e-8]), lookback=3)
    np.testing.assert_allclose(win.level, [4.0])
    assert win.enc.shape == (1, 3, 1) and win.origin.tolist() == [5] and win.length.tolist() == [3]
    short = inference_windows([np.array([2.0, 4.0])], [np.zeros((2, 0))], [np.zeros((2, 0))],
                              [np.zeros((2, 0))], np.array([1e-8]), lookback=3, spreads=np.array([1.0]))
    assert short.length.tolist() == [2] and short.enc[0, 0, 0] == 0.0
    np.testing.assert_allclose(short.level, [3.0])


def test_window_scale_floor_for_flat_windows():
    level, scale = window_stats(np.full((2, 4), 5.0), np.array([0.5, 0.25]))
    np.testing.assert_allclose(level, [5.0, 5.0])
    np.testing.assert_allclose(scale, [0.5, 0.25])


def test_fourier_terms_shape_and_period():
    t = np.arange(24.0)
    f = fourier_terms(t, (12.0,), 2)
    assert f.shape == (24, 4)
    np.testing.assert_allclose(f[:12], f[12:], atol=1e-12)
    assert fourier_terms(t, (), 3).shape == (24, 0)


def test_time_in_steps_monthly_weekly_yearly():
    months = pd.date_range("2000-01-01", periods=3, freq="MS")
    np.testing.assert_allclose(np.diff(time_in_steps(months, "MS")), [1, 1])
    weeks = pd.date_range("2000-01-01", periods=3, freq="W-SAT")
    np.testing.assert_allclose(np.diff(time_in_steps(weeks, "W-SAT")), [1, 1])
    years = pd.date_range("2000-01-01", periods=3, freq="YS")
    np.testing.assert_allclose(np.diff(time_in_steps(years, "YS")), [1, 1])
    assert list(future_index(pd.Timestamp("2000-03-01"), 2, "MS", 1)) == [
        pd.Timestamp("2000-04-01"), pd.Timestamp("2000-05-01")]
    np.testing.assert_array_equal(future_index(np.int64(10), 3, None, 2), [12, 14, 16])


# ----------------------------------------------------------------------------- scaling
def test_log_and_boxcox_scalers_round_trip():
    y = np.array([0.0, 1.0, 4.0, 9.0, 30.0, 2.0])
    box = fit_scaler("boxcox", y, np.zeros((6, 0)), "s")
    assert box.shift == 1.0 and -1.0 <= box.lam <= 2.0
    np.testing.assert_allclose(box.inverse(box.transform(y)), y, atol=1e-9)
    log = fit_scaler("log", y + 1.0, np.zeros((6, 0)), "s")
    np.testing.assert_allclose(log.transform(y + 1.0), np.log(y + 1.0))
    np.testing.assert_allclose(log.inverse(log.transform(y + 1.0)), y + 1.0)


def test_log_scaler_rejects_non_positive_values_naming_the_series():
    with pytest.raises(ForecastDataError, match="series 'shop_3'.*positive.*boxcox"):
        fit_scaler("log", np.array([1.0, 0.0, 2.0]), np.zeros((3, 0)), "shop_3")


def test_covariates_are_standardised_per_series():
    cov = np.array([[1.0, 10.0], [3.0, 10.0]])
    sc = fit_scaler("none", np.array([1.0, 2.0]), cov, "s")
    np.testing.assert_allclose(sc.scale_covariates(cov), [[-1.0, 0.0], [1.0, 0.0]])


# ----------------------------------------------------------------------------- configs
def test_configs_validate_and_round_trip():
    with pytest.raises(ValueError, match="lookback must be an integer >= 2"):
        ModelConfig(lookback=1)
    with pytest.raises(ValueError, match="quantiles must lie in \\(0, 1\\)"):
        ModelConfig(quantiles=(0.1, 1.5))
    with pytest.raises(ValueError, match="transform must be one of"):
        DataConfig(transform="sqrt")
    assert ModelConfig(quantiles=(0.9, 0.1)).quantiles == (0.1, 0.5, 0.9)
    cfg = ForecastConfig(model=ModelConfig(seasonal_periods=(12,)), data=DataConfig(past_covariates=["a"]))
    assert ForecastConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="ForecastConfig: unknown key 'bogus'"):
        ForecastConfig.from_dict({"bogus": 1})


# ----------------------------------------------------------------------------- bad input
def test_panel_of_two_series_and_a_single_array():
    frame = pd.concat([_monthly("a", 12), _monthly("b", 10, "2001-01-01")])
    panel = prepare_panel(frame, min_length=10)
    assert panel.ids == ["a", "b"] and panel.freq == "MS"
    assert [len(y) for y in panel.y] == [12, 10]
    single = prepare_panel(np.arange(5.0))
    assert single.ids == ["series_0"] and single.freq is None
    np.testing.assert_array_equal(single.ds[0], np.arange(5))


def test_missing_column_is_named():
    frame = _monthly("a", 12).drop(columns="y")
    with pytest.raises(ForecastDataError, match="missing column\\(s\\) \\['y'\\]"):
        prepare_panel(frame)
    with pytest.raises(ForecastDataError, match="missing column\\(s\\) \\['price'\\]"):
        prepare_panel(_monthly("a", 12), DataConfig(future_covariates=("price",)))


def test_non_numeric_value_names_series_column_and_value():
    frame = _monthly("store_7", 12).astype({"y": object})
    frame.loc[3, "y"] = "n/a?"
    with pytest.raises(ForecastDataError, match="series 'store_7', row 4: column 'y' has non-numeric value 'n/a\\?'"):
        prepare_panel(frame)


def test_duplicate_timestamps_are_refused():
    frame = _monthly("a", 12)
    frame.loc[5, "ds"] = frame.loc[4, "ds"]
    with pytest.raises(ForecastDataError, match="series 'a': duplicate timestamp 2000-05-01"):
        prepare_panel(frame)


def test_unparseable_date_is_named():
    frame = _monthly("a", 12)
    frame.loc[2, "ds"] = "the third of march"
    with pytest.raises(ForecastDataError, match="series 'a': column 'ds' has unparseable date 'the third of march'"):
        prepare_panel(frame)


def test_irregular_timestamps_are_refused():
    frame = _monthly("a", 12)
    frame.loc[6, "ds"] = "2000-07-15"
    with pytest.raises(ForecastDataError, match="series 'a': irregular timestamps"):
        prepare_panel(frame, DataConfig(freq="MS"))
    with pytest.raises(ForecastDataError, match="irregular timestamps"):
        prepare_panel(frame)


def test_too_short_series_names_the_series_and_the_need():
    frame = pd.concat([_monthly("long", 30), _monthly("tiny", 5)])
    with pytest.raises(ForecastDataError, match="series 'tiny' has 5 step\\(s\\), fewer than the 20 needed"):
        prepare_panel(frame, min_length=20)


def test_nan_values_are_interpolated_with_a_warning():
    frame = _monthly("a", 12)
    frame.loc[[4, 5], "y"] = np.nan
    with pytest.warns(UserWarning, match="series 'a': 2 missing value\\(s\\) in column 'y' filled by linear"):
        panel = prepare_panel(frame)
    np.testing.assert_allclose(panel.y[0], np.arange(1.0, 13.0))


def test_missing_grid_timestamps_are_filled_with_a_warning():
    frame = _monthly("a", 12).drop(index=[3])
    with pytest.warns(UserWarning, match="1 timestamp\\(s\\) missing from the regular grid"):
        panel = prepare_panel(frame, DataConfig(freq="MS"))
    assert len(panel.y[0]) == 12
    np.testing.assert_allclose(panel.y[0][3], 4.0)


def test_all_nan_series_is_refused():
    frame = _monthly("a", 6)
    frame["y"] = np.nan
    with pytest.raises(ForecastDataError, match="series 'a': column 'y' has no values"):
        prepare_panel(frame)


def test_empty_file_and_header_only_file(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ForecastDataError, match="empty.csv' is empty"):
        prepare_panel(empty)
    header = tmp_path / "header.csv"
    header.write_text("unique_id,ds,y\n")
    with pytest.raises(ForecastDataError, match="the table is empty"):
        prepare_panel(header)
    with pytest.raises(ForecastDataError, match="does not exist"):
        prepare_panel(tmp_path / "nope.csv")
