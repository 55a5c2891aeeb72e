"""Series of any length (issue 11, item 1): padding, adaptive lookback, skip or refuse."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from lstmkit.tasks.forecast import DataConfig, Forecast, ForecastConfig, ModelConfig
from lstmkit.tasks.forecast.config import adaptive_lookback, nominal_lookback
from lstmkit.tasks.forecast.data import ForecastDataError

TRAIN = Forecast.default_train(max_epochs=2, progress=False)


def _ragged(lengths, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for i, n in enumerate(lengths):
        t = np.arange(n)
        parts.append(pd.DataFrame({"unique_id": f"s{i}", "ds": t,
                                   "y": 20 + 3 * np.sin(t / 2) + rng.normal(0, 0.3, n)}))
    return pd.concat(parts, ignore_index=True)


def _task(**data) -> Forecast:
    return Forecast(ForecastConfig(model=ModelConfig(horizon=4, hidden_size=8, head_hidden=8),
                                   data=DataConfig(**data)), TRAIN)


def test_panel_of_5_to_60_points_trains_and_forecasts_every_series():
    lengths = list(range(5, 61, 5))                      # 12 series, 5 .. 60 points
    data = _ragged(lengths)
    task = _task().fit(data)
    # the nominal lookback 3H = 12 fits the median series (30 points): kept; 5-point series padded
    assert task.config.model.lookback == 12
    # every series contributed windows, the shortest too (old code: lookback + horizon = 16 refused it)
    out = task.predict(data)
    assert sorted(out["unique_id"].unique()) == sorted(f"s{i}" for i in range(len(lengths)))
    assert len(out) == 4 * len(lengths) and np.isfinite(out["y_hat"]).all()
    assert (out["y_q10"] <= out["y_q90"]).all()


def test_series_too_short_to_forecast_are_skipped_with_one_warning_or_refused():
    data = pd.concat([_ragged([20, 30]), _ragged([1, 1, 1, 1, 1, 1, 1], seed=1).assign(
        unique_id=lambda f: "tiny" + f["unique_id"])], ignore_index=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        task = _task().fit(data)
    notes = [str(w.message) for w in caught if "too short" in str(w.message)]
    assert len(notes) == 1
    assert "7 of 9 series have fewer than 2 step(s)" in notes[0] and "'tinys0'" in notes[0]
    assert notes[0].count("'tiny") == 5 and "..." in notes[0]       # names a few, not all
    assert task.train_windows > 0
    with pytest.raises(ForecastDataError, match="7 of 9 series .*strict: refused"):
        _task(strict=True).fit(data)


def test_a_two_point_series_is_forecast():
    data = pd.concat([_ragged([40, 40]), _ragged([2], seed=2).assign(unique_id="two")], ignore_index=True)
    out = _task().fit(data).predict(data)
    two = out[out["unique_id"] == "two"]
    assert len(two) == 4 and np.isfinite(two["y_hat"]).all()


def test_default_lookback_rule_matches_the_docs_and_help():
    # nominal: max(2H, 3m) with a season, 3H without one
    assert nominal_lookback(6, 12) == 36 and nominal_lookback(12, 4) == 24 and nominal_lookback(6, 1) == 18
    # adapted: shortened to median length - H, never below 2
    assert adaptive_lookback(6, 1, [9] * 100 + [52] * 81) == 3
    assert adaptive_lookback(6, 1, [400, 500, 600]) == 18
    assert adaptive_lookback(6, 1, [3, 4]) == 2
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "forecasting.md").read_text()
    assert "max(2H, 3m)" in docs and "3H without a season" in docs and "median" in docs
    help_text = ModelConfig.__dataclass_fields__["lookback"].metadata
    assert "max(2H, 3m)" in str(help_text) and "median" in str(help_text)
