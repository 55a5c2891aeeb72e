"""``lstmkit translate fit | translate | evaluate``: attentional LSTM encoder-decoder.

Parallel data comes as two aligned files (``--source``/``--target``, one
sentence per line) or one TSV of ``source<TAB>target`` (``--pairs``).

* ``fit ... --out MODEL_DIR``
* ``translate MODEL_DIR --input FILE --output FILE``: one translation per line
  (written atomically: a failed run leaves no output file).
* ``evaluate MODEL_DIR (--source F --target F | --pairs TSV) [--heatmap PNG]``:
  BLEU and chrF (sacrebleu) beside the copy-the-source baseline; the heatmap
  shows the attention of the ``--heatmap-line``-th sentence.
"""

from __future__ import annotations

import argparse
from typing import Any

from lstmkit.commands._common import (
    add_parser,
    add_train_arguments,
    print_summary,
    train_config_from_args,
)


def _add_pairs(parser: argparse.ArgumentParser, prefix: str = "") -> None:
    flag = f"--{prefix}" if prefix else "--"
    parser.add_argument(f"{flag}source", default=None, help="source-language file, one sentence per line")
    parser.add_argument(f"{flag}target", default=None, help="target-language file aligned with the source")
    parser.add_argument(f"{flag}pairs", default=None, help="TSV file of source<TAB>target lines")


def _read_pairs(source: str | None, target: str | None, pairs: str | None, what: str):
    from lstmkit.tasks.translate import read_parallel, read_tsv_pairs

    if pairs and (source or target):
        raise ValueError(f"{what}: give either --pairs or --source/--target, not both")
    if pairs:
        return read_tsv_pairs(pairs)
    if not (source and target):
        raise ValueError(f"{what}: expected --source and --target files (or --pairs), received "
                         f"source={source!r}, target={target!r}")
    return read_parallel(source, target)


def _decode_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--beam", type=int, default=5, help="beam size (1 = greedy)")
    parser.add_argument("--max-length", type=int, default=120, help="most target tokens")
    parser.add_argument("--length-penalty", type=float, default=0.6, help="alpha of ((5+|y|)/6)^alpha")
    parser.add_argument("--batch-size", type=int, default=32, help="sentences decoded at once")


def _decode_config(args: argparse.Namespace):
    from lstmkit.tasks.translate import DecodeConfig

    return DecodeConfig(beam_size=args.beam, max_length=args.max_length, length_penalty=args.length_penalty)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("translate", help="translation with attention: fit, translate, evaluate")
    sub = parser.add_subparsers(dest="translate_command", metavar="ACTION", required=True)

    fit = add_parser(sub, "fit", help="train an encoder-decoder on parallel text", func=run_fit)
    _add_pairs(fit)
    _add_pairs(fit, prefix="val-")
    fit.add_argument("--out", required=True, help="model directory to write")
    model = fit.add_argument_group("model")
    model.add_argument("--tokenizer", choices=("word", "bpe"), default="word")
    model.add_argument("--lowercase", action=argparse.BooleanOptionalAction, default=False)
    model.add_argument("--attention", choices=("additive", "general", "concat", "none"), default="additive")
    model.add_argument("--input-feeding", action=argparse.BooleanOptionalAction, default=True)
    model.add_argument("--embed-size", type=int, default=128)
    model.add_argument("--hidden-size", type=int, default=256)
    model.add_argument("--num-layers", type=int, default=1)
    model.add_argument("--dropout", type=float, default=0.2)
    model.add_argument("--max-source-len", type=int, default=100)
    model.add_argument("--max-target-len", type=int, default=120)
    model.add_argument("--min-freq", type=int, default=2)
    model.add_argument("--max-vocab", type=int, default=20000)
    model.add_argument("--bpe-vocab-size", type=int, default=4000)
    fit.add_argument("--batch-size", type=int, default=32, help="sentence pairs per batch")
    add_train_arguments(fit, max_epochs=10)

    tr = add_parser(sub, "translate", help="translate a file, one sentence per line", func=run_translate)
    tr.add_argument("model", help="model directory written by 'translate fit'")
    tr.add_argument("--input", required=True, help="source sentences, one per line")
    tr.add_argument("--output", required=True, help="file to write, one translation per line")
    _decode_arguments(tr)

    ev = add_parser(sub, "evaluate", help="BLEU and chrF on parallel text", func=run_evaluate)
    ev.add_argument("model", help="model directory written by 'translate fit'")
    _add_pairs(ev)
    ev.add_argument("--heatmap", default=None, help="write the attention heatmap of one sentence to this PNG")
    ev.add_argument("--heatmap-line", type=int, default=1, help="1-based line of the sentence to draw")
    _decode_arguments(ev)


def run_fit(args: argparse.Namespace) -> int:
    from lstmkit.tasks.translate import Seq2SeqConfig, fit
    from lstmkit.train.model_dir import check_outputs

    check_outputs(args.out)  # before any training: refuse unusable outputs
    src, tgt = _read_pairs(args.source, args.target, args.pairs, "training data")
    val_src = val_tgt = None
    if args.val_source or args.val_target or args.val_pairs:
        val_src, val_tgt = _read_pairs(args.val_source, args.val_target, args.val_pairs, "validation data")
    config = Seq2SeqConfig(
        tokenizer=args.tokenizer, lowercase=args.lowercase, embed_size=args.embed_size,
        hidden_size=args.hidden_size, num_layers=args.num_layers, dropout=args.dropout,
        attention=args.attention, input_feeding=args.input_feeding,
        max_source_len=args.max_source_len, max_target_len=args.max_target_len,
        min_freq=args.min_freq, max_vocab=args.max_vocab, bpe_vocab_size=args.bpe_vocab_size,
    )
    pipeline = fit(src, tgt, config, train_config_from_args(args), val_src, val_tgt, batch_size=args.batch_size)
    path = pipeline.save(args.out)
    metrics = dict(pipeline.fit_result.metrics) if pipeline.fit_result else {}
    print_summary("translate fit", metrics, files={"model": path})
    return 0


def run_translate(args: argparse.Namespace) -> int:
    from lstmkit.tasks.translate import TranslationPipeline, read_lines
    from lstmkit.text import atomic_write_text

    pipeline = TranslationPipeline.load(args.model)
    sentences = read_lines(args.input)
    outputs = pipeline.translate(sentences, _decode_config(args), batch_size=args.batch_size)
    path = atomic_write_text(args.output, "".join(line.replace("\n", " ") + "\n" for line in outputs))
    print_summary("translate", {"sentences": len(outputs)}, files={"translations": path})
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from lstmkit.tasks.translate import TranslationPipeline, bleu, chrf

    src, ref = _read_pairs(args.source, args.target, args.pairs, "evaluation data")
    pipeline = TranslationPipeline.load(args.model)
    if not 1 <= args.heatmap_line <= len(src):
        raise ValueError(f"--heatmap-line: expected a line in 1..{len(src)}, received {args.heatmap_line}")
    metrics = pipeline.evaluate(src, ref, _decode_config(args), batch_size=args.batch_size)
    rows = {
        "model": {"bleu": metrics["bleu"], "chrf": metrics["chrf"]},
        "copy source": {"bleu": bleu(src, ref), "chrf": chrf(src, ref)},
    }
    files = {}
    if args.heatmap:
        files["heatmap"] = pipeline.attention(src[args.heatmap_line - 1], args.heatmap, _decode_config(args))
    print_summary("translate evaluate", rows, files=files, notes=[f"sentences: {len(src)}"])
    return 0
