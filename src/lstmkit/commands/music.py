"""``lstmkit music fit | sample | evaluate``: polyphonic chorales, a thin shell over :class:`Music`.

* ``fit --data jsb|bach|PATH [--val-data ...] --out MODEL_DIR``: ``jsb`` is the
  JSB Chorales split (train, validated on valid), ``bach`` music21's
  four-part chorales, PATH a MIDI / MusicXML file or folder. The options are
  generated from the config sections (``--kind``, ``--hidden-size``,
  ``--transpose``, ``--epochs`` ...; see :mod:`lstmkit.commands._options`).
* ``sample --model MODEL_DIR --length 64 --out chorale.mid``: new music
  (``.mid``, ``.musicxml`` or ``.png``); ``--soprano melody.xml``
  harmonises a melody (voices models).
* ``evaluate --model MODEL_DIR --data jsb``: the model beside its baselines.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from lstmkit.commands._common import print_summary
from lstmkit.commands._options import command


def register(subparsers: Any) -> None:
    from lstmkit.tasks.music.config import TRAIN_DEFAULTS, MusicConfig

    parser = subparsers.add_parser("music", help="music generation: fit, sample, evaluate",
                                   description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="music_command", metavar="SUBCOMMAND", required=True)

    fit = command(sub, "fit", help="train a chorale model and save it", func=run_fit,
                  config=MusicConfig, train_defaults=TRAIN_DEFAULTS)
    fit.option("--data", required=True, help="jsb, bach, or a MIDI / MusicXML file or folder")
    fit.option("--val-data", help="validation music (none, for jsb / bach: their valid split)")
    fit.option("--out", required=True, help="model directory to write")

    sample = command(sub, "sample", help="write new music (or harmonise a soprano)", func=run_sample)
    sample.option("--model", required=True, help="model directory written by 'music fit'")
    sample.option("--length", type=int, default=64, help="quarter notes to generate")
    sample.option("--out", required=True, help="output file: .mid, .musicxml or .png")
    sample.option("--soprano", help="melody file (MIDI / MusicXML, its top part) to harmonise (voices models)")
    sample.option("--n", type=int, default=1, help="pieces to write (OUT-1, OUT-2, ... when more than 1)")
    sample.option("--temperature", type=float, default=1.0, help="sampling temperature")
    sample.option("--seed", type=int, help="random seed")
    sample.option("--plot", help="also draw the first piece as a piano-roll PNG")

    evaluate = command(sub, "evaluate", help="NLL (and harmonisation accuracy) beside the baselines",
                       func=run_evaluate)
    evaluate.option("--model", required=True, help="model directory written by 'music fit'")
    evaluate.option("--data", default="jsb", help="jsb / bach (their test split) or music files")


def run_fit(args: argparse.Namespace) -> int:
    from lstmkit.tasks.music.api import Music

    task = Music(args.config_obj, args.train_config).fit(args.data, val=args.val_data)
    path = task.save(args.out)
    print_summary("music fit", {task.kind: task.val_metrics or _last_val(task)}, files={"model": path},
                  notes=task.fit_summary())
    return 0


def _last_val(task: Any) -> dict[str, float]:
    metrics = task.fit_results[-1].metrics if task.fit_results else {}
    return {k: v for k, v in metrics.items() if k.startswith("val")}


def _numbered(path: Path, i: int, n: int) -> Path:
    return path if n == 1 else path.with_name(f"{path.stem}-{i + 1}{path.suffix}")


def run_sample(args: argparse.Namespace) -> int:
    from lstmkit.tasks.music.api import Music

    task = Music.load(args.model)
    pieces = task.sample(length=args.length, n=args.n, soprano=args.soprano,
                         temperature=args.temperature, seed=args.seed)
    out = Path(args.out)
    files = {f"piece {i + 1}": task.write(p, _numbered(out, i, len(pieces))) for i, p in enumerate(pieces)}
    if args.plot:
        files["piano roll"] = task.write(pieces[0], args.plot)
    print_summary("music sample", files=files)
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from lstmkit.tasks.music.api import Music

    task = Music.load(args.model)
    print_summary("music evaluate", task.evaluate(args.data))
    return 0
