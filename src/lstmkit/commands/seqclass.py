"""``lstmkit seqclass fit | predict | evaluate``: argument parsing for `lstmkit.tasks.seqclass`.

    lstmkit seqclass fit --data train.ts --model lstm_fcn --out model/
    lstmkit seqclass predict --model model/ --data new.csv --out predictions.csv
    lstmkit seqclass evaluate --model model/ --data test.ts --baselines dtw minirocket --out report/

Data: an aeon/sktime ``.ts`` file or a long CSV (``series_id, t, channel
columns..., label``; names from the data section). ``evaluate`` writes
``metrics.json`` (the network beside the baselines) and, for a unidirectional
LSTM, ``early.csv`` and ``early.png`` (accuracy against the fraction of each
series seen). Every field of the model, data and train sections is a flag
and a key of ``--config FILE.yaml``; ``--print-config`` shows the effective run.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from lstmkit.commands._common import print_summary
from lstmkit.commands._options import command


def register(subparsers: Any) -> None:
    from lstmkit.tasks.seqclass.config import BASELINES, TRAIN_DEFAULTS, SeqClassConfig

    parser = subparsers.add_parser("seqclass", help="classify multivariate numeric sequences: fit, predict, "
                                                    "evaluate", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="seqclass_command", metavar="SUBCOMMAND", required=True)

    fit = command(sub, "fit", help="train a sequence classifier and save it", func=run_fit,
                  config=SeqClassConfig, train_defaults=TRAIN_DEFAULTS)
    fit.option("--data", required=True, help="labelled training data (.ts file or long CSV)")
    fit.option("--out", required=True, help="directory to save the model in")
    fit.option("--val-data", help="labelled validation data: validation loss per epoch, best epoch kept")

    pred = command(sub, "predict", help="predict the class of each series with a saved model", func=run_predict)
    pred.option("--model", required=True, help="a directory written by 'seqclass fit'")
    pred.option("--data", required=True, help="series to classify (.ts file or long CSV; labels optional)")
    pred.option("--out", required=True, help="CSV to write: series_id, prediction, p_<class> ...")

    ev = command(sub, "evaluate", help="score a saved model beside the baselines on labelled data",
                 func=run_evaluate)
    ev.option("--model", required=True, help="a directory written by 'seqclass fit'")
    ev.option("--data", required=True, help="labelled test data (.ts file or long CSV)")
    ev.option("--out", help="directory for metrics.json (and early.csv, early.png for a streaming model)")
    ev.option("--baselines", many=True, default=BASELINES, choices=BASELINES, help="baselines to report")


def run_fit(args: argparse.Namespace) -> int:
    from lstmkit.tasks.seqclass import SeqClass

    task = SeqClass(args.config_obj, args.train_config).fit(args.data, val=args.val_data)
    task.save(args.out)
    print_summary("seqclass fit", {task.model_name: {
        "series": len(task.train_series), "classes": len(task.classes), "channels": task.prep.channels,
        "fit_seconds": round(task.fit_seconds, 2)}}, files={"model": args.out}, notes=task.fit_summary())
    return 0


def run_predict(args: argparse.Namespace) -> int:
    from lstmkit.tasks.forecast.io import write_csv_atomic
    from lstmkit.tasks.seqclass import SeqClass

    task = SeqClass.load(args.model)
    frame = task.predict(args.data)
    write_csv_atomic(frame, args.out)
    print_summary("seqclass predict", {task.model_name: {"series": len(frame)}}, files={"predictions": args.out})
    return 0


def _streams(task: Any) -> bool:
    mc = task.config.model
    return mc.model == "lstm" and not mc.bidirectional


def run_evaluate(args: argparse.Namespace) -> int:
    from lstmkit.io import atomic_dir
    from lstmkit.tasks.seqclass import SeqClass, early_accuracy, plot_early_accuracy

    task = SeqClass.load(args.model)
    report = task.evaluate(args.data, baselines=tuple(args.baselines))
    files: dict[str, Path] = {}
    if args.out:
        out = Path(args.out)
        with atomic_dir(out) as tmp:
            record: dict[str, Any] = {"data": str(args.data), "model": str(args.model), "report": report}
            if _streams(task):
                import matplotlib.pyplot as plt

                curve = early_accuracy(task, args.data)
                curve.to_csv(tmp / "early.csv", index=False)
                best = max((row["accuracy"] for name, row in report.items() if name != task.model_name),
                           default=None)
                fig = plot_early_accuracy(curve, label=task.model_name, baseline=best)
                fig.savefig(tmp / "early.png", dpi=120, bbox_inches="tight")
                plt.close(fig)
                record["early"] = curve.to_dict(orient="records")
            (tmp / "metrics.json").write_text(json.dumps(record, indent=2, default=float))
        files = {"metrics": out / "metrics.json"}
        if _streams(task):
            files.update({"early curve": out / "early.csv", "early plot": out / "early.png"})
    rows = {name: {k: row[k] for k in ("accuracy", "balanced_accuracy", "macro_f1")} for name, row in report.items()}
    print_summary("seqclass evaluate", rows, files=files)
    return 0
