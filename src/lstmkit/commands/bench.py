"""``lstmkit bench``: the fused CPU kernels against torch.nn and the reference backend.

Same options and tables as ``benchmarks/kernels.py`` (the engine is
:mod:`lstmkit.benchmark`); this module only parses arguments. ``--out`` is the
run's directory, like every command's: the results go to
``OUT/results/kernels.json``, never into a ``benchmarks/`` folder of whatever
directory the command runs in.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from lstmkit.commands._common import add_parser

DEFAULT_OUT = "lstmkit-bench"


def register(subparsers: Any) -> None:
    from lstmkit.benchmark import add_arguments

    parser = add_parser(
        subparsers,
        "bench",
        help="time the fused 'cpu' kernels against torch.nn and the reference backend",
        func=run,
    )
    add_arguments(parser, out_default=DEFAULT_OUT,
                  out_help="run directory; the results go to OUT/results/kernels.json")


def results_path(out: str) -> str:
    """Where a run with ``--out out`` writes its JSON."""
    return str(Path(out) / "results" / "kernels.json")


def run(args: argparse.Namespace) -> int:
    from lstmkit.benchmark import main_from_args

    args.out = results_path(args.out)
    return main_from_args(args, "lstmkit " + " ".join(sys.argv[1:]))
