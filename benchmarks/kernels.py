"""Fused CPU kernels against torch.nn and the reference backend (issue 3).

Times torch.nn.LSTM / GRU, lstmkit ``reference``, ``cpu`` and ``auto`` side by
side (interleaved repeats, medians), each LSTM option alone, the streaming
path and peak memory; prints Markdown tables and writes
benchmarks/results/kernels.json. The engine is
``lstmkit.benchmark`` (also ``lstmkit bench``).

    .venv/bin/python benchmarks/kernels.py            # the full grid (~20-40 min on a busy 2-core box)
    .venv/bin/python benchmarks/kernels.py --quick    # a smoke run (kernels.quick.json)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from _common import result_path

from lstmkit.benchmark import add_arguments, main_from_args


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser, out_default=None,
                  out_help="JSON output (default results/kernels.json; --quick: *.quick.json)")
    return parser


def output_path(args: argparse.Namespace) -> Path:
    return result_path("kernels", args.out, args.quick)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.out = str(output_path(args))
    return main_from_args(args, "python benchmarks/kernels.py " + " ".join(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    raise SystemExit(main())
