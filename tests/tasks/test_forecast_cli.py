"""``lstmkit forecast fit | predict | evaluate | backtest`` end to end in a subprocess, and its bad-input errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lstmkit.cli", *args], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("forecast_cli")
    ds = pd.date_range("2012-01-01", periods=48, freq="MS")
    t = np.arange(48)
    frames = [pd.DataFrame({"unique_id": uid, "ds": ds.strftime("%Y-%m-%d"),
                            "y": 100 + k * 30 + t + 8 * np.sin(2 * np.pi * t / 12)})
              for k, uid in enumerate(["north", "south"])]
    pd.concat(frames).to_csv(root / "sales.csv", index=False)
    (root / "opts.yaml").write_text("horizon: 6\nseason-length: 12\nepochs: 2\nlookback: 18\nprogress: false\n")
    return root


def test_fit_predict_evaluate_backtest_end_to_end(workdir, monkeypatch, capsys):
    from lstmkit.cli import main

    # training runs as a user would: the CLI in its own process, options from YAML
    fit = _cli("forecast", "fit", "--config", "opts.yaml", "--data", "sales.csv", "--out", "model", cwd=workdir)
    assert fit.returncode == 0, fit.stderr
    assert "forecast fit" in fit.stdout and "model" in fit.stdout
    assert (workdir / "model" / "model.safetensors").exists()

    monkeypatch.chdir(workdir)
    assert main(["forecast", "predict", "--model", "model", "--data", "sales.csv", "--out", "fc.csv",
                 "--plot", "fc.png"]) == 0
    out = pd.read_csv(workdir / "fc.csv")
    assert list(out.columns) == ["unique_id", "ds", "y_hat", "y_q10", "y_q50", "y_q90"]
    assert len(out) == 12 and out.ds.iloc[0] == "2016-01-01"
    assert (workdir / "fc.png").read_bytes()[:4] == b"\x89PNG"

    capsys.readouterr()
    # evaluate: each series' last horizon held out, the saved model beside the baselines, coverage shown
    assert main(["forecast", "evaluate", "--model", "model", "--data", "sales.csv", "--out", "ev",
                 "--baselines", "naive", "theta"]) == 0
    printed = capsys.readouterr().out
    header = next(line for line in printed.splitlines() if line.startswith("model"))
    assert header.split() == ["model", "MAE", "RMSE", "sMAPE", "MASE", "QL", "coverage", "width"]
    evaluated = json.loads((workdir / "ev" / "metrics.json").read_text())
    model = __import__("lstmkit.tasks.forecast", fromlist=["Forecast"]).Forecast.load(workdir / "model")
    expected = model.evaluate(str(workdir / "sales.csv"), baselines=("naive", "theta"))
    assert list(evaluated["report"]) == ["lstm", "naive", "theta"] and evaluated["horizon"] == 6
    for name, row in expected.items():
        assert evaluated["report"][name] == pytest.approx(row)
    assert 0.0 <= evaluated["report"]["lstm"]["coverage"] <= 1.0

    assert main(["forecast", "backtest", "--config", "opts.yaml", "--data", "sales.csv", "--out", "bt",
                 "--cutoffs", "2", "--baselines", "naive", "seasonal_naive"]) == 0
    printed = capsys.readouterr().out
    assert "MASE" in printed and "seasonal_naive" in printed
    header = next(line for line in printed.splitlines() if line.startswith("model"))
    assert "coverage" in header.split() and "width" in header.split()   # every report carries coverage
    report = json.loads((workdir / "bt" / "metrics.json").read_text())
    assert [row["model"] for row in report["summary"]] == ["lstm", "naive", "seasonal_naive"]
    assert sorted(p.name for p in (workdir / "bt").iterdir()) == [
        "forecast.png", "forecasts.csv", "metrics.json", "scores.csv", "summary.csv"]


def test_bad_input_is_one_line_and_writes_nothing(workdir, capsys, monkeypatch):
    from lstmkit.cli import main

    monkeypatch.chdir(workdir)
    bad = pd.read_csv(workdir / "sales.csv")
    bad.loc[7, "ds"] = bad.loc[6, "ds"]
    bad.to_csv(workdir / "dup.csv", index=False)
    code = main(["forecast", "fit", "--data", "dup.csv", "--horizon", "6", "--season-length", "12",
                 "--epochs", "1", "--out", "never", "--no-progress"])
    assert code == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "lstmkit: error: training data (file 'dup.csv'): series 'north': duplicate timestamp 2012-07-01 00:00:00 (1 duplicate row(s))"]
    assert not (workdir / "never").exists()

    (workdir / "empty.csv").write_text("")
    code = main(["forecast", "backtest", "--data", "empty.csv", "--horizon", "6", "--out", "bt_never"])
    assert code == 2 and "is empty" in capsys.readouterr().err
    assert not (workdir / "bt_never").exists()

    code = main(["forecast", "predict", "--model", "no_such_model", "--data", "sales.csv", "--out", "x.csv"])
    assert code == 2 and len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not (workdir / "x.csv").exists()
