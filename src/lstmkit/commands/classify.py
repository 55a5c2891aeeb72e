"""``lstmkit classify fit | predict | evaluate``: argument parsing for :mod:`lstmkit.tasks.classify`.

    lstmkit classify fit --data train.csv --text-col text --label-col label --out model/
    lstmkit classify predict --model model/ --data new.csv --out predictions.csv
    lstmkit classify evaluate --model model/ --data test.csv --train-data train.csv

CSV or TSV (by suffix, or ``--delimiter``). ``fit`` reports the LSTM beside a
TF-IDF + logistic-regression (ridge for ``--task regression``) baseline on
the validation rows (``--val-data``, else 10% of the training rows held out).
Every option can also come from ``--config FILE.yaml``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
from typing import Any

from lstmkit.commands._common import (
    add_parser,
    add_train_arguments,
    print_summary,
    train_config_from_args,
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("classify", help="LSTM text classification / sentiment: fit, predict, evaluate",
                                   description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="classify_command", metavar="SUBCOMMAND", required=True)

    fit = add_parser(sub, "fit", help="train a classifier on a CSV/TSV and save it", func=run_fit)
    fit.add_argument("--data", required=True, help="training table with a text and a label column")
    fit.add_argument("--out", required=True, help="directory to save the model in")
    fit.add_argument("--val-data", default=None, help="validation table (default: 10%% of --data held out)")
    _add_table_arguments(fit, labels=True)
    model = fit.add_argument_group("model")
    model.add_argument("--task", choices=("classes", "regression"), default="classes",
                       help="predict classes or a numeric score")
    model.add_argument("--tokenizer", choices=("word", "char", "bpe"), default="word", help="token unit")
    model.add_argument("--pooling", choices=("last", "max", "mean", "attention"), default="max",
                       help="how the LSTM outputs become one vector")
    model.add_argument("--embed-dim", type=int, default=128, help="token embedding size")
    model.add_argument("--hidden", type=int, default=128, help="LSTM hidden size per direction")
    model.add_argument("--num-layers", type=int, default=1, help="LSTM layers")
    model.add_argument("--bidirectional", action=argparse.BooleanOptionalAction, default=True,
                       help="bidirectional LSTM")
    model.add_argument("--dropout", type=float, default=0.4, help="dropout")
    model.add_argument("--min-freq", type=int, default=1, help="minimum token count for the vocabulary")
    model.add_argument("--batch-size", type=int, default=32, help="texts per batch")
    model.add_argument("--subword-buckets", type=int, default=0,
                       help="hashed character n-gram features added to each token embedding (0 = off)")
    model.add_argument("--vectors", default=None, metavar="FILE",
                       help="pretrained word vectors (GloVe / word2vec text) to start the embedding from; "
                            "their size must equal --embed-dim")
    transfer = fit.add_argument_group("transfer from a language model (ULMFiT-style)")
    transfer.add_argument("--encoder", default=None, metavar="MODEL_DIR",
                          help="initialise embedding and LSTM from a 'generate fit' model directory")
    transfer.add_argument("--freeze-epochs", type=int, default=1,
                          help="epochs with the pretrained encoder frozen")
    transfer.add_argument("--unfreeze-every", type=int, default=1,
                          help="then unfreeze one layer (top first) every this many epochs")
    fit.add_argument("--baseline", action=argparse.BooleanOptionalAction, default=True,
                     help="report the TF-IDF baseline beside the LSTM")
    fit.add_argument("--metrics-out", default=None, help="JSON file for the metrics")
    add_train_arguments(fit, max_epochs=10, lr=2e-3)

    pred = add_parser(sub, "predict", help="predict labels with probabilities (or scores)", func=run_predict)
    pred.add_argument("--model", required=True, help="a directory written by 'classify fit'")
    pred.add_argument("--data", required=True, help="table with a text column")
    pred.add_argument("--out", required=True,
                      help="CSV to write: the input columns, prediction, p_<class> (and attention)")
    pred.add_argument("--attention", action=argparse.BooleanOptionalAction, default=False,
                      help="add tokens and attention weights (attention pooling only) as JSON columns")
    _add_table_arguments(pred, labels=False)

    ev = add_parser(sub, "evaluate", help="metrics of a saved model on a labelled table", func=run_evaluate)
    ev.add_argument("--model", required=True, help="a directory written by 'classify fit'")
    ev.add_argument("--data", required=True, help="labelled table")
    ev.add_argument("--train-data", default=None, help="training table: fits the TF-IDF baseline for the report")
    ev.add_argument("--metrics-out", default=None, help="JSON file for the metrics")
    _add_table_arguments(ev, labels=True)


def _add_table_arguments(parser: argparse.ArgumentParser, labels: bool) -> None:
    g = parser.add_argument_group("table")
    g.add_argument("--text-col", default="text", help="name of the text column")
    if labels:
        g.add_argument("--label-col", default="label", help="name of the label (or score) column")
    g.add_argument("--delimiter", default=None, help="field separator (default: tab for .tsv, else comma)")


def _summary_row(report: dict) -> dict:
    keys = ("accuracy", "macro_f1", "positive_f1", "rmse", "pearson_r")
    return {k: report[k] for k in keys if k in report}


def _baseline(task: str, train_texts, train_labels, texts, labels) -> dict:
    from lstmkit.tasks.classify import TfidfBaseline, classification_report, regression_report

    pred = TfidfBaseline(task).fit(train_texts, train_labels).predict(texts)
    if task == "regression":
        return regression_report([float(v) for v in labels], [float(v) for v in pred])
    classes = sorted({str(v) for v in train_labels} | {str(v) for v in labels})
    pos = classes[-1] if len(classes) == 2 else None
    return classification_report([str(v) for v in labels], [str(v) for v in pred], classes, positive=pos)


def _write_json(path: str, data: dict) -> None:
    from lstmkit.io import atomic_write_json

    atomic_write_json(path, data)


def _check_labels(clf, labels, lines, path) -> None:
    if clf.encoder.labels is None:
        return
    for lab, line in zip(labels, lines):
        clf.encoder.target(lab, where=f"{path}:{line}: ")


def run_fit(args: argparse.Namespace) -> int:
    from lstmkit.tasks.classify import ClassifierConfig, TextClassifier, read_table
    from lstmkit.train.model_dir import check_outputs

    check_outputs(args.out, args.metrics_out)  # before any training: refuse unusable outputs
    regression = args.task == "regression"
    texts, labels, _ = read_table(args.data, args.text_col, args.label_col, args.delimiter, regression)
    if args.val_data:
        vt, vl, vlines = read_table(args.val_data, args.text_col, args.label_col, args.delimiter, regression)
        val_name = args.val_data
    else:
        if len(texts) < 10:
            raise ValueError(f"{args.data}: need at least 10 rows to hold out validation rows, got {len(texts)}")
        order = list(range(len(texts)))
        random.Random(args.seed).shuffle(order)
        cut = max(1, len(texts) // 10)
        val_idx, tr_idx = order[:cut], order[cut:]
        vt, vl = [texts[i] for i in val_idx], [labels[i] for i in val_idx]
        texts, labels = [texts[i] for i in tr_idx], [labels[i] for i in tr_idx]
        vlines, val_name = None, f"10% of {args.data}"
    cfg = ClassifierConfig(task=args.task, tokenizer=args.tokenizer, pooling=args.pooling,
                           embed_dim=args.embed_dim, hidden=args.hidden, num_layers=args.num_layers,
                           bidirectional=args.bidirectional, dropout=args.dropout, min_freq=args.min_freq,
                           batch_size=args.batch_size, subword_buckets=args.subword_buckets)
    clf = TextClassifier(cfg, train_config_from_args(args))
    if not regression:
        known = {str(v) for v in labels}
        for i, lab in enumerate(vl):
            if str(lab) not in known:
                where = f"{args.val_data}:{vlines[i]}" if vlines else val_name
                raise ValueError(f"{where}: label {lab!r} is not in the training labels {sorted(known)}")
    result = clf.fit(texts, labels, vt, vl, encoder=args.encoder, freeze_epochs=args.freeze_epochs,
                     unfreeze_every=args.unfreeze_every, vectors=args.vectors)
    report = clf.evaluate(vt, vl)
    rows = {"lstm": _summary_row(report)}
    metrics = {"validation": val_name, "lstm": report, "epochs": result.epochs,
               "train_seconds": clf.train_seconds, "vectors": clf.vectors_report}
    if args.baseline:
        base = _baseline(args.task, texts, labels, vt, vl)
        rows["tfidf_baseline"] = _summary_row(base)
        metrics["tfidf_baseline"] = base
    clf.save(args.out)
    files = {"model": args.out}
    if args.metrics_out:
        _write_json(args.metrics_out, metrics)
        files["metrics"] = args.metrics_out
    notes = []
    if clf.vectors_report:
        v = clf.vectors_report
        notes.append(f"vectors: {v['found']} of {v['vocab']} vocabulary tokens found in {v['path']}")
    if "confusion_matrix" in report:
        notes.append(f"confusion matrix (rows gold, columns predicted; labels {report['labels']}): "
                     f"{report['confusion_matrix']}")
    print_summary(f"classify fit (validation: {val_name})", rows, files=files, notes=notes)
    return 0


def run_predict(args: argparse.Namespace) -> int:
    from lstmkit.tasks.classify import TextClassifier, read_table
    from lstmkit.tasks.classify.data import delimiter_for
    from lstmkit.text import atomic_write_text, read_csv_rows

    clf = TextClassifier.load(args.model)
    texts, _, lines = read_table(args.data, args.text_col, None, args.delimiter)
    pred = clf.predict(texts)
    delim = delimiter_for(args.data, args.delimiter)
    rows = [r for _, r in read_csv_rows(args.data, delim)]  # the rows read_table read, in order
    header, body = rows[0], rows[1:]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    extra = ["prediction"]
    if pred.classes is not None:
        extra += [f"p_{c}" for c in pred.classes]
    if args.attention:
        extra += ["tokens", "attention"]
    writer.writerow(header + extra)
    for i, row in enumerate(body):
        out = list(row) + [pred.labels[i] if pred.labels is not None else f"{pred.scores[i]:.6g}"]
        if pred.probabilities is not None:
            out += [f"{p:.6f}" for p in pred.probabilities[i]]
        if args.attention:
            weights = pred.attention[i] if pred.attention is not None else None
            out += [json.dumps(pred.tokens[i], ensure_ascii=False),
                    json.dumps([round(w, 5) for w in weights]) if weights is not None else ""]
        writer.writerow(out)
    atomic_write_text(args.out, buf.getvalue())
    notes = [] if pred.attention is not None or not args.attention else [
        "no attention weights: the model pools by " + clf.config.pooling]
    print_summary("classify predict", {"lstm": {"texts": len(texts)}}, files={"predictions": args.out},
                  notes=notes)
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from lstmkit.tasks.classify import TextClassifier, read_table

    clf = TextClassifier.load(args.model)
    regression = clf.config.task == "regression"
    texts, labels, lines = read_table(args.data, args.text_col, args.label_col, args.delimiter, regression)
    _check_labels(clf, labels, lines, args.data)
    report = clf.evaluate(texts, labels)
    rows = {"lstm": _summary_row(report)}
    metrics = {"lstm": report}
    if args.train_data:
        tt, tl, _ = read_table(args.train_data, args.text_col, args.label_col, args.delimiter, regression)
        base = _baseline(clf.config.task, tt, tl, texts, labels)
        rows["tfidf_baseline"] = _summary_row(base)
        metrics["tfidf_baseline"] = base
    files = {}
    if args.metrics_out:
        _write_json(args.metrics_out, metrics)
        files["metrics"] = args.metrics_out
    notes = [] if args.train_data else ["give --train-data to report the TF-IDF baseline beside the LSTM"]
    if "confusion_matrix" in report:
        notes.append(f"confusion matrix (rows gold, columns predicted; labels {report['labels']}): "
                     f"{report['confusion_matrix']}")
    print_summary(f"classify evaluate ({args.data})", rows, files=files, notes=notes)
    return 0
