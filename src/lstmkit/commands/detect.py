"""``lstmkit detect fit | score | evaluate``: argument parsing for `lstmkit.tasks.anomaly`.

    lstmkit detect fit --data normal.csv --detector prediction --out model/
    lstmkit detect score --model model/ --data test.csv --out scored/
    lstmkit detect evaluate --model model/ --data labelled.csv --out report/

CSV columns: the value (``y``), optionally ``ds`` (else the row number is the time) and a
0/1 ``label`` column (then ``score`` also reports ROC-AUC, PR-AUC, point and event F1
beside the rolling z-score baseline).  ``score`` writes ``scores.csv`` (one row per point:
time, value, score, flag [, label]), ``intervals.csv`` (flagged intervals), ``plot.png``
and ``metrics.json``, all or nothing.  ``evaluate`` needs the label column: it prints
the detector's metrics beside both baselines (rolling z-score, isolation forest) and,
with ``--out``, writes ``metrics.json``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from lstmkit.commands._common import print_summary, write_metrics
from lstmkit.commands._options import command


def register(subparsers: Any) -> None:
    from lstmkit.tasks.anomaly.config import TRAIN_DEFAULTS, DetectConfig

    parser = subparsers.add_parser("detect", help="LSTM time-series anomaly detection: fit, score, evaluate",
                                   description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="detect_command", metavar="SUBCOMMAND", required=True)

    fit = command(sub, "fit", help="train a detector on normal data and save it", func=run_fit,
                  config=DetectConfig, train_defaults=TRAIN_DEFAULTS)
    fit.option("--data", required=True, help="CSV of normal (anomaly-free) data")
    fit.option("--out", required=True, help="directory to save the model in")
    fit.option("--val-data", help="more normal data: validation loss per epoch, best epoch kept")

    score = command(sub, "score", help="score a series with a saved detector", func=run_score)
    score.option("--model", required=True, help="a directory written by 'detect fit'")
    score.option("--data", required=True, help="CSV to score")
    score.option("--out", required=True, help="directory for scores.csv, intervals.csv, plot.png, metrics.json")
    score.option("--zscore-window", type=int, default=100, help="window of the rolling z-score baseline")
    score.option("--value-col", help="value column (none: the one the model was trained with)")
    score.option("--time-col", help="time column (none: the one the model was trained with)")
    score.option("--label-col", help="0/1 label column (none: the one the model was trained with)")

    ev = command(sub, "evaluate", help="metrics of a saved detector beside the baselines on labelled data",
                 func=run_evaluate)
    ev.option("--model", required=True, help="a directory written by 'detect fit'")
    ev.option("--data", required=True, help="CSV with the value and a 0/1 label column")
    ev.option("--out", help="directory for metrics.json")
    ev.option("--zscore-window", type=int, default=100, help="window of the rolling z-score baseline")
    for option in ("value", "time", "label"):
        ev.option(f"--{option}-col", help=f"{option} column (none: the one the model was trained with)")


def run_fit(args: argparse.Namespace) -> int:
    from lstmkit.tasks.anomaly import Detect
    from lstmkit.train.model_dir import check_outputs

    check_outputs(args.out)  # before any training: refuse unusable outputs
    task = Detect(args.config_obj, args.train_config).fit(args.data, val=args.val_data)
    task.save(args.out)
    print_summary("detect fit", {task.config.model.detector: {
        "window": task.window, "fit_seconds": round(task.fit_seconds, 2)}},
        files={"model": args.out}, notes=task.fit_summary())
    return 0


def _load(args: argparse.Namespace) -> Any:
    """The saved detector, with the column names given on the command line."""
    import dataclasses

    from lstmkit.tasks.anomaly import Detect

    detector = Detect.load(args.model)
    columns = {k: getattr(args, k) for k in ("value_col", "time_col", "label_col") if getattr(args, k)}
    if columns:
        detector.config = dataclasses.replace(
            detector.config, data=dataclasses.replace(detector.config.data, **columns))
    return detector


SHOWN = ("roc_auc", "pr_auc", "point_f1", "event_f1")


def run_evaluate(args: argparse.Namespace) -> int:
    detector = _load(args)
    metrics = detector.evaluate(args.data, zscore_window=args.zscore_window)
    files = write_metrics(args.out, {"data": str(args.data), "model": str(args.model),
                                     "detector": detector.config.detector, "metrics": metrics})
    print_summary("detect evaluate", {name: {k: row[k] for k in SHOWN} for name, row in metrics.items()},
                  files=files)
    return 0


def run_score(args: argparse.Namespace) -> int:
    from lstmkit.io import atomic_write_json
    from lstmkit.tasks.anomaly import intervals_frame
    from lstmkit.tasks.anomaly.plots import plot_anomalies
    from lstmkit.tasks.forecast.io import atomic_dir, write_csv_atomic

    detector = _load(args)
    dc = detector.config.data
    table = detector.predict(args.data)
    values = table[dc.value_col].to_numpy()
    labels = table[dc.label_col].to_numpy() if dc.label_col in table else None
    result = detector.score(values)
    metrics: dict[str, dict[str, float]] = {}
    if labels is not None and 0 < labels.sum() < len(labels):
        metrics = detector.evaluate(args.data, zscore_window=args.zscore_window)
    name = os.path.splitext(os.path.basename(str(args.data)))[0]
    out = Path(args.out)
    with atomic_dir(out) as tmp:
        write_csv_atomic(table, tmp / "scores.csv")
        write_csv_atomic(intervals_frame(result.intervals, table[dc.time_col].to_numpy()),
                         tmp / "intervals.csv")
        plot_anomalies(table[dc.time_col].to_numpy(), values, result.scores, result.intervals,
                       tmp / "plot.png", threshold=result.threshold, labels=labels,
                       title=f"{name}: {detector.config.detector} detector")
        atomic_write_json(tmp / "metrics.json",
                          {"detector": detector.config.detector, "threshold": result.threshold,
                           "flagged_intervals": len(result.intervals), "metrics": metrics})
    shown = {name: {k: row[k] for k in SHOWN} for name, row in metrics.items()} or {
        detector.config.detector: {"points": len(values), "flagged_intervals": len(result.intervals)}}
    print_summary("detect score", shown,
                  files={k: out / k for k in ("scores.csv", "intervals.csv", "plot.png", "metrics.json")})
    return 0
