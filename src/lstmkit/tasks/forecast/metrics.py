"""Point and quantile forecast metrics.

For actuals y_1..y_h, forecasts f_1..f_h and in-sample (training) values x_1..x_n:

    MAE   = (1/h) sum |y_t - f_t|                                   (torchmetrics)
    RMSE  = sqrt((1/h) sum (y_t - f_t)^2)                           (torchmetrics)
    sMAPE = (100/h) sum 2 |y_t - f_t| / (|y_t| + |f_t|)             (torchmetrics, in %)
    MASE  = MAE / ( (1/(n-m)) sum_{t>m} |x_t - x_{t-m}| )           (scale: in-sample seasonal naive)
    QL    = (1/(h Q)) sum_t sum_q max(q (y_t - f_t^q), (q - 1)(y_t - f_t^q))   (mean pinball loss,
                                                                     scikit-learn)

torchmetrics' sMAPE clamps the denominator at 1.17e-6, so a step where both the actual
and the forecast are 0 counts as 0 error.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
import torchmetrics.functional as tmf

POINT_METRICS = ("MAE", "RMSE", "sMAPE", "MASE")


def _pair(actual, forecast) -> tuple[torch.Tensor, torch.Tensor]:
    a = torch.tensor(np.array(actual, dtype=np.float64))
    f = torch.tensor(np.array(forecast, dtype=np.float64))
    if a.shape != f.shape:
        raise ValueError(f"actual and forecast must have the same shape, received {tuple(a.shape)} and {tuple(f.shape)}")
    if a.numel() == 0:
        raise ValueError("actual and forecast are empty")
    return f, a


def mae(actual, forecast) -> float:
    return float(tmf.mean_absolute_error(*_pair(actual, forecast)))


def rmse(actual, forecast) -> float:
    return float(tmf.mean_squared_error(*_pair(actual, forecast), squared=False))


def smape(actual, forecast) -> float:
    return 100.0 * float(tmf.symmetric_mean_absolute_percentage_error(*_pair(actual, forecast)))


def seasonal_scale(insample, season_length: int) -> float:
    """Mean absolute seasonal difference of the in-sample values (MASE's denominator).

    Falls back to m = 1 when the series is shorter than m + 1.
    """
    x = np.asarray(insample, dtype=np.float64)
    m = season_length if len(x) > season_length else 1
    if len(x) <= m:
        raise ValueError(f"MASE needs at least {m + 1} in-sample values, received {len(x)}")
    return float(np.mean(np.abs(x[m:] - x[:-m])))


def mase(actual, forecast, insample, season_length: int) -> float:
    scale = seasonal_scale(insample, season_length)
    err = mae(actual, forecast)
    return float("inf") if scale == 0 else err / scale


def quantile_loss(actual, quantile_forecasts: Mapping[float, np.ndarray]) -> float:
    """Mean pinball loss over the levels in `quantile_forecasts` ({q: forecast array})."""
    from sklearn.metrics import mean_pinball_loss

    y = np.asarray(actual, dtype=np.float64)
    losses = [mean_pinball_loss(y, np.asarray(f, dtype=np.float64), alpha=q)
              for q, f in quantile_forecasts.items()]
    if not losses:
        raise ValueError("quantile_forecasts is empty")
    return float(np.mean(losses))


def point_metrics(actual, forecast, insample, season_length: int) -> dict[str, float]:
    """MAE, RMSE, sMAPE and MASE in one dict."""
    return {
        "MAE": mae(actual, forecast),
        "RMSE": rmse(actual, forecast),
        "sMAPE": smape(actual, forecast),
        "MASE": mase(actual, forecast, insample, season_length),
    }
