"""Calibrated quantiles (issue 11, item 2): conformalised quantile regression."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstmkit.tasks.forecast import DataConfig, Forecast, ForecastConfig, ModelConfig, conformal
from lstmkit.tasks.forecast.backtesting import backtest

H = 6


def _noisy_panel(n_series=24, n=80, sigma=1.0, seed=0) -> pd.DataFrame:
    """Seasonal level + Gaussian noise of known sigma: the 10-90% band is level +- 1.28 sigma."""
    rng = np.random.default_rng(seed)
    parts = []
    for i in range(n_series):
        t = np.arange(n)
        level = 10 + 3 * np.sin(2 * np.pi * t / 12 + i)
        parts.append(pd.DataFrame({"unique_id": f"s{i}", "ds": t, "y": level + rng.normal(0, sigma, n)}))
    return pd.concat(parts, ignore_index=True)


def test_margins_are_the_conformal_rank_of_the_scores():
    # 9 calibration windows, one step: scores 1..9 (actual above q_hi by k); 80% band
    q = np.zeros((9, 1, 3))
    actual = np.arange(1.0, 10.0)[:, None]
    margins = conformal.corrections(q, actual, (0.1, 0.5, 0.9))
    # rank ceil((9 + 1) * 0.8) = 8 -> the 8th smallest score
    assert margins == {"0.1,0.9": [8.0]}
    widened = conformal.apply(np.zeros((1, 1, 3)), margins, (0.1, 0.5, 0.9))
    assert widened[0, 0].tolist() == [-8.0, 0.0, 8.0]
    # a band already too wide gets a negative margin (narrowed)
    wide = np.stack([np.full((9, 1), -20.0), np.zeros((9, 1)), np.full((9, 1), 20.0)], axis=-1)
    assert conformal.corrections(wide, np.zeros((9, 1)), (0.1, 0.5, 0.9))["0.1,0.9"][0] == -20.0


def test_conformalised_band_covers_about_80_percent_on_known_noise():
    data = _noisy_panel()
    config = ForecastConfig(model=ModelConfig(horizon=H, hidden_size=16, head_hidden=16),
                            data=DataConfig(season_length=12))
    train = Forecast.default_train(max_epochs=4, progress=False, seed=0)
    result = backtest(config, data, train=train, n_cutoffs=2, step=H, baselines=())
    lstm = result.summary.set_index("model").loc["lstm"]
    # 24 series x 2 cut-offs x 6 steps = 288 held-out points; nominal 0.8
    assert abs(lstm["coverage"] - 0.8) <= 0.1, lstm.to_dict()
    assert lstm["width"] > 0
    # the margins were measured on held-out windows and applied to every step
    assert result.forecasts["y_q90"].ge(result.forecasts["y_q10"]).all()


def test_margins_are_saved_and_evaluate_reports_coverage(tmp_path):
    data = _noisy_panel(n_series=6, n=50)
    config = ForecastConfig(model=ModelConfig(horizon=H, hidden_size=8, head_hidden=8, calibration_refit="none"),
                            data=DataConfig(season_length=12))
    task = Forecast(config, Forecast.default_train(max_epochs=2, progress=False)).fit(data)
    assert set(task.conformal) == {"0.1,0.9"} and len(task.conformal["0.1,0.9"]) == H
    # L = 36 (adaptive), W = 50 - 36 - 6 + 1 = 9 full windows: K = min(ceil(60 / 6), floor(0.15 * 50), 9 // 4) = 2
    assert task.calibration_windows == 6 * 2
    task.save(tmp_path / "m")
    again = Forecast.load(tmp_path / "m")
    assert again.conformal == task.conformal
    pd.testing.assert_frame_equal(again.predict(data), task.predict(data))
    scores = task.evaluate(data, baselines=("naive",))
    assert 0.0 <= scores["lstm"]["coverage"] <= 1.0 and scores["lstm"]["width"] > 0


def test_few_calibration_windows_pool_neighbouring_steps_and_cover_each_step():
    """Known noise: actuals N(0, 1) at every step, an over-confident band +-0.5 (true 80%
    band: +-1.2816).  With 12 calibration windows a per-step margin is the 11th of 12
    draws - each step's coverage swings widely; pooling neighbouring steps (r = 4, 108
    scores) keeps every step near 80%."""
    from scipy.stats import norm

    horizon, n = 12, 12
    assert conformal.pooling_radius(n, horizon) == 4
    q = np.zeros((n, horizon, 3))
    q[:, :, 0], q[:, :, 2] = -0.5, 0.5
    worst = []
    for seed in range(20):
        actual = np.random.default_rng(seed).normal(size=(n, horizon))
        margin = np.asarray(conformal.corrections(q, actual, (0.1, 0.5, 0.9))["0.1,0.9"])
        coverage = 2 * norm.cdf(0.5 + margin) - 1                  # exact coverage of each step's band
        worst.append(np.abs(coverage - 0.8).max())
    # the worst step of a typical draw is within 0.1 of nominal (per-step margins: ~0.17)
    assert np.median(worst) < 0.1, np.median(worst)
