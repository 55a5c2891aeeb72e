"""``lstmkit tag fit | predict | evaluate``: the command line of :class:`lstmkit.tasks.tag.Tag`.

    lstmkit tag fit --data train.conllu --column upos --out model/
    lstmkit tag fit --data train.conllu --members 5 --out ensemble/   # member k holds out fold k
    lstmkit tag predict --model model/ --data new.conllu --out tagged.conllu
    lstmkit tag evaluate --model model/ --data test.conll --train-data train.conll

Input: CoNLL-U (choose the tag column) or two-column CoNLL (token, tag),
detected from the suffix / first line or given with ``--format``; output in
the same format. ``fit`` reports the tagger beside the most-frequent-tag and
logistic-regression feature baselines on the validation sentences. With
``--val-data`` every member validates on it; without, member k of
``--members K`` holds out fold k of ``--folds`` (so one tagger holds out the
last 10%), and the report is on the last fold. The K taggers decode as one.
Every field of the model, data and train sections is a flag and a key of
``--config FILE.yaml``; ``--print-config`` shows the effective run.
"""

from __future__ import annotations

import argparse
from typing import Any

from lstmkit.commands._common import print_summary
from lstmkit.commands._options import command

# old spelling -> new flag, for one release
ALIASES = {"--word-dim": "--embed-size", "--char-dim": "--char-embed-size", "--char-hidden": "--char-hidden-size",
           "--hidden": "--hidden-size", "--lexicon-dim": "--lexicon-size"}


def register(subparsers: Any) -> None:
    from lstmkit.tasks.tag.config import TRAIN_DEFAULTS, TagConfig

    parser = subparsers.add_parser("tag", help="BiLSTM-CRF sequence labelling: fit, predict, evaluate",
                                   description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="tag_command", metavar="SUBCOMMAND", required=True)

    fit = command(sub, "fit", help="train a tagger (or an ensemble) on CoNLL(-U) and save it", func=run_fit,
                  config=TagConfig, train_defaults=TRAIN_DEFAULTS)
    fit.option("--data", required=True, help="training file (CoNLL-U or two-column CoNLL)")
    fit.option("--out", required=True, help="directory to save the model in")
    fit.option("--val-data", help="validation file (none: member k holds out fold k of --folds)")
    fit.option("--baselines", type=bool, default=True,
               help="report the most-frequent-tag and feature-tagger baselines too")
    fit.option("--metrics-out", help="JSON file for the metrics")
    fit.aliases(ALIASES)

    pred = command(sub, "predict", help="tag a file, writing the same format", func=run_predict,
                   description="tag a file, writing the same format; --format and --column left out keep "
                               "the model's")
    pred.option("--model", required=True, help="a directory written by 'tag fit'")
    pred.option("--data", required=True, help="file to tag (tags may be absent)")
    pred.option("--out", required=True, help="file to write (same format, predicted column)")
    _format_options(pred)

    ev = command(sub, "evaluate", help="token accuracy and span P/R/F1 of a saved model", func=run_evaluate,
                 description="token accuracy and span P/R/F1 of a saved model; --format and --column left "
                             "out keep the model's")
    ev.option("--model", required=True, help="a directory written by 'tag fit'")
    ev.option("--data", required=True, help="tagged file")
    ev.option("--train-data", help="training file: fits the feature-tagger baseline for the report")
    ev.option("--baselines", type=bool, default=True, help="report the baselines too")
    ev.option("--metrics-out", help="JSON file for the metrics")
    _format_options(ev)


def _format_options(cmd: Any) -> None:
    cmd.option("--format", choices=("auto", "conllu", "conll"), help="file format")
    cmd.option("--column", help="CoNLL-U tag column: name (upos, xpos, ...) or 1..10")


def _load(args: argparse.Namespace) -> Any:
    import dataclasses

    from lstmkit.tasks.tag import Tag

    task = Tag.load(args.model)
    changes = {k: getattr(args, k) for k in ("format", "column") if getattr(args, k, None) is not None}
    if changes:
        task.config = dataclasses.replace(task.config, data=dataclasses.replace(task.config.data, **changes))
    return task


def _write_json(path: str, data: dict) -> None:
    from lstmkit.io import atomic_write_json

    atomic_write_json(path, data)


def _row_name(task: Any) -> str:
    head = task.config.model.head
    return f"bilstm_{head}" + (f"_x{task.members}" if task.members > 1 else "")


def run_fit(args: argparse.Namespace) -> int:
    from lstmkit.tasks.tag import Tag
    from lstmkit.tasks.tag.ensemble import fold_split
    from lstmkit.train.model_dir import check_outputs

    check_outputs(args.out, args.metrics_out)  # before any training: refuse unusable outputs
    task = Tag(args.config_obj, args.train_config).fit(args.data, val=args.val_data)
    if args.val_data:
        train, val, val_name = args.data, args.val_data, args.val_data
    else:  # the fold member 1 held out
        rows = [(t, g) for t, g, _ in task.sentences(args.data, "training data")]
        train, val = fold_split(rows, 0, task.config.data.folds)
        val_name = f"fold 1 of {task.config.data.folds} of {args.data}"
    report = task.evaluate(val, train=train if args.baselines else None, baselines=args.baselines)
    rows = {(_row_name(task) if k == "lstm" else k): v for k, v in report.items()}
    if task.members > 1:
        pairs = [(t, g) for t, g, _ in task.sentences(val, "validation data")]
        for k, member in enumerate(task.taggers):
            rows[f"member {k} (seed {member.train_config.seed})"] = task._scores(
                pairs, member.predict([t for t, _ in pairs]))
    task.save(args.out)
    files = {"model": args.out}
    tagger = task.taggers[0]
    notes = []
    if tagger.vectors_report:
        v = tagger.vectors_report
        notes.append(f"vectors: {v['found']} of {v['vocab']} vocabulary words found in {v['path']}")
    epochs = sum(r.epochs for r in task.fit_results)
    tokens = sum(m.train_tokens for m in task.taggers)
    metrics = {"validation": val_name, "models": rows, "epochs": epochs,
               "train_tokens_per_s": tokens / max(task.fit_seconds, 1e-9), "vectors": tagger.vectors_report}
    if args.metrics_out:
        _write_json(args.metrics_out, metrics)
        files["metrics"] = args.metrics_out
    if task.members > 1 and not args.val_data:
        notes.append("members 2.. held out other folds, so the ensemble has seen these sentences: "
                     "give --val-data (or evaluate on a test file) for an unbiased score")
    print_summary(f"tag fit (validation: {val_name})", rows, files=files,
                  notes=[*notes, f"training: {metrics['train_tokens_per_s']:.0f} tokens/s over {epochs} epochs",
                         *task.fit_summary()])
    return 0


def run_predict(args: argparse.Namespace) -> int:
    task = _load(args)
    path, n_sent, n_tok = task.write_predictions(args.data, args.out)
    print_summary("tag predict", {"tagger": {"sentences": n_sent, "tokens": n_tok,
                                             "decode_tokens_per_s": n_tok / max(task.last_decode_seconds, 1e-9)}},
                  files={"tagged": path})
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    task = _load(args)
    report = task.evaluate(args.data, train=args.train_data, baselines=args.baselines)
    rows = {(_row_name(task) if k == "lstm" else k): v for k, v in report.items()}
    n = rows[_row_name(task)]["tokens"]
    rows[_row_name(task)]["decode_tokens_per_s"] = n / max(task.last_decode_seconds, 1e-9)
    notes = [] if args.train_data or not args.baselines else [
        "give --train-data to report the feature-tagger baseline"]
    files = {}
    if args.metrics_out:
        _write_json(args.metrics_out, rows)
        files["metrics"] = args.metrics_out
    print_summary(f"tag evaluate ({args.data})", rows, files=files, notes=notes)
    return 0
