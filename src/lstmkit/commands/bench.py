"""``lstmkit bench``: the fused CPU kernels against torch.nn and the reference backend.

Same options and output as ``benchmarks/kernels.py`` (the engine is
:mod:`lstmkit.kernels.cpu.benchmark`); this module only parses arguments.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from lstmkit.commands._common import add_parser


def register(subparsers: Any) -> None:
    from lstmkit.kernels.cpu.benchmark import add_arguments

    parser = add_parser(
        subparsers,
        "bench",
        help="time the fused 'cpu' kernels against torch.nn and the reference backend",
        func=run,
    )
    add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from lstmkit.kernels.cpu.benchmark import main_from_args

    return main_from_args(args, "lstmkit " + " ".join(sys.argv[1:]))
