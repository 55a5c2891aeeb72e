"""Forecasting with a global LSTM: long-format data in, quantile forecasts out.

Public API: `Forecast` (formerly `Forecaster`), the configs (`ForecastConfig`, `ModelConfig`, `DataConfig`),
`backtest`, the metrics and baselines modules, `plot_forecasts` and `run_demo`
(the AirPassengers demo behind ``lstmkit demo``).
"""

from lstmkit.tasks.forecast.api import Forecast, Forecaster, default_config, quantile_column
from lstmkit.tasks.forecast.config import DataConfig, ForecastConfig, ModelConfig
from lstmkit.tasks.forecast.data import ForecastDataError, prepare_panel, read_table
from lstmkit.tasks.forecast.demo import run_demo

__all__ = [
    "DataConfig",
    "Forecast",
    "ForecastConfig",
    "ForecastDataError",
    "Forecaster",
    "ModelConfig",
    "default_config",
    "prepare_panel",
    "quantile_column",
    "read_table",
    "run_demo",
]
