"""Helpers shared by the ``generate`` and ``translate`` commands: the saved model given as ``--model``
(or, deprecated, as the first positional argument), and section overrides from command options."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any

from lstmkit.commands._options import CommandError


def model_options(cmd: Any, what: str) -> None:
    """``--model DIR`` and the deprecated positional ``MODEL_DIR`` of 0.1."""
    cmd.option("--model", help=f"a directory written by '{what} fit' (required; 0.1 took it as the first "
                               "positional argument, still read with a deprecation notice)",
               show_default=False)
    cmd.parser.add_argument("model_dir", nargs="?", default=None, help=argparse.SUPPRESS)


def model_dir(args: argparse.Namespace) -> str:
    """The model directory of ``--model`` or of the deprecated positional argument."""
    if args.model_dir is not None:
        print("lstmkit: warning: the model directory as a positional argument is deprecated and will be "
              "removed in the next release; use --model DIR", file=sys.stderr)
        if args.model is None:
            return args.model_dir
    if args.model is None:
        raise CommandError("the following arguments are required: --model")
    return args.model


def override(config: Any, section: str, args: argparse.Namespace, names: tuple[str, ...]) -> Any:
    """``config`` with the fields of ``section`` that ``args`` gives (not None) replaced."""
    changes = {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}
    if not changes:
        return config
    return dataclasses.replace(config, **{section: dataclasses.replace(getattr(config, section), **changes)})
