"""Forecasting with a global LSTM: long-format data in, quantile forecasts out.

Public API: `Forecast` (formerly `Forecaster`), the configs (`ForecastConfig`,
`ModelConfig`, `DataConfig`), `backtest` (the function; its module is
``backtesting``), the metrics and baselines modules,
`plot_forecasts` and `run_demo` (the AirPassengers demo behind ``lstmkit demo``).

Names are imported on first use, so reading the configs (what the command line
needs to build its parsers) does not load torch's trainer.
"""

from __future__ import annotations

from lstmkit.tasks._lazy import lazy_exports

_EXPORTS = {
    "Forecast": "api", "Forecaster": "api", "default_config": "api", "quantile_column": "api",
    "DataConfig": "config", "ForecastConfig": "config", "ModelConfig": "config",
    "TRAIN_DEFAULTS": "config",
    "ForecastDataError": "data", "prepare_panel": "data", "read_table": "data",
    "run_demo": "demo",
    "backtest": "backtesting", "format_summary": "backtesting",  # the function, not a module
}
__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
