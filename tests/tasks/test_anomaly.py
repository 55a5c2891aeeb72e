"""Anomaly detection: threshold, metrics by hand, both detectors, save/load, CSV checks, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import lstmkit
from lstmkit.tasks.anomaly import (
    AnomalyDetector,
    Detect,
    DetectConfig,
    DetectDataConfig,
    DetectModelConfig,
    estimate_period,
    intervals_frame,
    rolling_zscore,
    zscore_baseline,
)
from lstmkit.tasks.anomaly import metrics as am
from lstmkit.tasks.anomaly.data import read_series
from lstmkit.tasks.anomaly.threshold import dynamic_threshold, ewma, runs
from lstmkit.tasks.forecast.data import ForecastDataError

# seeded fits whose figures the assertions hold are run at one thread (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("one_thread")


def _sine(n: int, period: int = 20, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.sin(2 * np.pi * np.arange(n) / period) + rng.normal(0, 0.05, n)


# ----------------------------------------------------------------------------- threshold
def test_ewma_and_runs_by_hand():
    np.testing.assert_allclose(ewma(np.array([0.0, 1.0, 0.0]), 3), [0.0, 0.5, 0.25])
    np.testing.assert_allclose(ewma(np.array([2.0, 4.0]), 1), [2.0, 4.0])
    assert runs(np.array([1, 1, 0, 0, 1, 0, 1, 1, 1], dtype=bool)) == [(0, 1), (4, 4), (6, 8)]
    assert runs(np.zeros(4, dtype=bool)) == []
    with pytest.raises(ValueError, match="span must be >= 1"):
        ewma(np.zeros(3), 0)


def test_dynamic_threshold_flags_the_spike_and_prunes_small_bumps():
    rng = np.random.default_rng(1)
    errors = np.abs(rng.normal(0, 0.1, 1000))
    errors[500:505] = 3.0
    result = dynamic_threshold(errors)
    assert [(a, b) for a, b, _ in result.intervals] == [(500, 504)]
    assert result.flags.sum() == 5 and result.epsilon < 3.0
    assert result.intervals[0][2] > 0
    flat = dynamic_threshold(np.ones(50))
    assert not flat.flags.any() and flat.intervals == []


def test_pruning_drops_runs_close_to_the_nominal_level():
    errors = np.full(400, 0.1)
    errors[100:103] = 5.0            # clear anomaly
    errors[300] = 1.0                # a bump above the threshold ...
    errors[200] = 0.95               # ... less than 13% above the largest nominal error
    z = (0.97 - errors.mean()) / errors.std()          # threshold between 0.95 and 1.0
    result = dynamic_threshold(errors, z_range=np.array([z]), min_decrease=0.13)
    # chain of maxima 5.0, 1.0, then nominal 0.95: decreases 0.8 and 0.05 -> keep only the first
    assert [(a, b) for a, b, _ in result.intervals] == [(100, 102)]
    assert not result.flags[300] and result.flags[100:103].all()
    kept_all = dynamic_threshold(errors, z_range=np.array([z]), min_decrease=0.01)
    assert [(a, b) for a, b, _ in kept_all.intervals] == [(100, 102), (300, 300)]


# ----------------------------------------------------------------------------- metrics
def test_point_and_event_f1_by_hand():
    labels = [0, 1, 1, 0, 0, 1, 0]
    flags = [0, 1, 0, 0, 1, 0, 0]
    point = am.point_f1(labels, flags)
    assert point["precision"] == pytest.approx(0.5) and point["recall"] == pytest.approx(1 / 3)
    assert point["f1"] == pytest.approx(0.4)
    # true events (1..2), (5..5): first detected; flagged (1..1) correct, (4..4) false alarm
    event = am.event_f1(labels, flags)
    assert event["recall"] == pytest.approx(0.5) and event["precision"] == pytest.approx(0.5)
    assert event["f1"] == pytest.approx(0.5) and event["events"] == 2


def test_auc_metrics_by_hand():
    labels = [0, 0, 1, 1]
    assert am.roc_auc(labels, [0.1, 0.2, 0.8, 0.9]) == pytest.approx(1.0)
    assert am.roc_auc(labels, [0.1, 0.9, 0.8, 0.2]) == pytest.approx(0.5)
    # ranking 1, 0, 1, 0 -> precision at the positives 1 and 2/3 -> AP = (1 + 2/3) / 2
    assert am.pr_auc([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]) == pytest.approx((1 + 2 / 3) / 2)
    with pytest.raises(ValueError, match="both normal and anomalous"):
        am.roc_auc([0, 0], [0.1, 0.2])
    with pytest.raises(ValueError, match="labels must be 0 or 1"):
        am.point_f1([0, 2], [0, 1])


def test_rolling_zscore_by_hand_and_baseline_flags():
    x = np.array([1.0, 2.0, 3.0, 2.0, 10.0])
    z = rolling_zscore(x, window=3)
    # point 3: mean(1,2,3)=2, std=1 -> 0 ; point 4: mean(2,3,2)=7/3, std=0.577 -> 13.28
    assert z[0] == 0.0 and z[3] == pytest.approx(0.0)
    assert z[4] == pytest.approx((10 - 7 / 3) / np.std([2.0, 3.0, 2.0], ddof=1))
    base = zscore_baseline(x, window=3)
    assert base.flags.tolist() == [False, False, False, False, True]
    assert intervals_frame(base.intervals).start_index.tolist() == [4]


def test_estimate_period():
    assert estimate_period(_sine(600, 25)) in (24, 25, 26)
    assert estimate_period(np.random.default_rng(0).normal(size=300)) is None


# ----------------------------------------------------------------------------- detectors
@pytest.mark.parametrize("detector", ["prediction", "reconstruction"])
def test_detectors_flag_an_injected_fault_and_reload_identically(detector, tmp_path):
    train = _sine(600)
    test = _sine(600, seed=2)
    test[400:410] += 2.5
    config = DetectConfig(model=DetectModelConfig(detector=detector, window=20, hidden_size=16),
                          data=DetectDataConfig(max_train_windows=400))
    det = Detect(config, Detect.default_train(max_epochs=3, progress=False)).fit(train)
    net_lstms = [m for m in det.net.modules() if isinstance(m, lstmkit.LSTM)]
    assert net_lstms, "detectors must use lstmkit.LSTM"
    result = det.score(test)
    assert result.scores.shape == (600,) and result.flags.shape == (600,)
    assert 395 <= int(np.argmax(result.scores)) <= 430
    det.save(tmp_path / "det")
    again = AnomalyDetector.load(tmp_path / "det").score(test)  # the former name still works
    np.testing.assert_array_equal(result.scores, again.scores)
    np.testing.assert_array_equal(result.flags, again.flags)


def test_detector_input_errors():
    det = Detect(DetectConfig(model=DetectModelConfig(window=20)), Detect.default_train(max_epochs=1))
    with pytest.raises(ValueError, match="fewer than window \\+ 2 = 22"):
        det.fit(np.zeros(10))
    with pytest.raises(ValueError, match="NaN or infinite"):
        det.fit(np.array([1.0, np.nan] * 30))
    with pytest.raises(ValueError, match="before fit"):
        det.score(np.zeros(50))
    with pytest.raises(ValueError, match="'isolation-forest' is not one of prediction, reconstruction"):
        DetectModelConfig(detector="isolation-forest")


# ----------------------------------------------------------------------------- CSV input
def test_read_series_checks(tmp_path):
    good = pd.DataFrame({"y": [1.0, 2.0, np.nan, 4.0], "label": [0, 0, 0, 1]})
    with pytest.warns(UserWarning, match="1 missing value\\(s\\) in column 'y'"):
        series = read_series(good)
    np.testing.assert_allclose(series.values, [1, 2, 3, 4])
    assert series.labels.tolist() == [0, 0, 0, 1] and series.index.tolist() == [0, 1, 2, 3]
    with pytest.raises(ForecastDataError, match="column 'label' must hold 0 or 1, found 7"):
        read_series(good.assign(label=[0, 7, 0, 0]))
    with pytest.raises(ForecastDataError, match="missing column\\(s\\) \\['value'\\]"):
        read_series(good, value_col="value")
    with pytest.raises(ForecastDataError, match="expected one series, found 2"):
        read_series(good.assign(unique_id=["a", "a", "b", "b"]))
    with pytest.raises(ForecastDataError, match="non-numeric value 'oops'"):
        read_series(pd.DataFrame({"y": ["1", "oops", "3"]}))
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ForecastDataError, match="is empty"):
        read_series(tmp_path / "empty.csv")


# ----------------------------------------------------------------------------- CLI
def test_detect_cli_end_to_end(tmp_path, monkeypatch):
    from lstmkit.cli import main

    train = _sine(400)
    test = _sine(400, seed=3)
    test[300:306] += 3.0
    labels = np.zeros(400, dtype=int)
    labels[300:306] = 1
    pd.DataFrame({"y": train}).to_csv(tmp_path / "train.csv", index=False)
    pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=400, freq="h"), "y": test,
                  "label": labels}).to_csv(tmp_path / "test.csv", index=False)
    monkeypatch.chdir(tmp_path)
    assert main(["detect", "fit", "--data", "train.csv", "--out", "det", "--window", "20", "--epochs", "2",
                 "--no-progress"]) == 0
    # scoring runs as a user would: a separate process loading the saved model
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    score = subprocess.run([sys.executable, "-m", "lstmkit.cli", "detect", "score", "--model", "det",
                            "--data", "test.csv", "--out", "scored"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert score.returncode == 0, score.stderr
    assert "rolling_zscore" in score.stdout and "event_f1" in score.stdout
    assert sorted(p.name for p in (tmp_path / "scored").iterdir()) == [
        "intervals.csv", "metrics.json", "plot.png", "scores.csv"]
    table = pd.read_csv(tmp_path / "scored" / "scores.csv")
    assert list(table.columns) == ["ds", "y", "score", "flag", "label"] and len(table) == 400
    report = json.loads((tmp_path / "scored" / "metrics.json").read_text())
    assert set(report["metrics"]) == {"prediction", "rolling_zscore", "isolation_forest"}
    assert 0.0 <= report["metrics"]["prediction"]["roc_auc"] <= 1.0

    # evaluate: the same metrics, from the labelled table alone; without labels one line
    assert main(["detect", "evaluate", "--model", "det", "--data", "test.csv", "--out", "report"]) == 0
    evaluated = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert set(evaluated["metrics"]) == set(report["metrics"])
    for name, row in report["metrics"].items():
        assert evaluated["metrics"][name] == pytest.approx(row)
    pd.DataFrame({"y": test}).to_csv(tmp_path / "unlabelled.csv", index=False)
    assert main(["detect", "evaluate", "--model", "det", "--data", "unlabelled.csv"]) == 2


def test_detect_cli_refuses_labelled_training_data(tmp_path, capsys, monkeypatch):
    from lstmkit.cli import main

    monkeypatch.chdir(tmp_path)
    pd.DataFrame({"y": _sine(100), "label": [0] * 99 + [1]}).to_csv("train.csv", index=False)
    assert main(["detect", "fit", "--data", "train.csv", "--out", "det", "--no-progress"]) == 2
    assert "1 point(s) labelled anomalous" in capsys.readouterr().err
    assert not (tmp_path / "det").exists()


def test_plots_draw_on_given_axes_return_the_figure_and_keep_the_backend(tmp_path):
    import matplotlib
    from matplotlib.figure import Figure

    from lstmkit.tasks.anomaly.plots import plot_anomalies
    from lstmkit.tasks.forecast.plots import plot_forecasts

    backend = matplotlib.get_backend()
    fig = Figure()
    top, bottom = fig.subplots(2, 1)
    x = _sine(50)
    assert plot_anomalies(np.arange(50), x, np.abs(x), [(10, 12, 1.0)], ax=(top, bottom), threshold=0.5) is fig
    assert len(top.lines) >= 1 and len(bottom.lines) >= 2
    history = pd.DataFrame({"unique_id": "a", "ds": np.arange(20), "y": np.arange(20.0)})
    forecast = pd.DataFrame({"unique_id": "a", "ds": np.arange(20, 23), "y_hat": [20.0, 21, 22],
                             "y_q10": [19.0, 20, 21], "y_q90": [21.0, 22, 23]})
    other = Figure()
    ax = other.subplots()
    assert plot_forecasts(history, forecast, ax=ax) is other and len(ax.lines) == 2
    drawn = plot_forecasts(history, forecast, tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG" and drawn.axes
    assert matplotlib.get_backend() == backend


# ----------------------------------------------------------------------------- issue 11, item 6
def _beats(n: int, period: float, seed: int = 0) -> np.ndarray:
    """A quasi-periodic "ECG": a narrow spike per beat, beat length jittered by 5%, noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.3, n)
    t = 0.0
    while t < n:
        k = int(t)
        x[k:k + 8] += np.hanning(8)[: len(x[k:k + 8])] * 3.0
        t += period * rng.uniform(0.95, 1.05)
    return x


def test_period_of_a_quasi_periodic_signal_is_found_below_the_old_cut_off():
    from lstmkit.tasks.anomaly.api import PERIOD_ACF_CLEAR, estimate_period

    x = _beats(6000, 300.0)
    centred = x - x.mean()
    acf = np.correlate(centred, centred, "full")[len(x) - 1:] / (centred @ centred)
    # the beat's autocorrelation peak is below the old 0.3 cut-off (the old code returned None) ...
    assert acf[270:330].max() < PERIOD_ACF_CLEAR
    # ... yet the periodogram agrees, so the period is found
    period = estimate_period(x)
    assert period is not None and abs(period - 300) <= 30
    # white noise has no period
    assert estimate_period(np.random.default_rng(1).normal(size=3000)) is None


def test_isolation_forest_baseline_flags_a_shape_anomaly_and_joins_evaluate():
    from lstmkit.tasks.anomaly.baselines import isolation_forest_baseline, window_scores_to_points

    assert window_scores_to_points(np.array([1.0, 3.0]), 3, 2).tolist() == [1.0, 2.0, 3.0]
    t = np.arange(3000)
    x = np.sin(2 * np.pi * t / 50) + np.random.default_rng(0).normal(0, 0.05, len(t))
    x[2000:2050] = np.sign(x[2000:2050])             # one cycle turned into a square wave
    labels = np.zeros(len(t), dtype=int)
    labels[2000:2050] = 1
    result = isolation_forest_baseline(x, 50)
    from lstmkit.tasks.anomaly.metrics import roc_auc

    assert roc_auc(labels, result.scores) > 0.9
    assert any(a <= 2050 and b >= 2000 for a, b, _ in result.intervals)

    det = Detect(DetectConfig(model=DetectModelConfig(window=50, hidden_size=8)),
                 Detect.default_train(max_epochs=1, progress=False)).fit(x[:1500])
    scores = det.evaluate(pd.DataFrame({"ds": t, "y": x, "label": labels}))
    assert set(scores) == {"prediction", "rolling_zscore", "isolation_forest"}
    assert scores["isolation_forest"]["roc_auc"] > 0.9
