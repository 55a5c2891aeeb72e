"""``lstmkit seqclass fit | predict | evaluate`` on tiny long CSVs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from lstmkit.cli import main


def _long_csv(path, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        length = int(rng.integers(6, 12))
        sign = 1.0 if i % 2 else -1.0
        for t in range(length):
            rows.append({"series_id": f"s{i}", "t": t, "a": sign * t / length + rng.normal(0, 0.1),
                         "b": rng.normal(), "label": "up" if sign > 0 else "down"})
    pd.DataFrame(rows).to_csv(path, index=False)


FAST = ["--hidden-size", "6", "--epochs", "2", "--no-progress", "--warmup-steps", "0", "--batch-size", "8"]


def test_fit_predict_evaluate(tmp_path, capsys):
    _long_csv(tmp_path / "train.csv", 16, 0)
    _long_csv(tmp_path / "test.csv", 8, 1)
    model = tmp_path / "model"
    assert main(["seqclass", "fit", "--data", str(tmp_path / "train.csv"), "--out", str(model),
                 "--model", "lstm", "--no-bidirectional", "--pooling", "attention", "--normalize", "series",
                 *FAST]) == 0
    assert (model / "config.json").is_file() and (model / "run.yaml").is_file()
    assert "normalize: series" in (model / "run.yaml").read_text()
    assert "seqclass fit" in capsys.readouterr().out

    out = tmp_path / "pred.csv"
    assert main(["seqclass", "predict", "--model", str(model), "--data", str(tmp_path / "test.csv"),
                 "--out", str(out)]) == 0
    pred = pd.read_csv(out)
    assert len(pred) == 8 and {"series_id", "prediction", "p_down", "p_up", "label"} <= set(pred.columns)

    report = tmp_path / "report"
    assert main(["seqclass", "evaluate", "--model", str(model), "--data", str(tmp_path / "test.csv"),
                 "--baselines", "summary_lr", "dtw", "--out", str(report)]) == 0
    text = capsys.readouterr().out
    assert "lstm" in text and "summary_lr" in text and "dtw" in text
    metrics = json.loads((report / "metrics.json").read_text())
    assert list(metrics["report"]) == ["lstm", "summary_lr", "dtw"]
    assert (report / "early.png").is_file() and len(pd.read_csv(report / "early.csv")) == 10


def test_print_config_and_one_line_errors(tmp_path, capsys):
    assert main(["seqclass", "fit", "--data", "x.csv", "--out", "m", "--model", "lstm_fcn",
                 "--print-config"]) == 0
    assert "model: lstm_fcn" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"series_id": [0, 0], "t": [0, 1], "a": [1.0, float("inf")], "label": ["x", "x"]}).to_csv(bad, index=False)
    assert main(["seqclass", "fit", "--data", str(bad), "--out", str(tmp_path / "m"), *FAST]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("lstmkit: error:") and "infinite" in err and "\n" not in err
    assert main(["seqclass", "fit", "--data", str(tmp_path / "nope.ts"), "--out", "m"]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["seqclass", "fit", "--data", "x.csv", "--out", "m", "--pooling", "max"]) == 2
    assert "model.pooling: 'max' is not one of last, mean, attention" in capsys.readouterr().err
