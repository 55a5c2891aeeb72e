"""What forecasts after conformal calibration (`ModelConfig.calibration_refit`)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lstmkit.tasks.forecast import DataConfig, Forecast, ForecastConfig, ModelConfig, conformal
from lstmkit.tasks.forecast.backtesting import backtest

sys.path.insert(0, str(Path(__file__).parent))  # the known-noise panel of the conformal tests
from test_forecast_conformal import _noisy_panel  # noqa: E402

H = 6
QS = (0.1, 0.5, 0.9)


def _config(mode: str, **model) -> ForecastConfig:
    return ForecastConfig(model=ModelConfig(horizon=H, hidden_size=8, head_hidden=8, calibration_refit=mode,
                                            **model), data=DataConfig(season_length=12))


def _fit(mode: str, data: pd.DataFrame, epochs: int = 3, **model) -> Forecast:
    return Forecast(_config(mode, **model), Forecast.default_train(max_epochs=epochs, progress=False)).fit(data)


def test_a_negative_margin_narrows_the_band_but_never_moves_the_median():
    lopsided = np.array([[[0.4, 0.5, 3.0]]])
    out = conformal.apply(lopsided, {"0.1,0.9": [-1.0]}, QS)
    # q_lo passes the median (1.4 > 0.5): sorting made 1.4 the median; the median stays 0.5
    assert out[0, 0].tolist() == [0.5, 0.5, 2.0]
    assert conformal.apply(np.array([[[-1.0, 0.0, 1.0]]]), {"0.1,0.9": [-3.0]}, QS)[0, 0].tolist() == [0.0] * 3


def test_offset_band_is_the_refit_median_plus_the_calibrated_offsets():
    point = np.array([[[5.0, 6.0, 7.0], [1.0, 2.0, 3.0]]])
    band = np.array([[[-1.0, 0.5, 3.0], [0.0, 0.0, 0.0]]])
    out = conformal.offset_band(point, band, QS)
    assert out.tolist() == [[[4.5, 6.0, 8.5], [2.0, 2.0, 2.0]]]


def test_mode_names_and_the_former_boolean():
    assert ModelConfig(calibration_refit=True).calibration_refit == "margins"
    assert ModelConfig(calibration_refit=False).calibration_refit == "none"
    with pytest.raises(ValueError, match="calibration_refit"):
        ModelConfig(calibration_refit="sometimes")
    record = {"model": {"horizon": 3, "calibration_refit": True}, "data": {}}
    config, _ = Forecast.config_from_record(record)          # a model saved with the boolean loads
    assert config.model.calibration_refit == "margins"
    assert ForecastConfig.from_dict({"model": {"calibration_refit": False}}).model.calibration_refit == "none"
    with pytest.raises(ValueError, match="calibration_refit"):   # only the booleans are translated
        ForecastConfig.from_dict({"model": {"calibration_refit": 1}})


def test_a_run_yaml_written_with_the_boolean_still_configures_a_fit(tmp_path, capsys):
    from lstmkit.cli import main

    (tmp_path / "run.yaml").write_text("model:\n  horizon: 4\n  calibration_refit: false\n")
    assert main(["forecast", "fit", "--config", str(tmp_path / "run.yaml"), "--print-config"]) == 0
    assert "calibration_refit: none" in capsys.readouterr().out


def test_offsets_forecast_the_refit_median_inside_the_calibrated_band(tmp_path):
    data = _noisy_panel(n_series=6, n=50)
    task = _fit("offsets", data)
    assert task.calibration_nets is not None and task.conformal
    win, *_ = task.prepare_windows(data)
    refit = task.predict_windows(win.enc, win.dec, win.length)
    cal = task.predict_windows(win.enc, win.dec, win.length, task.calibration_nets)
    assert not np.allclose(refit[:, :, 1], cal[:, :, 1])    # two different ensembles
    got = task.calibrated_windows(win.enc, win.dec, win.length)
    # the point forecast is the refit networks' median, untouched by the calibration ...
    np.testing.assert_allclose(got[:, :, 1], refit[:, :, 1])
    # ... and the band is the calibration networks' conformalised offsets around it
    band = conformal.apply(cal, task.conformal, task.config.model.quantiles)
    np.testing.assert_allclose(got - got[:, :, 1:2], band - band[:, :, 1:2], atol=1e-12)
    frame = task.predict(data)
    win, panel, scalers, _ = task.prepare_windows(data)
    z = refit[:, :, 1] * win.scale[:, None] + win.level[:, None]
    expected = np.concatenate([scalers[i].inverse(z[i]) for i in range(len(panel))])
    np.testing.assert_allclose(frame["y_hat"], expected)
    # both ensembles are saved; the reloaded model predicts the same numbers
    task.save(tmp_path / "m")
    again = Forecast.load(tmp_path / "m")
    assert len(again.nets) == len(again.calibration_nets) == task.members
    pd.testing.assert_frame_equal(again.predict(data), frame)


def test_none_keeps_the_calibration_networks_and_scaled_rescales_the_margins():
    data = _noisy_panel(n_series=6, n=50)
    none = _fit("none", data)
    assert none.calibration_nets is None and none.refit_scale == 1.0
    scaled = _fit("scaled", data)
    assert scaled.calibration_nets is None and scaled.refit_scale > 0 and scaled.refit_scale != 1.0
    win, *_ = scaled.prepare_windows(data)
    raw = scaled.predict_windows(win.enc, win.dec, win.length)
    expected = conformal.apply(raw, scaled.conformal, scaled.config.model.quantiles, scaled.refit_scale)
    np.testing.assert_allclose(scaled.calibrated_windows(win.enc, win.dec, win.length), expected)


def test_offsets_cover_known_noise_within_a_binomial_bound():
    """24 noisy seasonal series, 2 cut-offs x 6 steps: n = 288 held-out points, nominal 0.8.
    The bound is 3 binomial standard deviations (0.071); the points of one path are not
    independent, so the true spread is somewhat wider and the bound is not tight."""
    data = _noisy_panel()
    config = ForecastConfig(model=ModelConfig(horizon=H, hidden_size=16, head_hidden=16, calibration_refit="offsets"),
                            data=DataConfig(season_length=12))
    train = Forecast.default_train(max_epochs=4, progress=False, seed=0)
    result = backtest(config, data, train=train, n_cutoffs=2, step=H, baselines=())
    lstm = result.summary.set_index("model").loc["lstm"]
    n = 24 * 2 * H
    assert abs(lstm["coverage"] - 0.8) <= 3 * math.sqrt(0.8 * 0.2 / n), lstm.to_dict()
