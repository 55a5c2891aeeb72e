"""Forecast (the former Forecaster): fit a few epochs, predict quantiles, save/load identically, covariates, backtest, demo."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

import lstmkit
from lstmkit.tasks.forecast import Forecast, ForecastDataError, Forecaster, default_config, run_demo
from lstmkit.tasks.forecast.backtesting import backtest, format_summary
from lstmkit.tasks.forecast.config import DataConfig
from lstmkit.tasks.forecast.model import ForecastNet
from lstmkit.train import ModelLoadError

# seeded fits whose figures the assertions hold are run at one thread (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("one_thread")


def _panel(n_series: int = 2, n: int = 60, covariates: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    parts = []
    ds = pd.date_range("2010-01-01", periods=n, freq="MS")
    for i in range(n_series):
        t = np.arange(n)
        y = 50 + i * 20 + 0.3 * t + 5 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.5, n)
        part = pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": y})
        if covariates:
            part["promo"] = (t % 5 == 0).astype(float)
            part["temp"] = np.cos(t / 3.0)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


TRAIN = Forecast.default_train(max_epochs=2, progress=False)


def _config(data: DataConfig | None = None, **kw):
    data = DataConfig(batch_size=32) if data is None else data
    return default_config(6, 12, **{"lookback": 24, "data": data, **kw})


def test_network_uses_lstmkit_lstm_and_outputs_horizon_by_quantiles():
    cfg = _config().model
    net = ForecastNet(cfg, n_known=4, n_past=1)
    assert isinstance(net.encoder, lstmkit.LSTM)
    out = net(torch.zeros(3, cfg.lookback, 6), torch.zeros(3, cfg.horizon, 4))
    assert out.shape == (3, cfg.horizon, len(cfg.quantiles))


def test_fit_predict_global_model_quantiles_are_ordered():
    data = _panel()
    fc = Forecast(_config(members=2), TRAIN).fit(data)
    out = fc.predict(data)
    assert list(out.columns) == ["unique_id", "ds", "y_hat", "y_q10", "y_q50", "y_q90"]
    assert len(out) == 2 * 6 and out.unique_id.tolist() == ["s0"] * 6 + ["s1"] * 6
    assert out.ds.iloc[0] == pd.Timestamp("2015-01-01")
    assert (out.y_q10 <= out.y_q50).all() and (out.y_q50 <= out.y_q90).all()
    np.testing.assert_array_equal(out.y_hat, out.y_q50)
    assert np.isfinite(out[["y_q10", "y_q90"]].to_numpy()).all()


def test_save_load_gives_identical_predictions(tmp_path):
    data = _panel()
    fc = Forecast(_config(transform="log", members=2), TRAIN).fit(data)
    before = fc.predict(data)
    fc.save(tmp_path / "model")
    assert (tmp_path / "model" / "config.json").exists()
    loaded = Forecaster.load(tmp_path / "model")
    pd.testing.assert_frame_equal(before, loaded.predict(data))
    assert loaded.config == fc.config and loaded.train_config == TRAIN
    assert Forecaster is Forecast  # the former name still works


def test_loading_a_missing_or_foreign_directory_is_one_line(tmp_path):
    with pytest.raises(ModelLoadError):
        Forecaster.load(tmp_path / "absent")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    with pytest.raises(ModelLoadError) as info:
        Forecaster.load(broken)
    assert "\n" not in str(info.value)


def test_single_array_with_integer_steps():
    y = 10 + np.sin(np.arange(80) * 2 * np.pi / 12) + np.arange(80) * 0.05
    fc = Forecast(_config(), TRAIN).fit(y)
    out = fc.predict(y)
    np.testing.assert_array_equal(out.ds.to_numpy(), np.arange(80, 86))
    assert out.unique_id.unique().tolist() == ["series_0"]


def test_past_and_future_covariates(tmp_path):
    data = _panel(covariates=True)
    config = _config(data=DataConfig(past_covariates=("temp",), future_covariates=("promo",)))
    history = data.groupby("unique_id").head(54)
    future = data.groupby("unique_id").tail(6)[["unique_id", "ds", "promo"]]
    fc = Forecast(config, TRAIN).fit(history)
    with pytest.raises(ForecastDataError, match="future covariates \\['promo'\\].*pass future="):
        fc.predict(history)
    out = fc.predict(history, future=future)
    assert len(out) == 12
    with pytest.raises(ForecastDataError, match="series 's1' has no row for 2014-12-01"):
        fc.predict(history, future=future.iloc[:-1])
    # a different promotion plan changes the forecast
    flipped = future.assign(promo=1.0 - future.promo)
    assert not np.allclose(out.y_hat, fc.predict(history, future=flipped).y_hat)


def test_validation_data_runs_a_validation_loss():
    data = _panel()
    train = data.groupby("unique_id").head(48)
    val = data.groupby("unique_id").tail(12)
    fc = Forecast(_config(), TRAIN).fit(train, val=val)
    assert len(fc.predict(train)) == 12
    assert set(fc.val_metrics) == {"val_MAE", "val_sMAPE", "val_MASE"}
    assert all(np.isfinite(v) for v in fc.val_metrics.values())
    with pytest.warns(DeprecationWarning, match="val_data"):
        Forecast(_config(), TRAIN).fit(train, val_data=val)


def test_predict_left_pads_histories_shorter_than_the_lookback():
    data = _panel()
    fc = Forecast(_config(), TRAIN).fit(data)
    out = fc.predict(data.groupby("unique_id").head(10))     # 10 < lookback 24: padded, not refused
    assert len(out) == 2 * 6 and np.isfinite(out["y_hat"]).all()
    with pytest.raises(ForecastDataError, match="fewer than 2 step"):
        fc.predict(data.groupby("unique_id").head(1))


def test_rolling_origin_backtest_reports_lstm_and_baselines():
    data = _panel(n_series=1, n=72)
    result = backtest(_config(), data, train=TRAIN, n_cutoffs=2, step=6, baselines=("naive", "seasonal_naive"))
    assert result.scores.cutoff.nunique() == 2
    assert result.summary.model.tolist() == ["lstm", "naive", "seasonal_naive"]
    assert set(result.forecasts.columns) >= {"y", "y_hat", "y_q10", "y_q90", "naive", "seasonal_naive"}
    # the latest cut-off scores the last 6 values
    last = result.forecasts[result.forecasts.cutoff == result.forecasts.cutoff.max()]
    np.testing.assert_allclose(last.y.to_numpy(), data.y.to_numpy()[-6:])
    text = format_summary(result.summary)
    assert "MASE" in text and "seasonal_naive" in text


def test_quick_demo_writes_plot_forecasts_and_metrics(tmp_path, capsys):
    assert run_demo(tmp_path / "demo", seed=0, quick=True) == 0
    files = sorted(p.name for p in (tmp_path / "demo").iterdir())
    assert files == ["forecast.csv", "forecast.png", "metrics.json"]
    report = json.loads((tmp_path / "demo" / "metrics.json").read_text())
    models = [row["model"] for row in report["summary"]]
    assert models == ["lstm", "naive", "seasonal_naive", "ets"]
    # ETS is fitted on the log series, as the LSTM is (raw-series ETS scores MASE 2.38 here)
    ets = next(row for row in report["summary"] if row["model"] == "ets")
    assert ets["MASE"] < 1.0
    printed = capsys.readouterr().out
    for word in ("MAE", "RMSE", "sMAPE", "MASE", "seasonal_naive", "ets"):
        assert word in printed
    assert (tmp_path / "demo" / "forecast.png").read_bytes()[:4] == b"\x89PNG"


def test_backtest_name_is_the_function():
    """``from lstmkit.tasks.forecast import backtest`` gives the function, not a module."""
    from lstmkit.tasks.forecast import backtest as imported

    assert callable(imported) and imported is backtest
