"""How the fused LSTM kernels split a step across threads: whole rows against hidden units.

An LSTM layer call on ``cpu`` runs one team of threads (``kernels/cpu/team.h``).
With whole batch rows per thread no thread ever waits for another, but each
reads every recurrent weight at every step; split by hidden units, each reads
only its units' columns (layer norm: its GEMM columns) and the team meets at
barriers. The kernels choose rows when each thread keeps two rows and W_hh (and
W_hr) fit in 512 KiB or not even one thread's slice does, else units. This
script times both splits, forced through ``LSTMKIT_CPU_SPLIT`` (read at every
call), for the plain, the peephole and the layer-norm LSTM (``backend="cpu"``), training (forward + backward, input gradient) and
inference (``eval()`` under ``no_grad``), at each shape and thread count: the
two splits interleaved in one process, medians of ``--repeats`` rounds, with
the automatic choice (``lstm_team``) recorded beside them.

    .venv/bin/python benchmarks/kernels_split.py           # results/kernels_split.json
    .venv/bin/python benchmarks/kernels_split.py --quick   # one small shape, 2 repeats
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch
from _common import result_path

import lstmkit
from lstmkit.io import atomic_write_json
from lstmkit.kernels.cpu.functions import ext

SHAPES = ((100, 32, 128, 128), (200, 16, 256, 256), (100, 64, 512, 512))
SPLITS = ("rows", "units")
VARIANTS = {"lstm": {}, "peephole": {"peephole": True}, "layer_norm": {"layer_norm": True}}
ENV = "LSTMKIT_CPU_SPLIT"


def _shape(text: str) -> tuple[int, int, int, int]:
    parts = tuple(int(v) for v in text.split(","))
    if len(parts) != 4 or min(parts) < 1:
        raise argparse.ArgumentTypeError(f"expected T,B,I,H (positive integers), got {text!r}")
    return parts  # type: ignore[return-value]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", type=_shape, nargs="+", default=list(SHAPES), metavar="T,B,I,H")
    parser.add_argument("--threads", type=int, nargs="+", default=None,
                        help="thread counts (default: 2 4 8 16 up to the core count)")
    parser.add_argument("--repeats", type=int, default=9, help="interleaved rounds (medians)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: one small shape, 2 repeats")
    parser.add_argument("--out", default=None, help="JSON output (default results/kernels_split.json)")
    return parser


def output_path(args: argparse.Namespace) -> Path:
    return result_path("kernels_split", args.out, args.quick)


def _runner(module: torch.nn.Module, x: torch.Tensor, mode: str):
    if mode == "infer":
        module.eval()

        def infer():
            with torch.no_grad():
                module(x)
        return infer
    module.train()
    xg = x.clone().requires_grad_()

    def train():
        module.zero_grad(set_to_none=True)
        xg.grad = None
        module(xg)[0].sum().backward()
    return train


def time_block(shape: tuple[int, int, int, int], threads: int, repeats: int) -> dict:
    """Both splits of every variant and mode at one shape and thread count, interleaved."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    steps, batch, inp, hid = shape
    x = torch.randn(steps, batch, inp)
    runs = {}
    for name, opts in VARIANTS.items():
        module = lstmkit.LSTM(inp, hid, backend="cpu", **opts)
        for mode in ("train", "infer"):
            runs[(name, mode)] = _runner(module, x, mode)
    times: dict = {(key, split): [] for key in runs for split in SPLITS}
    try:
        for split in SPLITS:  # warm-up
            os.environ[ENV] = split
            for fn in runs.values():
                fn()
        for _ in range(repeats):
            for key, fn in runs.items():
                for split in SPLITS:
                    os.environ[ENV] = split
                    start = time.perf_counter()
                    fn()
                    times[(key, split)].append(time.perf_counter() - start)
    finally:
        os.environ.pop(ENV, None)
    team, own_rows, proj_steps = ext().lstm_team(batch, hid, hid, False, False, False, False)
    rows = []
    for name, mode in runs:
        med = {split: statistics.median(times[((name, mode), split)]) for split in SPLITS}
        rows.append({"variant": name, "mode": mode, "median_ms": {s: 1e3 * v for s, v in med.items()},
                     "rows_over_units": med["rows"] / med["units"]})
    return {"shape": list(shape), "threads": threads, "loadavg": os.getloadavg(),
            "auto": {"threads": int(team), "by": "rows" if own_rows else "units", "proj_steps": int(proj_steps)},
            "rows": rows}


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    cores = len(os.sched_getaffinity(0))
    threads = args.threads or [t for t in (2, 4, 8, 16) if t <= cores] or [2]
    shapes, repeats = ([(20, 8, 16, 32)], 2) if args.quick else (args.shapes, args.repeats)
    start = time.perf_counter()
    blocks = []
    for shape in shapes:
        for n in threads:
            block = time_block(tuple(shape), n, repeats)
            blocks.append(block)
            for row in block["rows"]:
                ms = row["median_ms"]
                print(f"{tuple(shape)} {n} thr {row['variant']:9s} {row['mode']:5s} rows {ms['rows']:8.2f} ms"
                      f"  units {ms['units']:8.2f} ms  rows/units {row['rows_over_units']:.2f}"
                      f"  (auto: {block['auto']['by']})", flush=True)
    report = {"selection": {"protocol": "a timing benchmark: the rule that picks whole rows (two rows per "
                                        "thread, and the recurrent weights within 512 KiB or no thread's "
                                        "slice within it) was set from these figures; nothing is trained",
                            "validation_scores": None},
              "command": "python benchmarks/kernels_split.py " + " ".join(sys.argv[1:] if argv is None else argv),
              "cores": cores, "torch": torch.__version__, "repeats": repeats, "quick": args.quick,
              "blocks": blocks, "seconds": time.perf_counter() - start}
    out = atomic_write_json(output_path(args), report)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
