"""Fused CPU kernels against torch.nn and the reference backend (issues 3 and 19).

Two runs, both printing Markdown tables and writing JSON:

- the kernel grid (default; the engine is ``lstmkit.benchmark``, also
  ``lstmkit bench``): torch.nn.LSTM / GRU, lstmkit ``reference``, ``cpu`` and
  ``auto`` side by side (interleaved repeats, medians), each LSTM option alone,
  the streaming path and peak memory -> benchmarks/results/kernels.json;
- ``--sweep``: the thread sweep of issue 19 -> benchmarks/results/kernels_threads.json.
  At every thread count in 1, 2, 4, 8, 16 that the machine has, and every shape,
  lstmkit ``auto`` (what a user gets) for the standard LSTM and GRU and each
  LSTM option alone, in training (forward + backward, the input requiring a
  gradient, ``train()``) and in inference (``eval()`` under ``no_grad``: the
  inference-with-options table), each as a ratio to torch.nn.LSTM / GRU timed
  in the same process, interleaved, medians over the repeats. Each block
  records the load average (``os.getloadavg``) before and after it, and the
  in-step team of the LSTM kernels and how it splits a step (``lstm_team``:
  its size, whole rows per thread or hidden units).

    .venv/bin/python benchmarks/kernels.py            # the full grid (~20-40 min on a busy 2-core box)
    .venv/bin/python benchmarks/kernels.py --quick    # a smoke run (kernels.quick.json)
    .venv/bin/python benchmarks/kernels.py --sweep    # the thread sweep (< 10 min on a quiet 2-core box)
    .venv/bin/python benchmarks/kernels.py --sweep --quick   # its smoke run (kernels_threads.quick.json)

Targets (issue 19): standard LSTM / GRU training <= 1.0 and every option <= 1.3
at every thread count; inference with any option <= 1.3.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from _common import result_path

from lstmkit.benchmark import (
    OPTIONS,
    _module,
    _shape,
    add_arguments,
    machine,
    main_from_args,
    write_json_atomic,
)

SWEEP_SHAPES = ((100, 32, 128, 128), (200, 16, 256, 256), (100, 64, 512, 512), (50, 8, 32, 32))
SWEEP_THREADS = (1, 2, 4, 8, 16)
SWEEP_TARGETS = {"standard_train": 1.0, "option_train": 1.3, "option_infer": 1.3}
STANDARD = ("lstm", "gru")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser, out_default=None,
                  out_help="JSON output (default results/kernels.json, with --sweep results/kernels_threads.json; "
                           "--quick: *.quick.json)")  # fmt: skip
    parser.add_argument("--sweep", action="store_true",
                        help="the thread sweep (training and inference with options, ratios to torch.nn at "
                             "1, 2, 4, 8, 16 threads where the machine has them) instead of the kernel grid")
    parser.add_argument("--sweep-threads", nargs="+", type=int, default=None,
                        help="thread counts of --sweep (default: those of 1 2 4 8 16 up to the core count)")
    parser.add_argument("--sweep-repeats", type=int, default=5, help="timed repeats of --sweep (medians)")
    parser.add_argument("--sweep-shapes", nargs="+", type=_shape, default=None, metavar="T,B,I,H",
                        help="shapes of --sweep (default: " + " ".join(",".join(map(str, s)) for s in SWEEP_SHAPES) + ")")
    return parser


def output_path(args: argparse.Namespace) -> Path:
    return result_path("kernels_threads" if args.sweep else "kernels", args.out, args.quick)


# ---------------------------------------------------------------------------- the thread sweep
def _contestants(shape: tuple[int, int, int, int], options: tuple[str, ...]) -> dict[str, tuple[str, torch.nn.Module]]:
    """name -> (family, module): torch.nn, lstmkit "auto" standard and each option alone."""
    size = (shape[2], shape[3])
    out = {f"{f}/torch": (f, _module(f, "torch", size, {})) for f in STANDARD}
    out.update({f"{f}/auto": (f, _module(f, "auto", size, {})) for f in STANDARD})
    out.update({f"{o}/auto": ("lstm", _module("lstm", "auto", size, OPTIONS[o])) for o in options})
    return out


def _runner(module: torch.nn.Module, x: torch.Tensor, mode: str) -> Callable[[], None]:
    if mode == "infer":  # a model in evaluation mode under no_grad
        def infer() -> None:
            module.eval()
            with torch.no_grad():
                module(x)
        return infer
    x_grad = x.detach().clone().requires_grad_(True)

    def train() -> None:  # the input needs dx: an LSTM that is not a model's first layer
        module.train()
        module.zero_grad(set_to_none=True)
        x_grad.grad = None
        module(x_grad)[0].sum().backward()
    return train


def _kernels() -> Any | None:
    """The compiled extension, or None when it is not built (the sweep then times "auto" as it falls back)."""
    from lstmkit.kernels.cpu import _loader

    return _loader.load(build=False)


def _split(shape: tuple[int, int, int, int]) -> dict | None:
    """How the plain LSTM's forward splits its steps at this shape and thread count (team.h):
    whole rows per thread or hidden units, and the steps whose inputs a thread projects at once."""
    ext = _kernels()
    if ext is None:
        return None
    _, batch, _, hid = shape
    threads, own_rows, proj_steps = ext.lstm_team(batch, hid, hid, False, False, False, False)
    return {"threads": int(threads), "by": "one thread" if threads == 1 else ("rows" if own_rows else "units"),
            "proj_steps": int(proj_steps)}


def _gemm_probe(shape: tuple[int, int, int, int], reps: int = 20) -> dict | None:
    """The LSTM's per-step recurrent GEMM (B x 4H x H) with the register-blocked kernel and
    with torch's BLAS, best of ``reps`` (µs): why inference keeps the register-blocked kernel."""
    ext = _kernels()
    if ext is None:
        return None
    _, batch, _, hid = shape
    blocked, blas, found = ext.gemm_probe(batch, 4 * hid, hid, reps)
    return {"m_n_k": [batch, 4 * hid, hid], "blocked_us": blocked, "blas_us": blas, "blas_found": bool(found)}


def sweep_block(shape: tuple[int, int, int, int], threads: int, repeats: int, options: tuple[str, ...],
                seed: int = 0) -> dict:  # fmt: skip
    """Every contestant in both modes at one shape and thread count, interleaved."""
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    load_before = os.getloadavg()
    x = torch.randn(shape[0], shape[1], shape[2])
    group = _contestants(shape, options)
    runs = {(name, mode): _runner(mod, x, mode) for name, (_, mod) in group.items() for mode in ("train", "infer")}
    for fn in runs.values():  # warm-up
        fn()
    times: dict[tuple[str, str], list[float]] = {k: [] for k in runs}
    for _ in range(repeats):
        for key, fn in runs.items():
            start = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - start)
    rows = []
    for (name, mode), ts in times.items():
        family = group[name][0]
        base = statistics.median(times[(f"{family}/torch", mode)])
        rows.append({"shape": list(shape), "threads": threads, "contestant": name, "mode": mode,
                     "median_s": statistics.median(ts), "ratio": statistics.median(ts) / base})  # fmt: skip
    split = _split(shape)
    return {"shape": list(shape), "threads": threads, "team": None if split is None else split["threads"],
            "split": split,
            "gemm_probe": _gemm_probe(shape),
            "loadavg_before": load_before, "loadavg_after": os.getloadavg(), "rows": rows}  # fmt: skip


def _target(row: dict) -> tuple[str, float] | None:
    name, mode = row["contestant"], row["mode"]
    if name.endswith("/torch"):
        return None
    if name.split("/")[0] in STANDARD:
        return ("standard_train", SWEEP_TARGETS["standard_train"]) if mode == "train" else None
    key = f"option_{mode}"
    return key, SWEEP_TARGETS[key]


def sweep_summary(blocks: list[dict]) -> dict:
    """Worst ratio per target family and thread count, and every miss with its figure."""
    worst: dict[str, dict[str, float]] = {}
    misses = []
    for block in blocks:
        for row in block["rows"]:
            target = _target(row)
            if target is None:
                continue
            key, limit = target
            per = worst.setdefault(str(row["threads"]), {})
            per[key] = max(per.get(key, 0.0), row["ratio"])
            if row["ratio"] > limit:
                misses.append({"threads": row["threads"], "shape": row["shape"], "contestant": row["contestant"],
                               "mode": row["mode"], "ratio": round(row["ratio"], 3), "target": limit,
                               "loadavg_1min": round(block["loadavg_before"][0], 2)})  # fmt: skip
    return {"worst": worst, "targets": SWEEP_TARGETS, "misses": misses}


def sweep_tables(result: dict) -> str:
    """One table per shape: contestant x thread count, 'train / infer' ratios to torch.nn."""
    threads = sorted({b["threads"] for b in result["blocks"]})
    lines = []
    for shape in dict.fromkeys(tuple(b["shape"]) for b in result["blocks"]):
        blocks = {b["threads"]: b for b in result["blocks"] if tuple(b["shape"]) == shape}
        loads = ", ".join(f"{t}: {blocks[t]['loadavg_before'][0]:.1f}" for t in threads if t in blocks)
        teams = ", ".join(f"{t}: {blocks[t]['team']}" + (f" ({s['by']})" if (s := blocks[t].get("split")) else "")
                          for t in threads if t in blocks)
        probes = ", ".join(f"{t}: {p['blocked_us']:.0f} / {p['blas_us']:.0f}" for t in threads
                           if t in blocks and (p := blocks[t]["gemm_probe"]) is not None)
        lines += [f"\n### {shape}: ratio to torch.nn (train / infer), lstmkit auto\n",
                  f"Load average (1 min) per thread count: {loads}; LSTM in-step team size: {teams}; "
                  f"recurrent GEMM µs, register-blocked / BLAS: {probes}.\n",
                  "| contestant | " + " | ".join(f"{t} thr" for t in threads) + " |",
                  "|---|" + "---:|" * len(threads)]  # fmt: skip
        names = dict.fromkeys(r["contestant"] for b in blocks.values() for r in b["rows"])
        for name in names:
            cells = []
            for t in threads:
                by = {r["mode"]: r for r in blocks.get(t, {"rows": []})["rows"] if r["contestant"] == name}
                if name.endswith("/torch"):
                    cells.append(" / ".join(f"{by[m]['median_s'] * 1e3:.1f} ms" for m in ("train", "infer") if m in by))
                else:
                    cells.append(" / ".join(f"{by[m]['ratio']:.2f}" for m in ("train", "infer") if m in by))
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("\nWorst ratios: " + json.dumps(result["summary"]["worst"]))
    lines.append(f"Misses: {len(result['summary']['misses'])}")
    return "\n".join(lines)


def run_sweep(args: argparse.Namespace, command: str) -> dict:
    cores = os.cpu_count() or 1
    if args.quick:
        shapes, threads, repeats, options = ((20, 4, 16, 16),), (1,), 2, tuple(args.options[:2])
    else:
        shapes, repeats, options = tuple(args.sweep_shapes or SWEEP_SHAPES), args.sweep_repeats, tuple(args.options)
        threads = tuple(args.sweep_threads or [t for t in SWEEP_THREADS if t <= cores])
    if repeats < 1 or any(t < 1 for t in threads):
        raise ValueError("--sweep-repeats and --sweep-threads: expected positive integers")
    started = time.time()
    result: dict[str, Any] = {
        "command": command, "machine": machine(), "shapes": [list(s) for s in shapes], "threads": list(threads),
        "repeats": repeats, "options": list(options), "dtype": "float32",
        "modes": {"train": "train(): forward + backward of output.sum(), the input requires a gradient",
                  "infer": "eval() under torch.no_grad(): inference (options included)"},
        "selection": {"protocol": "a timing benchmark: nothing is trained or selected; shapes, thread counts, "
                                  "repeats and contestants are fixed in benchmarks/kernels.py",
                      "validation_scores": None},
    }  # fmt: skip
    before = torch.get_num_threads()
    try:
        result["blocks"], result["complete"] = [], False
        for t in threads:
            for s in shapes:
                result["blocks"].append(sweep_block(s, t, repeats, options))
                result["summary"] = sweep_summary(result["blocks"])
                write_json_atomic(args.out, result)  # after every block: a run cut short keeps what it measured
                print(f"sweep: {s} at {t} thread(s) done, load {os.getloadavg()[0]:.1f}, "
                      f"{time.time() - started:.0f} s", file=sys.stderr, flush=True)
    finally:
        torch.set_num_threads(before)
    result["summary"] = sweep_summary(result["blocks"])
    result["complete"] = True
    result["machine"]["loadavg_at_end"] = os.getloadavg()
    result["seconds"] = time.time() - started
    write_json_atomic(args.out, result)
    return result


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.out = str(output_path(args))
    command = "python benchmarks/kernels.py " + " ".join(sys.argv[1:] if argv is None else argv)
    if args.sweep:
        result = run_sweep(args, command)
        print(sweep_tables(result))
        print(f"\nwrote {args.out}")
        return 0
    return main_from_args(args, command)


if __name__ == "__main__":
    raise SystemExit(main())
