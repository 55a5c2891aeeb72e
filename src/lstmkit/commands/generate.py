"""``lstmkit generate fit | sample | evaluate``: the command line of :class:`lstmkit.tasks.generate.Generate`.

    lstmkit generate fit --data train.txt --val-data val.txt --out lm/
    lstmkit generate sample --model lm/ --prime "In the beginning"
    lstmkit generate evaluate --model lm/ --data test.txt --train-data train.txt

Each non-empty line of a text file is a document (a verse, a paragraph); the
documents are joined into one stream and trained on with truncated BPTT.
``sample`` prints the prime, then the continuation as it is generated.
``evaluate`` reports perplexity (and bits per character for character
models) beside a unigram model and, given ``--train-data``, Kneser-Ney.
Every field of the model, data, sample and train sections is a flag and a
key of ``--config FILE.yaml``; ``--print-config`` shows the effective run.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from lstmkit.commands._common import print_summary
from lstmkit.commands._options import command
from lstmkit.commands._text import model_dir, model_options, override

FIT_ALIASES = {"--train": "--data", "--val": "--val-data"}  # old spelling -> new flag, for one release
SAMPLE_FIELDS = ("temperature", "top_k", "top_p", "greedy", "max_length", "stop", "sample_seed")


def register(subparsers: Any) -> None:
    from lstmkit.tasks.generate.config import TRAIN_DEFAULTS, GenerateConfig

    parser = subparsers.add_parser("generate", help="LSTM language models: fit, sample, evaluate",
                                   description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="generate_command", metavar="SUBCOMMAND", required=True)

    fit = command(sub, "fit", help="train a language model on a text file and save it", func=run_fit,
                  config=GenerateConfig, train_defaults=TRAIN_DEFAULTS)
    fit.option("--data", required=True, help="UTF-8 text file, one document per line")
    fit.option("--out", required=True, help="model directory to write")
    fit.option("--val-data", help="held-out text file (validation loss / bits per character per epoch)")
    fit.option("--baselines", type=bool, default=True,
               help="report the unigram and Kneser-Ney baselines on --val-data too")
    fit.option("--metrics-out", help="JSON file for the metrics")
    fit.aliases(FIT_ALIASES)

    sample = command(sub, "sample", help="continue a prime, printing the text as it is generated",
                     description="continue a prime, printing the text as it is generated; the sampling options left out keep the model's sample section", func=run_sample)
    model_options(sample, "generate")
    sample.option("--prime", required=True, help="text the generation continues")
    sample.option("--temperature", type=float, help="sampling temperature")
    sample.option("--top-k", type=int, help="sample among the k most probable tokens")
    sample.option("--top-p", type=float, help="sample from the nucleus of this mass")
    sample.option("--greedy", type=bool, default=False, help="always take the most probable token")
    sample.option("--max-length", type=int, help="most tokens to generate")
    sample.option("--stop", many=True, help="stop after any of these strings")
    sample.option("--sample-seed", type=int, help="seed of the sampler")
    sample.aliases({"--seed": "--sample-seed"})

    ev = command(sub, "evaluate", help="perplexity / bits per character on held-out text", func=run_evaluate)
    model_options(ev, "generate")
    ev.option("--data", required=True, help="UTF-8 text file, one document per line")
    ev.option("--train-data", help="training text: fits the Kneser-Ney baseline for the report")
    ev.option("--baselines", type=bool, default=True, help="report the n-gram baselines too")
    ev.option("--metrics-out", help="JSON file for the metrics")
    ev.aliases({"--text": "--data"})


def _write_json(path: str, data: dict) -> None:
    from lstmkit.io import atomic_write_json

    atomic_write_json(path, data)


def run_fit(args: argparse.Namespace) -> int:
    from lstmkit.tasks.generate import Generate
    from lstmkit.train.model_dir import check_outputs

    check_outputs(args.out, args.metrics_out)  # before any training: refuse unusable outputs
    task = Generate(args.config_obj, args.train_config).fit(args.data, val=args.val_data)
    path = task.save(args.out)
    rows = {"lstm": dict(task.fit_results[-1].metrics)}
    if args.val_data:
        rows = task.evaluate(args.val_data, train=args.data if args.baselines else None,
                             baselines=args.baselines)
        rows["lstm"] = {**task.fit_results[-1].metrics, **rows["lstm"]}
    files = {"model": path}
    if args.metrics_out:
        _write_json(args.metrics_out, rows)
        files["metrics"] = args.metrics_out
    title = f"generate fit (validation: {args.val_data})" if args.val_data else "generate fit"
    print_summary(title, rows, files=files, notes=task.fit_summary())
    return 0


def run_sample(args: argparse.Namespace) -> int:
    from lstmkit.tasks.generate import Generate

    task = Generate.load(model_dir(args))
    if args.greedy is False:
        args.greedy = None  # the flag only switches greedy on
    task.config = override(task.config, "sample", args, SAMPLE_FIELDS)
    pieces = task.pipeline.stream(args.prime, task.config.sampling())
    first = next(pieces, "")  # validates the prime before anything is printed
    sys.stdout.write(args.prime + first)
    sys.stdout.flush()
    for piece in pieces:
        sys.stdout.write(piece)
        sys.stdout.flush()
    sys.stdout.write("\n")
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from lstmkit.tasks.generate import Generate

    task = Generate.load(model_dir(args))
    rows = task.evaluate(args.data, train=args.train_data, baselines=args.baselines)
    files = {}
    if args.metrics_out:
        _write_json(args.metrics_out, rows)
        files["metrics"] = args.metrics_out
    notes = [] if args.train_data or not args.baselines else [
        "give --train-data to report the Kneser-Ney baseline"]
    print_summary(f"generate evaluate ({args.data})", rows, files=files, notes=notes)
    return 0
