"""Forecast metrics and baselines against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lstmkit.tasks.forecast import baselines as bl
from lstmkit.tasks.forecast import metrics as fm
from lstmkit.tasks.forecast.model import pinball_loss

ACTUAL = [1.0, 2.0, 3.0, 4.0]
FORECAST = [1.0, 3.0, 2.0, 6.0]  # errors 0, 1, 1, 2


def test_mae_rmse_smape_by_hand():
    assert fm.mae(ACTUAL, FORECAST) == pytest.approx(1.0)
    assert fm.rmse(ACTUAL, FORECAST) == pytest.approx(math.sqrt(6 / 4))
    # 100/4 * (0 + 2*1/5 + 2*1/5 + 2*2/10) = 30
    assert fm.smape(ACTUAL, FORECAST) == pytest.approx(30.0)


def test_mase_scaled_by_in_sample_seasonal_naive():
    insample = [1.0, 3.0, 2.0, 4.0, 3.0, 5.0]
    # m = 2: |2-1|, |4-3|, |3-2|, |5-4| -> scale 1
    assert fm.mase(ACTUAL, FORECAST, insample, 2) == pytest.approx(1.0)
    # m = 1: |2|, |1|, |2|, |1|, |2| -> scale 8/5
    assert fm.mase(ACTUAL, FORECAST, insample, 1) == pytest.approx(1.0 / 1.6)
    # a season longer than the sample falls back to m = 1
    assert fm.seasonal_scale(insample, 12) == pytest.approx(1.6)


def test_quantile_loss_by_hand_and_equal_to_the_training_loss():
    actual = [1.0, 2.0]
    quantiles = {0.1: np.array([2.0, 2.0]), 0.9: np.array([0.0, 3.0])}
    # q=0.1: 0.9, 0 -> 0.45 ; q=0.9: 0.9, 0.1 -> 0.5 ; mean 0.475
    assert fm.quantile_loss(actual, quantiles) == pytest.approx(0.475)
    pred = torch.tensor([[2.0, 0.0], [2.0, 3.0]])          # (H, Q)
    loss = pinball_loss(pred, torch.tensor(actual), torch.tensor([0.1, 0.9]))
    assert float(loss) == pytest.approx(0.475)


def test_metric_errors_are_explicit():
    with pytest.raises(ValueError, match="same shape"):
        fm.mae([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="empty"):
        fm.rmse([], [])
    with pytest.raises(ValueError, match="at least 2 in-sample"):
        fm.mase([1.0], [1.0], [1.0], 1)


def test_point_metrics_dict():
    out = fm.point_metrics(ACTUAL, FORECAST, [1.0, 3.0, 2.0, 4.0, 3.0, 5.0], 2)
    assert set(out) == set(fm.POINT_METRICS)
    assert out["MAE"] == pytest.approx(1.0)


def test_naive_and_seasonal_naive_by_hand():
    y = np.arange(1.0, 7.0)
    np.testing.assert_array_equal(bl.naive(y, 3), [6.0, 6.0, 6.0])
    np.testing.assert_array_equal(bl.seasonal_naive(y, 4, 3), [4.0, 5.0, 6.0, 4.0])
    np.testing.assert_array_equal(bl.seasonal_naive(y, 2, 1), [6.0, 6.0])
    with pytest.raises(ValueError, match="baseline must be one of"):
        bl.baseline_forecast("prophet", y, 2, 1)


def test_ets_and_arima_follow_a_clean_trend_and_season():
    t = np.arange(48.0)
    y = 10 + 0.5 * t + 3 * np.sin(2 * np.pi * t / 12)
    truth = 10 + 0.5 * np.arange(48, 54) + 3 * np.sin(2 * np.pi * np.arange(48, 54) / 12)
    ets = bl.ets(y, 6, 12)
    assert ets.shape == (6,) and np.abs(ets - truth).max() < 1.0
    # non-seasonal ARIMA grid on a trend (m = 1), and the Fourier-regressor path (m > 24)
    arima = bl.arima(y, 6, 1)
    assert arima.shape == (6,) and np.isfinite(arima).all()
    assert arima[-1] > y[-1] - 5.0
    long_t = np.arange(120.0)
    weekly = 5 + 2 * np.sin(2 * np.pi * long_t / 30)
    fourier = bl.arima(weekly, 5, 30)
    truth_w = 5 + 2 * np.sin(2 * np.pi * np.arange(120, 125) / 30)
    assert np.abs(fourier - truth_w).max() < 0.5
