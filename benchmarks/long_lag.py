"""Long time lags: the adding and temporal-order problems of Hochreiter & Schmidhuber (1997).

Trains an LSTM, a peephole LSTM (Gers, Schraudolph & Schmidhuber 2002), a GRU
and a vanilla tanh RNN of the same width side by side, on the same batches and
with the same budget, at minimal lengths T = 100 and T = 200, on

- the adding problem (Experiment 4): solved when |error| < 0.04 on a test
  sequence; the table gives test MSE and the solve rate on 2560 test sequences;
- the temporal-order problem (Experiment 6a, 4 classes): the table gives test
  cross-entropy, accuracy, and the paper's criterion (every output within 0.3
  of its one-hot target) as the solve rate.

Every model has hidden size 32, 2000 Adam steps (lr 3e-3 decayed linearly to 3e-4), batch
64, gradient-norm clipping at 1, and the gated ones the chrono initialisation
(Tallec & Ollivier 2018) for the longest sequence, T + T // 10. One process,
one thread. Prints a Markdown table and writes benchmarks/results/long_lag.json.

    .venv/bin/python benchmarks/long_lag.py              # full budget (~15 min wall on a busy 2-core box)
    .venv/bin/python benchmarks/long_lag.py --quick      # a smoke run of a few steps
    .venv/bin/python benchmarks/long_lag.py --chrono 0 --lengths 100 --kinds lstm gru \
        --out benchmarks/results/long_lag_no_chrono.json  # ablation: torch's default init
    .venv/bin/python benchmarks/long_lag.py --seed 1 --lengths 200 --tasks adding \
        --kinds lstm peephole --out benchmarks/results/long_lag_seed1.json  # other seeds
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch
from _common import result_path
from _selection import SELECTION

import lstmkit
from lstmkit.tasks.adding import (
    MODEL_KINDS,
    AddingProblem,
    LagTrainConfig,
    TemporalOrderProblem,
    train_side_by_side,
    write_json_atomic,
)

PROBLEMS = {"adding": AddingProblem, "temporal_order": TemporalOrderProblem}
TARGET = 0.95
LSTM_FAMILY = ("lstm", "peephole")


def peephole_backend(requested: str) -> str:
    """The backend for the peephole LSTM: ``requested``, or ``auto`` if ``cpu`` cannot build.

    The fused C++ ``cpu`` kernel is JIT-compiled on first use; where no
    compiler is available the run goes on with ``auto`` (the reference kernel)
    and says so, and the JSON records which backend ran.
    """
    if requested != "cpu":
        return requested
    try:
        layer = lstmkit.LSTM(2, 4, batch_first=True, peephole=True, backend="cpu")
        layer(torch.zeros(1, 3, 2))[0].sum().backward()
    except (RuntimeError, OSError, ImportError, ValueError) as err:
        print(f"peephole: backend 'cpu' unavailable ({type(err).__name__}: {err}); using 'auto'",
              file=sys.stderr)
        return "auto"
    return "cpu"


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=2000, help="Adam steps per model and run")
    ap.add_argument("--lengths", type=int, nargs="+", default=[100, 200], help="minimal lengths T")
    ap.add_argument("--tasks", nargs="+", default=list(PROBLEMS), choices=list(PROBLEMS))
    ap.add_argument("--kinds", nargs="+", default=list(MODEL_KINDS), choices=list(MODEL_KINDS))
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--chrono", type=float, default=1.0,
                    help="chrono initialisation horizon as a multiple of T + T // 10 "
                         "(0 = torch's default initialisation, for the ablation)")
    ap.add_argument("--peephole-backend", default="cpu",
                    help="lstmkit backend of the peephole LSTM (default: the fused cpu kernel)")
    ap.add_argument("--quick", action="store_true", help="a few steps, small test set (smoke)")
    ap.add_argument("--out", type=Path, default=None,
                    help="JSON output (default results/long_lag.json; --quick: *.quick.json)")
    return ap


def output_path(args: argparse.Namespace) -> Path:
    return result_path("long_lag", args.out, args.quick)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = output_path(args)
    torch.set_num_threads(1)
    backend = peephole_backend(args.peephole_backend)
    steps, test_size, eval_every = args.steps, 2560, args.eval_every
    if args.quick:
        steps, test_size, eval_every = 10, 128, 5
    config = LagTrainConfig(steps=steps, batch_size=args.batch_size, lr=args.lr,
                            hidden_size=args.hidden, eval_every=eval_every, test_size=test_size,
                            seed=args.seed, chrono=args.chrono,
                            backends=(("peephole", backend),))
    rows, runs = [], []
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for task in args.tasks:
        for T in args.lengths:
            problem = PROBLEMS[task](T)
            result = train_side_by_side(problem, args.kinds, config)
            runs.append({"task": task, "T": T, "history": result.history})
            for kind in args.kinds:
                m = result.final[kind]
                rows.append({"task": task, "T": T, "model": kind, **m,
                             "first_step_solve_rate_ge_95": result.first_solved_step[kind],
                             "train_seconds": round(result.seconds[kind], 1)})
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0

    print(f"\nLong time lags: hidden {args.hidden}, batch {args.batch_size}, {steps} steps, "
          f"Adam {args.lr:g}, chrono {args.chrono:g}, 1 thread; {test_size} test sequences each\n")
    print("| task | T | model | test MSE / CE | solved | accuracy | first step >= 95% | train s |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    for r in rows:
        loss = r.get("mse", r.get("ce"))
        acc = f"{r['accuracy']:.1%}" if "accuracy" in r else "-"
        first = r["first_step_solve_rate_ge_95"]
        print(f"| {r['task']} | {r['T']} | {r['model']} | {loss:.5f} | {r['solve_rate']:.1%} | "
              f"{acc} | {'-' if first is None else first} | {r['train_seconds']:.0f} |")
    family = [r for r in rows if r["model"] in LSTM_FAMILY]
    ok = all(r["solve_rate"] >= TARGET for r in family)
    print(f"\nLSTM and peephole LSTM solve >= {TARGET:.0%} everywhere: {'yes' if ok else 'NO'}; "
          f"wall {wall:.0f} s, CPU {cpu:.0f} s")
    write_json_atomic(out, {
        "benchmark": "long_lag",
        "selection": SELECTION["long_lag"],
        "config": {**asdict(config), "quick": args.quick, "tasks": args.tasks,
                   "lengths": args.lengths, "kinds": args.kinds},
        "peephole_backend": backend,
        "target_solve_rate": TARGET,
        "lstm_family_meets_target": ok,
        "results": rows,
        "runs": runs,
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
    })
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
