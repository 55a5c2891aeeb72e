"""Forecasting with a global LSTM: long-format data in, quantile forecasts out.

Public API: `Forecaster`, the configs (`ForecastConfig`, `ModelConfig`, `DataConfig`),
`backtest` (the function; its module is ``backtesting``), the metrics and baselines modules, `plot_forecasts` and `run_demo`
(the AirPassengers demo behind ``lstmkit demo``).
"""

from lstmkit._extras import require

require("train", feature="lstmkit.tasks.forecast")  # one line naming the extra, not a deep ImportError

from lstmkit.tasks.forecast.api import Forecaster, default_config, quantile_column
from lstmkit.tasks.forecast.backtesting import backtest, format_summary
from lstmkit.tasks.forecast.config import DataConfig, ForecastConfig, ModelConfig
from lstmkit.tasks.forecast.data import ForecastDataError, prepare_panel, read_table
from lstmkit.tasks.forecast.demo import run_demo

__all__ = [
    "DataConfig",
    "backtest",
    "format_summary",
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
