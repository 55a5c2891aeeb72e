"""``lstmkit music fit | sample | evaluate``: polyphonic chorales, a thin shell over :class:`Music`.

* ``fit --data jsb|bach|PATH [--val-data ...] --out MODEL_DIR``: ``jsb`` is the
  JSB Chorales split (train, validated on valid), ``bach`` music21's
  four-part chorales, PATH a MIDI / MusicXML file or folder. Every field of
  the ``model`` and ``data`` config sections is a flag (``--kind``,
  ``--hidden-size``, ``--transpose``, ...) and a YAML key; ``--print-config``
  shows the effective run and exits.
* ``sample --model MODEL_DIR --length 64 --out chorale.mid``: new music
  (``.mid``, ``.musicxml`` or ``.png``); ``--soprano melody.xml``
  harmonises a melody (voices models).
* ``evaluate --model MODEL_DIR --data jsb``: the model beside its baselines.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from lstmkit.commands._common import (
    add_parser,
    add_train_arguments,
    print_summary,
    train_config_from_args,
)

SECTIONS = ("model", "data")


def _section_classes() -> dict[str, type]:
    from lstmkit.tasks.music.config import MusicDataConfig, MusicModelConfig

    return {"model": MusicModelConfig, "data": MusicDataConfig}


def _add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per field of the config sections, its help and choices from the field."""
    from lstmkit.tasks.configs import field_flag, field_help, field_type

    for section, cls in _section_classes().items():
        group = parser.add_argument_group(section)
        for f in dataclasses.fields(cls):
            ft = field_type(cls, f.name)
            kwargs: dict[str, Any] = {"dest": f"{section}__{f.name}", "default": f.default,
                                      "help": field_help(f)}
            if ft.base is bool:
                kwargs["action"] = argparse.BooleanOptionalAction
            else:
                kwargs["type"] = ft.base
                if f.metadata.get("choices"):
                    kwargs["choices"] = f.metadata["choices"]
            group.add_argument(f"--{field_flag(f)}", **kwargs)


def _config_from_args(args: argparse.Namespace) -> Any:
    from lstmkit.tasks.music.config import MusicConfig

    raw: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
    for key, value in vars(args).items():
        section, _, name = key.partition("__")
        if section in raw and name:
            raw[section][name] = value
    return MusicConfig.from_dict(raw)


def register(subparsers: Any) -> None:
    from lstmkit.tasks.music.api import Music

    parser = subparsers.add_parser("music", help="music generation: fit, sample, evaluate")
    sub = parser.add_subparsers(dest="music_command", metavar="ACTION", required=True)

    fit = add_parser(sub, "fit", help="train a chorale model", func=run_fit)
    fit.add_argument("--data", required=True, help="jsb, bach, or a MIDI / MusicXML file or folder")
    fit.add_argument("--val-data", default=None,
                     help="validation music (default for jsb / bach: their valid split)")
    fit.add_argument("--out", required=False, default=None, help="model directory to write")
    fit.add_argument("--print-config", action="store_true", help="print the effective run as YAML and exit")
    _add_config_arguments(fit)
    add_train_arguments(fit, **Music.TRAIN_DEFAULTS)

    sample = add_parser(sub, "sample", help="write new music (or harmonise a soprano)", func=run_sample)
    sample.add_argument("--model", required=True, help="model directory written by 'music fit'")
    sample.add_argument("--length", type=int, default=64, help="quarter notes to generate")
    sample.add_argument("--out", required=True, help="output file: .mid, .musicxml or .png")
    sample.add_argument("--soprano", default=None,
                        help="melody file (MIDI / MusicXML, its top part) to harmonise (voices models)")
    sample.add_argument("--n", type=int, default=1, help="pieces to write (OUT-1, OUT-2, ... when > 1)")
    sample.add_argument("--temperature", type=float, default=1.0, help="sampling temperature")
    sample.add_argument("--seed", type=int, default=None, help="random seed")
    sample.add_argument("--plot", default=None, help="also draw the (first) piece as a piano roll PNG")

    evaluate = add_parser(sub, "evaluate", help="NLL (and harmonisation accuracy) beside the baselines",
                          func=run_evaluate)
    evaluate.add_argument("--model", required=True, help="model directory written by 'music fit'")
    evaluate.add_argument("--data", default="jsb", help="jsb / bach (their test split) or files")


def run_fit(args: argparse.Namespace) -> int:
    from lstmkit.tasks.music.api import Music

    task = Music(_config_from_args(args), train_config_from_args(args))
    if args.print_config:
        import yaml

        sys.stdout.write(yaml.safe_dump(task.config_record(), sort_keys=False))
        return 0
    if not args.out:
        raise ValueError("music fit: --out MODEL_DIR is required")
    task.fit(args.data, val=args.val_data)
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
