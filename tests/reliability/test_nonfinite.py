"""Issue 10 §4 (data side): non-finite or overflowing cells are refused naming file, series and row;
the anomaly threshold is always finite; a saved detector's statistics are checked on load."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import untrained

from lstmkit.tasks.anomaly import Detect
from lstmkit.tasks.anomaly.data import read_series
from lstmkit.tasks.anomaly.threshold import dynamic_threshold
from lstmkit.tasks.forecast import ForecastDataError, prepare_panel
from lstmkit.tasks.forecast.config import DataConfig
from lstmkit.testing import run_cli_in_process
from lstmkit.train import ModelLoadError

BAD = ["inf", "-inf", "1e306", "-3e38", "1e400"]


def _csv(path, cells, column="y", ids=("a", "a", "a", "b", "b", "b")):
    frame = pd.DataFrame({"unique_id": list(ids), "ds": [0, 1, 2, 0, 1, 2], "y": ["1", "2", "3", "4", "5", "6"],
                          "c": ["1", "1", "1", "1", "1", "1"]})
    for row, value in cells:
        frame.loc[row, column] = value
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("value", BAD)
@pytest.mark.parametrize("column", ["y", "c"])
def test_forecast_cells_refused_with_file_series_and_row(tmp_path, value, column):
    path = _csv(tmp_path / "t.csv", [(4, value)], column)
    with pytest.raises(ForecastDataError) as info:
        prepare_panel(path, DataConfig(past_covariates=("c",)))
    message = str(info.value)
    assert "t.csv" in message and "series 'b', row 5" in message and f"column {column!r}" in message


def test_future_covariate_cells_refused(tmp_path):
    path = _csv(tmp_path / "f.csv", [(1, "inf")], "c")
    with pytest.raises(ForecastDataError, match=r"series 'a', row 2: column 'c' value inf is not finite"):
        prepare_panel(path, DataConfig(future_covariates=("c",)), require_target=False)


def test_largest_accepted_value_and_nan_still_pass(tmp_path):
    """1e30 is the bound (inclusive); NaN is a missing value, interpolated with a warning."""
    path = _csv(tmp_path / "ok.csv", [(0, "1e30"), (1, "-1e30"), (4, "nan")])
    with pytest.warns(UserWarning, match="filled by linear interpolation"):
        panel = prepare_panel(path)
    assert panel.y[0].tolist() == [1e30, -1e30, 3.0] and panel.y[1].tolist() == [4.0, 5.0, 6.0]


def test_forecast_fit_cli_refuses_near_overflow_and_saves_nothing(tmp_path, capsys, monkeypatch):
    pd.DataFrame({"ds": np.arange(30), "y": [1.0] * 29 + [1e306]}).to_csv(tmp_path / "s.csv", index=False)
    result = run_cli_in_process("forecast", "fit", "--data", "s.csv", "--horizon", "2", "--epochs", "1",
                                "--no-progress", "--out", "m", cwd=tmp_path, capsys=capsys, monkeypatch=monkeypatch)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "lstmkit: error: training data (file 's.csv'): series 'series_0', row 30: column 'y' value 1e+306 "
        "is too large (values must be finite with magnitude <= 1e+30; 1 such cell(s) in this series)")
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("value", ["1e307", "inf"])
def test_anomaly_reader_refuses_overflowing_values(tmp_path, value):
    frame = pd.DataFrame({"y": [1.0] * 20})
    frame["y"] = frame["y"].astype(object)
    frame.loc[7, "y"] = value
    frame.to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(ForecastDataError, match=r"d\.csv.*series 'series_0', row 8: column 'y'"):
        read_series(tmp_path / "d.csv")


def test_anomaly_api_refuses_overflowing_arrays():
    values = np.ones(50)
    values[3] = 1e307
    with pytest.raises(ValueError, match=r"row 4, channel 0: 1e\+307 is too large"):
        Detect().fit(values)


@pytest.mark.parametrize("errors", [np.full(30, 0.5), np.zeros(30), np.linspace(0, 1, 30),
                                    np.r_[np.zeros(29), 1e29]])
def test_threshold_is_always_finite(errors):
    """std 0 (constant errors), no candidate above mu + 2 sigma, or one huge error: never Infinity."""
    result = dynamic_threshold(errors)
    assert np.isfinite(result.epsilon)
    assert (result.flags == (errors >= result.epsilon)).all() or result.intervals  # pruning may unflag
    json.dumps(result.epsilon, allow_nan=False)


def test_threshold_of_constant_errors_flags_nothing():
    result = dynamic_threshold(np.full(10, 2.0))
    assert result.epsilon > 2.0 and not result.flags.any() and result.intervals == []


def test_threshold_refuses_non_finite_errors():
    with pytest.raises(ValueError, match="not finite"):
        dynamic_threshold(np.array([0.0, np.inf, 1.0]))


def _saved_detector(path, **extras):
    return untrained.detector(path, **extras)


@pytest.mark.parametrize("extras,pattern", [
    ({"std": [0.0]}, r"extras 'std' must be > 0 \(it divides\), found \[0.0\]"),
    ({"err_sigma": [-1.0]}, r"extras 'err_sigma' must be > 0"),
    ({"mean": [None]}, r"extras 'mean' must hold finite numbers"),
    ({"std": [1.0, 2.0]}, r"extras 'std' must be a list of one number per channel"),
    ({"window": 1}, r"extras 'window' must be >= 2"),
])
def test_saved_detector_statistics_checked_on_load(tmp_path, extras, pattern):
    path = _saved_detector(tmp_path / "m", **extras)
    with pytest.raises(ModelLoadError, match=pattern):
        Detect.load(path)


def test_detect_score_with_std_zero_is_one_line(tmp_path, capsys, monkeypatch):
    _saved_detector(tmp_path / "m", std=[0])
    pd.DataFrame({"y": np.sin(np.arange(40.0))}).to_csv(tmp_path / "d.csv", index=False)
    result = run_cli_in_process("detect", "score", "--model", "m", "--data", "d.csv", "--out", "o",
                                cwd=tmp_path, capsys=capsys, monkeypatch=monkeypatch)
    assert result.returncode == 2
    assert result.stderr.strip() == "lstmkit: error: 'm': extras 'std' must be > 0 (it divides), found [0.0]", (
        result.stderr)
    assert not (tmp_path / "o").exists()


def test_detect_score_writes_a_finite_threshold_for_a_flat_series(tmp_path, capsys, monkeypatch):
    """A constant series gives constant errors (sigma 0): the threshold in metrics.json is a number."""
    _saved_detector(tmp_path / "m")
    pd.DataFrame({"y": np.full(40, 3.0)}).to_csv(tmp_path / "d.csv", index=False)
    result = run_cli_in_process("detect", "score", "--model", "m", "--data", "d.csv", "--out", "o",
                                cwd=tmp_path, capsys=capsys, monkeypatch=monkeypatch)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text(),
                         parse_constant=lambda c: pytest.fail(f"{c} in metrics.json"))
    assert np.isfinite(metrics["threshold"]) and metrics["flagged_intervals"] == 0
