"""What every subcommand shares: the end summary, and the parser helpers of the small commands.

The task commands (``forecast``, ``detect``, ``classify``, ``tag``,
``generate``, ``translate``, ``music``, ``seqclass``) build their parsers with
:func:`lstmkit.commands._options.command`: flags and YAML keys generated from
the config dataclasses, ``--print-config``, deprecated aliases.

``demo`` and ``bench`` use :func:`add_parser` and the flat YAML of
:func:`apply_yaml_defaults` (a mapping from option names to values that
become the parser's defaults; it leaves the generated commands alone).
:func:`add_train_arguments` / :func:`train_config_from_args` add the
:class:`~lstmkit.train.TrainConfig` options to such a hand-built parser; no
command of lstmkit's needs them any more, and they go in the next release.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from lstmkit.commands._options import SPEC_KEY, CommandError

CONFIG_DEST = "config"
__all__ = ["CommandError", "add_parser", "add_train_arguments", "apply_yaml_defaults", "format_table",
           "load_yaml_config", "print_summary", "train_config_from_args"]


# --------------------------------------------------------------------------- parsers
def add_parser(
    subparsers: Any,
    name: str,
    *,
    help: str,
    description: str | None = None,
    func: Callable[[argparse.Namespace], int] | None = None,
) -> argparse.ArgumentParser:
    """Add a subcommand parser with ``--config`` and (optionally) its ``func``."""
    parser = subparsers.add_parser(
        name,
        help=help,
        description=description or help,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--config",
        dest=CONFIG_DEST,
        metavar="FILE.yaml",
        default=None,
        help="YAML file of option values (its values are defaults: the command line overrides them)",
    )
    if func is not None:
        parser.set_defaults(func=func)
    return parser


def add_train_arguments(parser: argparse.ArgumentParser, **defaults: Any) -> None:
    """Add the :class:`~lstmkit.train.TrainConfig` options to ``parser``.

    ``defaults``: TrainConfig field values that this command prefers (e.g.
    ``max_epochs=50``), still overridable from YAML and the command line.
    """
    from lstmkit.train.config import TrainConfig

    base = TrainConfig().replace(**defaults) if defaults else TrainConfig()
    group = parser.add_argument_group("training")
    group.add_argument("--epochs", dest="max_epochs", type=int, default=base.max_epochs,
                       help="maximum passes over the training data")
    group.add_argument("--max-steps", type=int, default=base.max_steps,
                       help="maximum optimizer steps (-1 = no limit)")
    group.add_argument("--lr", type=float, default=base.lr, help="peak learning rate (AdamW)")
    group.add_argument("--weight-decay", type=float, default=base.weight_decay,
                       help="AdamW decoupled weight decay")
    group.add_argument("--schedule", choices=("constant", "cosine", "linear", "plateau"),
                       default=base.schedule, help="learning-rate schedule")
    group.add_argument("--warmup-steps", type=int, default=base.warmup_steps,
                       help="linear warm-up steps")
    group.add_argument("--clip", dest="gradient_clip_val", type=_optional_float,
                       default=base.gradient_clip_val,
                       help="clip the gradient 2-norm to this value ('none' = off)")
    group.add_argument("--patience", dest="early_stopping_patience", type=_optional_int,
                       default=base.early_stopping_patience,
                       help="early stopping after this many epochs without improvement ('none' = off)")
    group.add_argument("--seed", type=int, default=base.seed, help="random seed")
    group.add_argument("--deterministic", action=argparse.BooleanOptionalAction,
                       default=base.deterministic, help="deterministic algorithms")
    group.add_argument("--accelerator", choices=("auto", "cpu", "gpu"), default=base.accelerator,
                       help="device type")
    group.add_argument("--devices", type=int, default=base.devices,
                       help="processes/devices; > 1 trains data-parallel (DDP, gloo on CPU)")
    group.add_argument("--precision", choices=("32", "64", "bf16-mixed", "16-mixed", "auto"),
                       default=base.precision, help="numeric precision")
    group.add_argument("--run-dir", default=base.run_dir,
                       help="directory for checkpoints and logs (default: a temporary one)")
    group.add_argument("--resume", default=base.resume,
                       help="'last' (continue the run in --run-dir) or a .ckpt path")
    group.add_argument("--progress", action=argparse.BooleanOptionalAction, default=base.progress,
                       help="show a progress bar")


def train_config_from_args(args: argparse.Namespace, **overrides: Any) -> Any:
    """The :class:`~lstmkit.train.TrainConfig` the options of :func:`add_train_arguments` say."""
    from lstmkit.train.config import TrainConfig

    names = ("max_epochs", "max_steps", "lr", "weight_decay", "schedule", "warmup_steps",
             "gradient_clip_val", "early_stopping_patience", "seed", "deterministic",
             "accelerator", "devices", "precision", "run_dir", "resume", "progress")
    values = {name: getattr(args, name) for name in names if hasattr(args, name)}
    values.update(overrides)
    return TrainConfig(**values)


def _optional_float(text: str) -> float | None:
    return None if str(text).lower() in ("none", "off", "") else float(text)


def _optional_int(text: str) -> int | None:
    return None if str(text).lower() in ("none", "off", "") else int(text)


# --------------------------------------------------------------------------- YAML configs
def _find_config_path(argv: Sequence[str]) -> str | None:
    path = None
    for i, token in enumerate(argv):
        if token == "--":
            break
        if token == "--config" and i + 1 < len(argv):
            path = argv[i + 1]
        elif token.startswith("--config="):
            path = token.split("=", 1)[1]
    return path


def _leaf_parser(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.ArgumentParser:
    """The (sub)parser that the positional command words in ``argv`` select."""
    current = parser
    for token in argv:
        actions = [a for a in current._actions if isinstance(a, argparse._SubParsersAction)]
        if not actions:
            break
        if token in actions[0].choices:
            current = actions[0].choices[token]
    return current


def load_yaml_config(path: str | os.PathLike) -> dict[str, Any]:
    """Read a YAML mapping of option values."""
    import yaml

    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"--config: no such file '{file}'")
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        first = " ".join(str(exc).split())
        raise CommandError(f"--config '{file}' is not valid YAML: {first}") from None
    except UnicodeDecodeError as exc:
        raise CommandError(f"--config '{file}' is not valid UTF-8 (byte 0x{exc.object[exc.start]:02x} at "
                           f"offset {exc.start}); re-encode it as UTF-8") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise CommandError(f"--config '{file}': expected a mapping of option: value, got {type(data).__name__}")
    return data


def _coerce(action: argparse.Action, value: Any, where: str) -> Any:
    """A YAML value checked and converted as argparse would treat it on the command line."""
    if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction,
                           argparse.BooleanOptionalAction)):
        if not isinstance(value, bool):
            raise CommandError(f"{where}: expected true or false, got {value!r}")
        return value
    if action.nargs in ("*", "+") or isinstance(action.nargs, int):
        items = value if isinstance(value, list) else [value]
        return [_coerce_one(action, v, where) for v in items]
    return _coerce_one(action, value, where)


def _coerce_one(action: argparse.Action, value: Any, where: str) -> Any:
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise CommandError(f"{where}: expected a single value, got {value!r}")
    if action.type is int and isinstance(value, float) and not value.is_integer():
        raise CommandError(f"{where}: expected an integer, got {value!r}")
    if action.type is not None:
        try:
            value = action.type(value if not isinstance(value, bool) else str(value))
        except (TypeError, ValueError, argparse.ArgumentTypeError) as exc:
            raise CommandError(f"{where}: invalid value {value!r} ({exc})") from None
    elif not isinstance(value, str):
        value = str(value)
    if action.choices is not None and value not in action.choices:
        raise CommandError(f"{where}: {value!r} is not one of {list(action.choices)}")
    return value


def apply_yaml_defaults(parser: argparse.ArgumentParser, argv: Sequence[str]) -> None:
    """If ``argv`` names ``--config FILE``, make its values the defaults of the selected subparser."""
    path = _find_config_path(argv)
    if path is None:
        return
    leaf = _leaf_parser(parser, argv)
    if leaf.get_default(SPEC_KEY) is not None:  # a generated command reads its YAML itself
        return
    values = load_yaml_config(path)
    by_dest: dict[str, argparse.Action] = {}
    by_flag: dict[str, argparse.Action] = {}
    for action in leaf._actions:
        if action.dest in (CONFIG_DEST, "help") or isinstance(action, argparse._SubParsersAction):
            continue
        by_dest[action.dest] = action
        for flag in action.option_strings:
            by_flag[flag.lstrip("-").replace("-", "_")] = action
    defaults: dict[str, Any] = {}
    for key, value in values.items():
        name = str(key).replace("-", "_")
        action = by_flag.get(name) or by_dest.get(name)
        if action is None:
            valid = sorted(k.replace("_", "-") for k in by_flag) + sorted(
                a.dest for a in by_dest.values() if not a.option_strings
            )
            raise CommandError(
                f"--config '{path}': unknown option '{key}' for '{leaf.prog}'; valid: {', '.join(valid)}"
            )
        defaults[action.dest] = _coerce(action, value, f"--config '{path}': option '{key}'")
        action.required = False  # the YAML supplied it
        if not action.option_strings:  # a positional the YAML fills: make it optional
            action.nargs = "?" if action.nargs is None else action.nargs
    leaf.set_defaults(**defaults)


# --------------------------------------------------------------------------- the end summary
def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
            return f"{value:.3e}"
        return f"{value:.4f}"
    return str(value)


def format_table(rows: Mapping[str, Mapping[str, Any]], columns: Iterable[str] | None = None) -> str:
    """A plain-text table: one row per key of ``rows``, one column per metric.

    >>> print(format_table({"lstm": {"mae": 1.0}, "naive": {"mae": 2.5}}))
    model  mae
    -----  ------
    lstm   1.0000
    naive  2.5000
    """
    if columns is None:
        columns = []
        for row in rows.values():
            columns.extend(c for c in row if c not in columns)
    columns = list(columns)
    cells = [["model", *columns]] + [
        [str(name), *(_fmt(row.get(c)) for c in columns)] for name, row in rows.items()
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(cells[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def print_summary(
    title: str,
    metrics: Mapping[str, Mapping[str, Any]] | Mapping[str, Any] | None = None,
    files: Mapping[str, str | os.PathLike] | None = None,
    notes: Iterable[str] = (),
    stream: TextIO | None = None,
) -> None:
    """Print the end-of-run summary: a title, a metrics table, where the files went.

    ``metrics``: ``{row: {metric: value}}`` (e.g. one row per model beside its
    baselines) or a flat ``{metric: value}`` (one row named after the title).
    ``files``: ``{what: path}``. ``notes``: extra lines at the end.
    """
    out = stream if stream is not None else sys.stdout
    print(file=out)
    print(f"== {title} ==", file=out)
    if metrics:
        nested = all(isinstance(v, Mapping) for v in metrics.values())
        rows = metrics if nested else {title: metrics}
        print(format_table(rows), file=out)  # type: ignore[arg-type]
    if files:
        width = max(len(k) for k in files)
        print("files:", file=out)
        for what, path in files.items():
            print(f"  {what.ljust(width)}  {os.fspath(path)}", file=out)
    for line in notes:
        print(line, file=out)
    out.flush()


def write_metrics(out: str | os.PathLike | None, record: Mapping[str, Any]) -> dict[str, Path]:
    """Write ``record`` to ``OUT/metrics.json`` all or nothing (nothing when ``out`` is None);
    returns the ``files`` mapping for :func:`print_summary`."""
    if not out:
        return {}
    from lstmkit.io import atomic_dir, atomic_write_json

    with atomic_dir(Path(out)) as tmp:
        atomic_write_json(tmp / "metrics.json", dict(record))
    return {"metrics": Path(out) / "metrics.json"}
