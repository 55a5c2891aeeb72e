"""``lstmkit classify fit | predict | evaluate``: the command line of :class:`lstmkit.tasks.classify.Classify`.

    lstmkit classify fit --data train.csv --text-col text --label-col label --out model/
    lstmkit classify predict --model model/ --data new.csv --out predictions.csv
    lstmkit classify evaluate --model model/ --data test.csv --train-data train.csv

CSV or TSV (by suffix, or ``--delimiter``). ``fit`` reports the LSTM beside the
majority-class and TF-IDF + logistic-regression (ridge for ``--task
regression``) baselines on the validation rows (``--val-data``, else
``--val-fraction`` of the training rows held out). Every field of the model,
data and train sections is a flag and a key of ``--config FILE.yaml``;
``--print-config`` shows the effective run.
"""

from __future__ import annotations

import argparse
from typing import Any

from lstmkit.commands._common import print_summary
from lstmkit.commands._options import command

# old spelling -> new flag, for one release
ALIASES = {"--embed-dim": "--embed-size", "--hidden": "--hidden-size"}
BASELINE_ALIASES = {"--baseline": "--baselines", "--no-baseline": "--baselines"}


def register(subparsers: Any) -> None:
    from lstmkit.tasks.classify.config import TRAIN_DEFAULTS, ClassifyConfig

    parser = subparsers.add_parser("classify", help="LSTM text classification / sentiment: fit, predict, evaluate",
                                   description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="classify_command", metavar="SUBCOMMAND", required=True)

    fit = command(sub, "fit", help="train a classifier on a CSV/TSV and save it", func=run_fit,
                  config=ClassifyConfig, train_defaults=TRAIN_DEFAULTS)
    fit.option("--data", required=True, help="training table with a text and a label column")
    fit.option("--out", required=True, help="directory to save the model in")
    fit.option("--val-data", help="validation table (none: --val-fraction of --data held out)")
    fit.option("--baselines", type=bool, default=True, help="report the majority and TF-IDF baselines too")
    fit.option("--metrics-out", help="JSON file for the metrics")
    fit.aliases(ALIASES).aliases(BASELINE_ALIASES)

    pred = command(sub, "predict", help="predict labels with probabilities (or scores)", func=run_predict,
                   description="predict labels with probabilities (or scores); the table options left out "
                               "keep the model's")
    pred.option("--model", required=True, help="a directory written by 'classify fit'")
    pred.option("--data", required=True, help="table with a text column")
    pred.option("--out", required=True, help="CSV to write: the input columns, prediction, p_<class>")
    pred.option("--attention", type=bool, default=False,
                help="add the tokens and attention weights (attention pooling only) as JSON columns")
    _table_options(pred, labels=False)

    ev = command(sub, "evaluate", help="metrics of a saved model on a labelled table", func=run_evaluate,
                 description="metrics of a saved model on a labelled table; the table options left out "
                             "keep the model's")
    ev.option("--model", required=True, help="a directory written by 'classify fit'")
    ev.option("--data", required=True, help="labelled table")
    ev.option("--train-data", help="training table: fits the TF-IDF baseline for the report")
    ev.option("--baselines", type=bool, default=True, help="report the majority (and TF-IDF) baselines too")
    ev.option("--metrics-out", help="JSON file for the metrics")
    _table_options(ev, labels=True)
    ev.aliases(BASELINE_ALIASES)


def _table_options(cmd: Any, labels: bool) -> None:
    cmd.option("--text-col", help="name of the text column")
    if labels:
        cmd.option("--label-col", help="name of the label (or score) column")
    cmd.option("--delimiter", help="field separator")


def _load(args: argparse.Namespace) -> Any:
    """The saved classifier, its data section changed by the table options given."""
    import dataclasses

    from lstmkit.tasks.classify import Classify

    task = Classify.load(args.model)
    changes = {k: getattr(args, k) for k in ("text_col", "label_col", "delimiter")
               if getattr(args, k, None) is not None}
    if changes:
        task.config = dataclasses.replace(task.config, data=dataclasses.replace(task.config.data, **changes))
    return task


def _write_json(path: str, data: dict) -> None:
    from lstmkit.io import atomic_write_json

    atomic_write_json(path, data)


def _notes(report: dict) -> list[str]:
    if "confusion_matrix" not in report:
        return []
    return [f"confusion matrix (rows gold, columns predicted; labels {report['labels']}): "
            f"{report['confusion_matrix']}"]


def run_fit(args: argparse.Namespace) -> int:
    from lstmkit.tasks.classify import Classify
    from lstmkit.tasks.classify.task import summary_row
    from lstmkit.train.model_dir import check_outputs

    check_outputs(args.out, args.metrics_out)  # before any training: refuse unusable outputs
    task = Classify(args.config_obj, args.train_config).fit(args.data, val=args.val_data)
    rows, metrics, notes = {}, {"epochs": task.fit_results[-1].epochs, "train_seconds": task.fit_seconds,
                                "vectors": task.vectors_report}, []
    if task.val_rows is not None:
        report = task.validation_report(baselines=args.baselines)
        rows = {name: summary_row(r) for name, r in report.items()}
        metrics = {"validation": task.val_rows.name, **report, **metrics}
        notes += _notes(report["lstm"])
    task.save(args.out)
    files = {"model": args.out}
    if args.metrics_out:
        _write_json(args.metrics_out, metrics)
        files["metrics"] = args.metrics_out
    if task.vectors_report:
        v = task.vectors_report
        notes.insert(0, f"vectors: {v['found']} of {v['vocab']} vocabulary tokens found in {v['path']}")
    title = f"classify fit (validation: {task.val_rows.name})" if task.val_rows else "classify fit"
    print_summary(title, rows, files=files, notes=[*notes, *task.fit_summary()])
    return 0


def run_predict(args: argparse.Namespace) -> int:
    from lstmkit.tasks.classify.frames import write_frame

    task = _load(args)
    frame = task.predict(args.data, attention=args.attention)
    write_frame(frame, args.out)
    notes = [] if task.config.model.pooling == "attention" or not args.attention else [
        "no attention weights: the model pools by " + task.config.model.pooling]
    print_summary("classify predict", {"lstm": {"texts": len(frame)}}, files={"predictions": args.out},
                  notes=notes)
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from lstmkit.tasks.classify.task import summary_row

    task = _load(args)
    report = task.evaluate(args.data, train=args.train_data, baselines=args.baselines)
    files = {}
    if args.metrics_out:
        _write_json(args.metrics_out, report)
        files["metrics"] = args.metrics_out
    notes = [] if args.train_data or not args.baselines else [
        "give --train-data to report the TF-IDF baseline beside the LSTM"]
    print_summary(f"classify evaluate ({args.data})", {n: summary_row(r) for n, r in report.items()},
                  files=files, notes=[*notes, *_notes(report["lstm"])])
    return 0
