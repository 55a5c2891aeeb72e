"""``lstmkit translate fit | translate | evaluate``: the command line of :class:`lstmkit.tasks.translate.Translate`.

    lstmkit translate fit --data pairs.tsv --val-data val.tsv --out model/
    lstmkit translate fit --source train.de --target train.en --out model/
    lstmkit translate translate --model model/ --data input.de --out output.en
    lstmkit translate evaluate --model model/ --data test.tsv --heatmap attention.png

Parallel data comes as one TSV of ``source<TAB>target`` (``--data``,
``--val-data``) or two aligned files, one sentence per line (``--source`` /
``--target``, ``--val-source`` / ``--val-target``). ``translate`` writes one
translation per line (atomically: a failed run leaves no output file).
``evaluate`` reports BLEU and chrF (sacrebleu) beside copying the source;
``--heatmap`` draws the attention of the ``--heatmap-line``-th sentence.
Every field of the model, data, decode and train sections is a flag and a
key of ``--config FILE.yaml``; ``--print-config`` shows the effective run.
"""

from __future__ import annotations

import argparse
from typing import Any

from lstmkit.commands._common import print_summary
from lstmkit.commands._options import CommandError, command
from lstmkit.commands._text import model_dir, model_options, override

# old spelling -> new flag, for one release
FIT_ALIASES = {"--pairs": "--data", "--val-pairs": "--val-data", "--beam": "--beam-size"}
DECODE_ALIASES = {"--beam": "--beam-size", "--batch-size": "--decode-batch-size"}
DECODE_FIELDS = ("beam_size", "max_length", "length_penalty", "decode_batch_size")


def register(subparsers: Any) -> None:
    from lstmkit.tasks.translate.config import TRAIN_DEFAULTS, TranslateConfig

    parser = subparsers.add_parser("translate", help="translation with attention: fit, translate, evaluate",
                                   description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="translate_command", metavar="SUBCOMMAND", required=True)

    fit = command(sub, "fit", help="train an encoder-decoder on parallel text and save it", func=run_fit,
                  config=TranslateConfig, train_defaults=TRAIN_DEFAULTS)
    _pair_options(fit, "training")
    fit.option("--out", required=True, help="model directory to write")
    fit.option("--val-data", help="validation TSV of source<TAB>target lines")
    fit.option("--val-source", help="validation source file (with --val-target)")
    fit.option("--val-target", help="validation target file aligned with --val-source")
    fit.aliases(FIT_ALIASES)

    tr = command(sub, "translate", help="translate a file, one sentence per line", func=run_translate,
                 description="translate a file, one sentence per line; decoding options left out keep "
                             "the model's decode section")
    model_options(tr, "translate")
    tr.option("--data", required=True, help="source sentences, one per line")
    tr.option("--out", required=True, help="file to write, one translation per line")
    _decode_options(tr)
    tr.aliases({"--input": "--data", "--output": "--out", **DECODE_ALIASES})

    ev = command(sub, "evaluate", help="BLEU and chrF on parallel text, beside copying the source",
                 func=run_evaluate, description="BLEU and chrF on parallel text, beside copying the source; "
                                                "decoding options left out keep the model's decode section")
    model_options(ev, "translate")
    _pair_options(ev, "evaluation")
    ev.option("--heatmap", help="write the attention heatmap of one sentence to this PNG")
    ev.option("--heatmap-line", type=int, default=1, help="1-based line of the sentence to draw")
    _decode_options(ev)
    ev.aliases({"--pairs": "--data", **DECODE_ALIASES})


def _pair_options(cmd: Any, what: str) -> None:
    cmd.option("--data", help=f"{what} TSV of source<TAB>target lines (or --source and --target)")
    cmd.option("--source", help=f"{what} source file, one sentence per line")
    cmd.option("--target", help=f"{what} target file aligned with --source")


def _decode_options(cmd: Any) -> None:
    cmd.option("--beam-size", type=int, help="beam size, 1 = greedy")
    cmd.option("--max-length", type=int, help="most target tokens")
    cmd.option("--length-penalty", type=float, help="alpha of ((5 + |y|) / 6)^alpha")
    cmd.option("--decode-batch-size", type=int, help="sentences decoded at once")


def _pairs(data: str | None, source: str | None, target: str | None, what: str, flags: str = "") -> Any:
    """What ``Translate`` reads: a TSV path or a pair of aligned files; None when nothing is given."""
    if data and (source or target):
        raise CommandError(f"{what}: give either --{flags}data or --{flags}source/--{flags}target, not both")
    if data:
        return data
    if source or target:
        if not (source and target):
            raise CommandError(f"{what}: expected --{flags}source and --{flags}target files (or --{flags}data), "
                               f"received source={source!r}, target={target!r}")
        from lstmkit.tasks.translate import read_parallel

        return read_parallel(source, target)
    return None


def run_fit(args: argparse.Namespace) -> int:
    from lstmkit.tasks.translate import Translate
    from lstmkit.train.model_dir import check_outputs

    check_outputs(args.out)  # before any training: refuse unusable outputs
    train = _pairs(args.data, args.source, args.target, "training data")
    if train is None:
        raise CommandError("training data: expected --data (a TSV) or --source and --target files")
    val = _pairs(args.val_data, args.val_source, args.val_target, "validation data", "val-")
    task = Translate(args.config_obj, args.train_config).fit(train, val=val)
    path = task.save(args.out)
    print_summary("translate fit", dict(task.fit_results[-1].metrics), files={"model": path},
                  notes=task.fit_summary())
    return 0


def _load(args: argparse.Namespace) -> Any:
    from lstmkit.tasks.translate import Translate

    task = Translate.load(model_dir(args))
    task.config = override(task.config, "decode", args, DECODE_FIELDS)
    return task


def run_translate(args: argparse.Namespace) -> int:
    from lstmkit.io import atomic_write_text
    from lstmkit.tasks.translate import read_lines

    task = _load(args)
    outputs = task.predict(read_lines(args.data))
    path = atomic_write_text(args.out, "".join(line.replace("\n", " ") + "\n" for line in outputs))
    print_summary("translate", {"sentences": len(outputs)}, files={"translations": path})
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from lstmkit.tasks.translate import read_pairs

    data = _pairs(args.data, args.source, args.target, "evaluation data")
    if data is None:
        raise CommandError("evaluation data: expected --data (a TSV) or --source and --target files")
    src, _ = read_pairs(data, "evaluation data")
    task = _load(args)
    if not 1 <= args.heatmap_line <= len(src):
        raise CommandError(f"--heatmap-line: expected a line in 1..{len(src)}, received {args.heatmap_line}")
    report = task.evaluate(data)
    rows = {"model": {"bleu": report["lstm"]["bleu"], "chrf": report["lstm"]["chrf"]},
            "copy source": report["copy_source"]}
    files = {}
    if args.heatmap:
        files["heatmap"] = task.pipeline.attention(src[args.heatmap_line - 1], args.heatmap,
                                                   task.config.decoding())
    print_summary("translate evaluate", rows, files=files, notes=[f"sentences: {len(src)}"])
    return 0
