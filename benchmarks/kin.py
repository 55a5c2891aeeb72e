"""The LSTM and its neighbours on the same tasks with the same budget (issue 17).

Models (one registry entry each; a family member not built yet is reported as
"not available"): lstmkit's LSTM, minLSTM, minGRU, sLSTM, mLSTM, and two
baselines from :mod:`lstmkit.layers.neighbours` (a causal Transformer and an
LRU-style diagonal state-space model); a hidden Markov model (hmmlearn) where
the task has a likelihood or a forecast for it (character LM, forecasting).

Every neural model has 2 layers and a width chosen so that its total parameter
count (input map + layers + head) is the closest to that of the 2-layer LSTM at
the task's reference width; it trains with Adam at one learning rate, gradient
clipping 1, on the same batches, for the same number of steps or CPU seconds
(whichever ends first), one torch thread per process. Every cell (part, task,
T, model, seed) runs once per seed (``--seeds``, default 0 1 2); seed 0 is the
cell of the earlier one-seed runs (``_kin_cells`` says how seeds derive).
Cells run in ``--workers`` processes (``_kin_pool``), largest first; a cell
that fails is an error row, the run goes on; ``--deadline-s`` stops starting
cells. See ``SETTINGS`` for the budgets and ``_kin_tasks`` for the tasks.

    # the synthetic parts (lag + copy: 225 cells, ~5400 CPU-s) on a 16-core machine, no data files needed;
    # the kernel build first, so that the LSTM trains on its fused CPU kernels in every worker
    export PYTHONPATH=src PYTHONUNBUFFERED=1 LSTMKIT_CACHE_DIR=/tmp/kc
    python -m lstmkit.kernels.cpu.build && python benchmarks/kin.py --parts lag copy --seeds 0 1 2 \\
        --workers 16 --deadline-s 360 --out $OUT/kin_synthetic.json 2>&1 | tee $OUT/kin_synthetic.log
    # the data parts on the local box (Bible text, AirPassengers, hmmlearn)
    python benchmarks/kin.py --parts lm forecast cost --seeds 0 1 2 --workers 2 \\
        --out benchmarks/results/kin_local.json
    python benchmarks/kin.py --merge benchmarks/results/kin_synthetic.json \\
        benchmarks/results/kin_local.json --out benchmarks/results/kin.json
    python benchmarks/kin.py --quick                # a smoke run (seconds), writes *.quick.json
    python benchmarks/_kin_budget.py --workers 16   # CPU per training step of every cell -> budgets

Writes the JSON (and docs/img/kin_cost.png when the cost part runs); prints Markdown tables.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import torch
from _common import result_path
from _kin_cells import (
    FAMILIES,
    PROBLEMS,
    available,
    cell_label,
    cost_estimate,
    lm_plan_data,
    match_width,
    plan,
    run_cell,
    seasonal_naive_row,
)
from _kin_cost import streaming_cost, training_throughput
from _kin_pool import run_cells
from _kin_report import merge, summary, tables
from _kin_tasks import n_params

from lstmkit.io import atomic_write_json

__all__ = ["FAMILIES", "PROBLEMS", "SETTINGS", "available", "main", "match_width", "tables"]

PLOT = Path(__file__).resolve().parents[1] / "docs" / "img" / "kin_cost.png"
PARTS = ["lag", "copy", "lm", "forecast", "cost"]

# The full run's budgets were fixed before it from the CPU cost of one training step of each model at
# each T (one thread, measured on the 2-core box, no scores looked at): lag cells stop at 3000 steps or
# 20 CPU-s, copy cells at 3000 steps or 30 CPU-s, so that the 231 cells of lag + copy at 3 seeds need
# about 5400 CPU-s with evaluation (16 workers: about 6 min). A model whose single step at some T costs
# more than 1/20 of the cell budget gets a ceiling (cells above it are listed, not run): the Transformer
# on the long lags, 1.5 s per step at T = 1000 against 20 / 20 = 1 s.
SETTINGS = {
    "full": {"lag_lengths": [100, 200, 500, 1000], "lag_steps": 3000, "lag_cpu_s": 20, "lag_batch": 32,
             "lag_width": 32, "lag_test": 256,
             "copy_lengths": [64, 256, 1024], "copy_steps": 3000, "copy_cpu_s": 30, "copy_batch": 32,
             "copy_width": 64, "copy_K": 8, "copy_V": 8, "copy_test": 256,
             "ceilings": {"lag": {"transformer": 500}, "copy": {}},
             "lm_cpu_s": 60, "lm_width": 128, "lm_batch": 32, "lm_bptt": 128,
             "lm_train_books": ["Gen", "Matt", "Mark", "Luke", "John", "Acts"], "lm_val_books": ["Ruth"],
             "lm_test_books": ["Jonah", "Phil", "Jas"], "hmm_states": 32, "hmm_iter": 10, "hmm_chars": 200000,
             "fc_steps": 120, "fc_width": 32, "fc_eval_every": 10,
             "cost_train_lengths": [64, 256, 1024], "cost_contexts": [16, 64, 256, 1024, 4096],
             "lr": 3e-3, "seeds": [0, 1, 2]},
    "quick": {"lag_lengths": [30], "lag_steps": 3, "lag_cpu_s": 5, "lag_batch": 8, "lag_width": 8,
              "lag_test": 32, "copy_lengths": [16], "copy_steps": 3, "copy_cpu_s": 5, "copy_batch": 8,
              "copy_width": 16, "copy_K": 4, "copy_V": 4, "copy_test": 32, "ceilings": {"lag": {}, "copy": {}},
              "lm_cpu_s": 0.3, "lm_width": 16, "lm_batch": 4, "lm_bptt": 32,
              "lm_train_books": ["Ruth"], "lm_val_books": ["Jonah"], "lm_test_books": ["Obad"],
              "hmm_states": 4, "hmm_iter": 2, "hmm_chars": 2000,
              "fc_steps": 4, "fc_width": 8, "fc_eval_every": 2,
              "cost_train_lengths": [8], "cost_contexts": [4, 16], "lr": 3e-3, "seeds": [0]},
}
OVERRIDES = ("lag_lengths", "copy_lengths", "lag_steps", "lag_cpu_s", "copy_steps", "copy_cpu_s", "lm_cpu_s")

SELECTION = {
    "protocol": "all settings (widths by parameter matching, steps, CPU budgets, learning rate 3e-3, "
                "batch sizes, seeds 0 1 2) fixed before the committed run, the same for every model, no "
                "tuning; the step and CPU budgets of the synthetic parts were sized from measured CPU cost "
                "per training step (no scores) so that the grid fits the machine's time, after earlier "
                "one-seed runs (kin*_previous_run.json) had scored every test set; synthetic tasks score "
                "fresh test sequences from a separate generator seed; the forecasting models keep the "
                "training step with the best MASE on 1959 (validation), scored on 1960 (test); the "
                "language models' validation book (Ruth) is reported, not used for any choice",
}


def run_cost(classes, widths, s):
    out = {}
    for name, cls in classes.items():
        torch.manual_seed(0)
        w = widths[name]
        layer = cls(w, w, num_layers=2, batch_first=True)
        out[name] = {"width": w, "params": n_params(layer),
                     "train_positions_per_s": training_throughput(layer, w, s["cost_train_lengths"]),
                     "streaming": streaming_cost(layer, w, s["cost_contexts"])}
        print(f"cost {name}: {out[name]['train_positions_per_s']} positions/s; streaming "
              f"{ {t: r['ms_per_step'] for t, r in out[name]['streaming']['by_context'].items()} } ms",
              flush=True)
    return out



def plot_cost(cost, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for name, c in cost.items():
        ctx = sorted(c["streaming"]["by_context"], key=int)  # int keys, or str after a JSON round trip
        rows = [c["streaming"]["by_context"][t] for t in ctx]
        axes[0].plot([int(t) for t in ctx], [r["ms_per_step"] for r in rows], "o-", label=name)
        axes[1].plot([int(t) for t in ctx], [r["state_floats"] for r in rows], "o-", label=name)
        lengths = sorted(c["train_positions_per_s"], key=int)
        axes[2].plot([int(T) for T in lengths], [c["train_positions_per_s"][T] for T in lengths], "o-",
                     label=name)
    for ax, title in zip(axes, ("inference: ms per streamed step", "state held after t steps (floats)",
                                "training: positions per second")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_xlabel("context t")
    axes[1].set_xlabel("context t")
    axes[2].set_xlabel("sequence length T (batch 8)")
    axes[0].legend(fontsize=8)
    fig.suptitle("Cost vs sequence length, 2 layers, parameter-matched widths (char-LM budget), 1 CPU thread")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def cpu_model() -> str:
    """The CPU's model name (Linux ``/proc/cpuinfo``), else what ``platform`` knows."""
    info = Path("/proc/cpuinfo")
    if info.is_file():
        for line in info.read_text(errors="replace").splitlines():
            if line.lower().startswith("model name") and ":" in line:
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine_info(kernels: dict) -> dict:
    """Where a part ran: CPU, core count, library versions, and whether the LSTM had its fused kernels."""
    return {"processor": cpu_model(), "machine": platform.machine(),
            "cpu_count": os.cpu_count(), "torch": torch.__version__, "python": platform.python_version(),
            "lstm_cpu_kernels": kernels}


def cpu_kernels(build: bool) -> dict:
    """Make the fused CPU kernels ready before workers start (they then load the build)."""
    from lstmkit.kernels.cpu import _loader

    module = _loader.load(build=build)
    return {"ready": module is not None, "origin": _loader.origin(), "reason": _loader.reason()}


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a few steps of everything (smoke)")
    ap.add_argument("--models", nargs="+", default=list(FAMILIES), choices=list(FAMILIES))
    ap.add_argument("--parts", nargs="+", default=PARTS, choices=PARTS,
                    help="parts to run ('cost' uses the LM's parameter-matched widths, without training)")
    ap.add_argument("--seeds", type=int, nargs="+", default=None,
                    help="seeds of every cell (default 0 1 2; --quick: 0)")
    ap.add_argument("--workers", type=int, default=1, help="worker processes, one torch thread each")
    ap.add_argument("--deadline-s", type=float, default=None,
                    help="start no cell after this many seconds of wall time (the rest is listed as not_run)")
    ap.add_argument("--lag-lengths", type=int, nargs="+", default=None, help="override the long-lag T grid")
    ap.add_argument("--copy-lengths", type=int, nargs="+", default=None, help="override the selective-copy T grid")
    for key in ("lag_steps", "copy_steps"):
        ap.add_argument("--" + key.replace("_", "-"), type=int, default=None, help=f"override {key}")
    for key in ("lag_cpu_s", "copy_cpu_s", "lm_cpu_s"):
        ap.add_argument("--" + key.replace("_", "-"), type=float, default=None, help=f"override {key}")
    ap.add_argument("--plot", type=Path, default=None, help=f"cost plot (default {PLOT}; none for --quick)")
    ap.add_argument("--out", type=Path, default=None,
                    help="JSON output (default results/kin.json; --quick: *.quick.json)")
    ap.add_argument("--tables", type=Path, nargs="+", default=None, metavar="JSON",
                    help="only print the Markdown tables of existing results JSONs")
    ap.add_argument("--replot", type=Path, nargs="+", default=None, metavar="JSON",
                    help="only redraw the cost plot from the cost sections of existing JSONs "
                         "(the first file's entry wins for a model in several)")
    ap.add_argument("--merge", type=Path, nargs="+", default=None, metavar="JSON",
                    help="only join part-JSONs of separate runs into --out (each part keeps its machine; "
                         "*.quick.json when any input is a --quick run)")
    return ap


def output_path(args: argparse.Namespace) -> Path:
    return result_path("kin", args.out, args.quick)


def _offline(args) -> int | None:
    """The modes that only read JSONs (--tables, --replot, --merge); None when this is a run."""
    for path in (args.tables or []) + (args.replot or []) + (args.merge or []):
        if not path.is_file():
            raise SystemExit(f"lstmkit: error: no results file {path}")
    if args.tables:
        for path in args.tables:
            print(f"\n## {path.name}\n" + tables(json.loads(path.read_text())))
        return 0
    if args.replot:
        cost: dict = {}
        for path in args.replot:
            for name, entry in json.loads(path.read_text()).get("cost", {}).items():
                cost.setdefault(name, entry)
        plot_cost(cost, args.plot or PLOT)
        print(f"wrote {args.plot or PLOT}")
        return 0
    if args.merge:
        if args.out is None:
            raise SystemExit("lstmkit: error: --merge needs --out")
        data = merge(args.merge)
        out = result_path("kin", args.out, data["quick"])  # a merged smoke run stays *.quick.json
        atomic_write_json(out, data)
        print(tables(data))
        print(f"wrote {out}")
        return 0
    return None


def settings_for(args) -> dict:
    s = json.loads(json.dumps(SETTINGS["quick" if args.quick else "full"]))
    for key in OVERRIDES:
        if getattr(args, key) is not None:
            s[key] = getattr(args, key)
    if args.seeds is not None:
        s["seeds"] = args.seeds
    if args.workers < 1:
        raise SystemExit("lstmkit: error: --workers must be at least 1")
    return s


def main(argv: list[str] | None = None) -> int:
    wall0, cpu0 = time.perf_counter(), time.process_time()
    args = build_parser().parse_args(argv)
    done = _offline(args)
    if done is not None:
        return done
    out = output_path(args)
    torch.set_num_threads(1)
    s = settings_for(args)
    kernels = cpu_kernels(build=not args.quick) if "lstm" in args.models else {}
    classes, missing = available(args.models)
    if "lstm" not in classes:
        raise SystemExit("lstmkit: error: the LSTM must be among --models (it sets the parameter budget)")
    for name, why in missing.items():
        print(f"{name}: {why}", flush=True)
    lm_data = lm_plan_data(classes, s) if {"lm", "cost"} & set(args.parts) else None
    cells, skipped = plan(args.parts, classes, s["seeds"], s, lm_data)
    deadline = None if args.deadline_s is None else args.deadline_s - (time.perf_counter() - wall0)
    print(f"{len(cells)} cells on {args.workers} worker(s), {len(skipped)} over a ceiling", flush=True)
    rows, errors, not_run = run_cells(cells, s, run_cell, args.workers, deadline,
                                      estimate=lambda c: cost_estimate(c, s), label=cell_label,
                                      summary=summary, log=lambda m: print(m, flush=True))
    results: dict = {}
    for part in ("lag", "copy"):
        if part in args.parts:
            results[part] = [r for r in rows if r["part"] == part]
    if "lm" in args.parts:
        results["lm"] = {**lm_data, "rows": [r for r in rows if r["part"] in ("lm", "lm_hmm")]}
    if "forecast" in args.parts:
        results["forecast"] = [seasonal_naive_row()] + [r for r in rows if r["part"] in ("forecast", "fc_hmm")]
    if "cost" in args.parts:
        if args.deadline_s is not None and time.perf_counter() - wall0 > args.deadline_s:
            not_run.append({"part": "cost", "model": "all", "seed": None})
        else:
            results["cost"] = run_cost(classes, lm_data["widths"], s)
            plot = args.plot or (None if args.quick else PLOT)
            if plot is not None:
                plot_cost(results["cost"], plot)
                print(f"wrote {plot}")
    validation = {}
    if "lm" in results:
        validation["lm_val_bpc"] = {f"{r['model']}/{r['seed']}": round(r["val_bpc"], 4)
                                    for r in results["lm"]["rows"]}
    if "forecast" in results:
        validation["forecast_val_mase"] = {f"{r['model']}/{r.get('seed', '-')}": round(r["val_mase"], 4)
                                           for r in results["forecast"]}
    machine = machine_info(kernels)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    data = {
        "benchmark": "kin",
        "selection": {**SELECTION, "validation_scores": validation},
        "settings": s, "seeds": s["seeds"], "workers": args.workers, "deadline_s": args.deadline_s,
        "quick": args.quick, "models": list(classes), "not_available": missing,
        "machine": machine, "machines": {part: machine for part in results},
        **results,
        "skipped": skipped, "not_run": not_run, "errors": errors,
        "wall_seconds": round(time.perf_counter() - wall0, 1),
        "cpu_seconds": round(time.process_time() - cpu0 + children.ru_utime + children.ru_stime, 1),
        "cpu_seconds_in_cells": round(sum(r.get("cell_cpu_s", 0) for r in rows), 1),
        "torch": torch.__version__, "python": platform.python_version(), "threads": torch.get_num_threads(),
    }
    atomic_write_json(out, data)
    print(tables(json.loads(json.dumps(data))))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
