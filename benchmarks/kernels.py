"""Fused CPU kernels against torch.nn and the reference backend (issue 3).

Times torch.nn.LSTM / GRU, lstmkit ``reference``, ``cpu`` and ``auto`` side by
side (interleaved repeats, medians), each LSTM option alone, the streaming
path and peak memory; prints Markdown tables and writes
benchmarks/results/kernels.json. The engine is
``lstmkit.benchmark`` (also ``lstmkit bench``).

    .venv/bin/python benchmarks/kernels.py            # the full grid (~20-40 min on a busy 2-core box)
    .venv/bin/python benchmarks/kernels.py --quick    # a smoke run
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lstmkit.benchmark import add_arguments, main_from_args


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser, out_default=str(Path(__file__).resolve().parent / "results" / "kernels.json"))
    args = parser.parse_args(argv)
    return main_from_args(args, "python benchmarks/kernels.py " + " ".join(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    raise SystemExit(main())
