"""``lstmkit detect fit | score``: argument parsing for `lstmkit.tasks.anomaly`.

    lstmkit detect fit --data normal.csv --detector prediction --out model/
    lstmkit detect score --model model/ --data test.csv --out scored/

CSV columns: the value (``y``), optionally ``ds`` (else the row number is the time) and a
0/1 ``label`` column (then ``score`` also reports ROC-AUC, PR-AUC, point and event F1
beside the rolling z-score baseline).  ``score`` writes ``scores.csv`` (one row per point:
time, value, score, flag [, label]), ``intervals.csv`` (flagged intervals), ``plot.png``
and ``metrics.json``, all or nothing.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from lstmkit.commands._common import add_parser, print_summary


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("detect", help="LSTM time-series anomaly detection: fit, score",
                                   description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="detect_command", metavar="SUBCOMMAND", required=True)

    fit = add_parser(sub, "fit", help="train a detector on normal data and save it", func=run_fit)
    fit.add_argument("--data", required=True, help="CSV of normal (anomaly-free) data")
    fit.add_argument("--out", required=True, help="directory to save the model in")
    fit.add_argument("--detector", choices=["prediction", "reconstruction"], default="prediction",
                     help="prediction error + dynamic threshold (Hundman 2018) or "
                          "encoder-decoder reconstruction (Malhotra 2016)")
    fit.add_argument("--window", type=int, default=None,
                     help="lookback / window length (default: the series' dominant period)")
    fit.add_argument("--stride", type=int, default=None, help="step between training windows")
    fit.add_argument("--hidden-size", type=int, default=32, help="LSTM hidden size")
    fit.add_argument("--num-layers", type=int, default=1, help="LSTM layers")
    fit.add_argument("--epochs", type=int, default=10, help="training epochs")
    fit.add_argument("--batch-size", type=int, default=64, help="windows per batch")
    fit.add_argument("--lr", type=float, default=3e-3, help="peak learning rate")
    fit.add_argument("--smoothing", type=int, default=8, help="EWMA span of the errors")
    fit.add_argument("--min-decrease", type=float, default=0.13, help="pruning parameter p")
    fit.add_argument("--seed", type=int, default=0, help="random seed")
    fit.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                     help="show a progress bar")
    _add_columns(fit)

    score = add_parser(sub, "score", help="score a series with a saved detector", func=run_score)
    score.add_argument("--model", required=True, help="a directory written by 'detect fit'")
    score.add_argument("--data", required=True, help="CSV to score")
    score.add_argument("--out", required=True,
                       help="directory for scores.csv, intervals.csv, plot.png, metrics.json")
    score.add_argument("--zscore-window", type=int, default=100, help="window of the z-score baseline")
    _add_columns(score)


def _add_columns(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("columns")
    group.add_argument("--value-col", default="y", help="value column")
    group.add_argument("--time-col", default="ds", help="time column (absent: row number)")
    group.add_argument("--label-col", default="label", help="0/1 label column (optional)")


def run_fit(args: argparse.Namespace) -> int:
    from lstmkit.tasks.anomaly import AnomalyDetector, DetectorConfig
    from lstmkit.tasks.anomaly.data import read_series
    from lstmkit.train.model_dir import check_outputs

    check_outputs(args.out)  # before any training: refuse unusable outputs
    config = DetectorConfig(
        detector=args.detector, window=args.window, stride=args.stride, hidden_size=args.hidden_size,
        num_layers=args.num_layers, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        seed=args.seed, smoothing=args.smoothing, min_decrease=args.min_decrease, progress=args.progress,
    )
    series = read_series(args.data, value_col=args.value_col, time_col=args.time_col,
                         label_col=args.label_col, min_length=3, what="training data")
    if series.labels is not None and series.labels.any():
        raise ValueError(f"training data: series {series.name!r} has {int(series.labels.sum())} point(s) "
                         "labelled anomalous; fit on normal data only")
    started = time.perf_counter()
    detector = AnomalyDetector(config).fit(series.values)
    seconds = time.perf_counter() - started
    detector.save(args.out)
    print_summary("detect fit", {args.detector: {"points": len(series.values), "window": detector.window,
                                                 "fit_seconds": round(seconds, 2)}},
                  files={"model": args.out})
    return 0


def run_score(args: argparse.Namespace) -> int:
    import pandas as pd

    from lstmkit.io import dumps_json
    from lstmkit.tasks.anomaly import AnomalyDetector, intervals_frame, zscore_baseline
    from lstmkit.tasks.anomaly.data import read_series
    from lstmkit.tasks.anomaly.metrics import all_metrics
    from lstmkit.tasks.anomaly.plots import plot_anomalies
    from lstmkit.tasks.forecast.io import atomic_dir, write_csv_atomic

    detector = AnomalyDetector.load(args.model)
    series = read_series(args.data, value_col=args.value_col, time_col=args.time_col,
                         label_col=args.label_col, min_length=detector.window + 1, what="data to score")
    result = detector.score(series.values)
    table = pd.DataFrame({args.time_col: series.index, args.value_col: series.values,
                          "score": result.scores, "flag": result.flags.astype(int)})
    metrics: dict[str, dict[str, float]] = {}
    if series.labels is not None:
        table[args.label_col] = series.labels
        if 0 < series.labels.sum() < len(series.labels):
            base = zscore_baseline(series.values, args.zscore_window)
            metrics[detector.config.detector] = all_metrics(series.labels, result.scores, result.flags)
            metrics["rolling_zscore"] = all_metrics(series.labels, base.scores, base.flags)
    out = Path(args.out)
    with atomic_dir(out) as tmp:
        write_csv_atomic(table, tmp / "scores.csv")
        write_csv_atomic(intervals_frame(result.intervals, series.index), tmp / "intervals.csv")
        plot_anomalies(series.index, series.values, result.scores, result.intervals, tmp / "plot.png",
                       threshold=result.threshold, labels=series.labels,
                       title=f"{series.name}: {detector.config.detector} detector")
        (tmp / "metrics.json").write_text(dumps_json(
            {"detector": detector.config.detector, "threshold": result.threshold,
             "flagged_intervals": len(result.intervals), "metrics": metrics}, indent=2))
    shown = {name: {k: row[k] for k in ("roc_auc", "pr_auc", "point_f1", "event_f1")}
             for name, row in metrics.items()} or {
        detector.config.detector: {"points": len(series.values), "flagged_intervals": len(result.intervals)}}
    print_summary("detect score", shown,
                  files={k: out / k for k in ("scores.csv", "intervals.csv", "plot.png", "metrics.json")})
    return 0
