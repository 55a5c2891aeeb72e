"""``lstmkit generate fit | sample | evaluate``: LSTM language models and text generation.

* ``fit --train FILE [--val FILE] --out MODEL_DIR``: each non-empty line of
  FILE is a document (a verse, a paragraph); the documents are joined into
  one stream and trained on with truncated BPTT.
* ``sample MODEL_DIR --prime TEXT``: prints the prime, then the continuation
  as it is generated (streaming).
* ``evaluate MODEL_DIR --text FILE``: perplexity, and bits per character for
  character models.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from lstmkit.commands._common import (
    add_parser,
    add_train_arguments,
    print_summary,
    train_config_from_args,
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("generate", help="LSTM language models: fit, sample, evaluate")
    sub = parser.add_subparsers(dest="generate_command", metavar="ACTION", required=True)

    fit = add_parser(sub, "fit", help="train a language model on a text file", func=run_fit)
    fit.add_argument("--train", required=True, help="UTF-8 text file, one document per line")
    fit.add_argument("--val", default=None, help="held-out text file (val_loss, val_bpc per epoch)")
    fit.add_argument("--out", required=True, help="model directory to write")
    model = fit.add_argument_group("model")
    model.add_argument("--tokenizer", choices=("char", "word", "bpe"), default="char")
    model.add_argument("--lowercase", action=argparse.BooleanOptionalAction, default=False)
    model.add_argument("--embed-size", type=int, default=64)
    model.add_argument("--hidden-size", type=int, default=256)
    model.add_argument("--num-layers", type=int, default=2)
    model.add_argument("--dropout", type=float, default=0.1)
    model.add_argument("--recurrent-dropout", type=float, default=0.0)
    model.add_argument("--weight-drop", type=float, default=0.0)
    model.add_argument("--tie-weights", action=argparse.BooleanOptionalAction, default=False)
    model.add_argument("--min-freq", type=int, default=1)
    model.add_argument("--max-vocab", type=int, default=None)
    model.add_argument("--bpe-vocab-size", type=int, default=4000)
    stream = fit.add_argument_group("stream")
    stream.add_argument("--batch-size", type=int, default=32, help="parallel rows of the stream")
    stream.add_argument("--bptt", type=int, default=100, help="truncated BPTT window length")
    add_train_arguments(fit, max_epochs=5)

    sample = add_parser(sub, "sample", help="generate text from a prime", func=run_sample)
    sample.add_argument("model", help="model directory written by 'generate fit'")
    sample.add_argument("--prime", required=True, help="text the generation continues")
    sample.add_argument("--temperature", type=float, default=1.0)
    sample.add_argument("--top-k", type=int, default=None)
    sample.add_argument("--top-p", type=float, default=None)
    sample.add_argument("--greedy", action="store_true", help="always take the most probable token")
    sample.add_argument("--max-length", type=int, default=200, help="most tokens to generate")
    sample.add_argument("--stop", action="append", default=[], help="stop after this string (repeatable)")
    sample.add_argument("--seed", type=int, default=None)

    evaluate = add_parser(sub, "evaluate", help="perplexity / bits per character on held-out text", func=run_evaluate)
    evaluate.add_argument("model", help="model directory written by 'generate fit'")
    evaluate.add_argument("--text", required=True, help="UTF-8 text file, one document per line")


def _documents(path: str) -> list[str]:
    from lstmkit.text import read_text_lines

    docs = [line for line in read_text_lines(path) if line.strip()]
    if not docs:
        raise ValueError(f"{path}: the file has no text; expected one document per line")
    return docs


def run_fit(args: argparse.Namespace) -> int:
    from lstmkit.tasks.generate import LanguageModelConfig, StreamConfig, fit
    from lstmkit.train.model_dir import check_outputs

    check_outputs(args.out)  # before any training: refuse unusable outputs
    config = LanguageModelConfig(
        tokenizer=args.tokenizer, lowercase=args.lowercase, embed_size=args.embed_size,
        hidden_size=args.hidden_size, num_layers=args.num_layers, dropout=args.dropout,
        recurrent_dropout=args.recurrent_dropout, weight_drop=args.weight_drop,
        tie_weights=args.tie_weights, min_freq=args.min_freq, max_vocab=args.max_vocab,
        bpe_vocab_size=args.bpe_vocab_size,
    )
    stream = StreamConfig(batch_size=args.batch_size, bptt=args.bptt)
    train = _documents(args.train)
    val = _documents(args.val) if args.val else None
    pipeline = fit(train, config, stream, train_config_from_args(args), val_texts=val)
    path = pipeline.save(args.out)
    metrics = dict(pipeline.fit_result.metrics) if pipeline.fit_result else {}
    print_summary("generate fit", metrics, files={"model": path})
    return 0


def run_sample(args: argparse.Namespace) -> int:
    from lstmkit.tasks.generate import LanguageModelPipeline, SamplingConfig

    config = SamplingConfig(
        temperature=args.temperature, top_k=args.top_k, top_p=args.top_p, greedy=args.greedy,
        max_length=args.max_length, stop=tuple(args.stop), seed=args.seed,
    )
    pipeline = LanguageModelPipeline.load(args.model)
    pieces = pipeline.stream(args.prime, config)
    first = next(pieces, "")  # validates the prime before anything is printed
    sys.stdout.write(args.prime + first)
    sys.stdout.flush()
    for piece in pieces:
        sys.stdout.write(piece)
        sys.stdout.flush()
    sys.stdout.write("\n")
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from lstmkit.tasks.generate import LanguageModelPipeline

    pipeline = LanguageModelPipeline.load(args.model)
    metrics = pipeline.evaluate(_documents(args.text))
    print_summary("generate evaluate", metrics)
    return 0
