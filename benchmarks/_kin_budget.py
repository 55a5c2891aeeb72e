"""Size the budgets of benchmarks/kin.py's synthetic parts from measured CPU cost per training step.

For every (part, task, T, model) of ``lag`` and ``copy`` at the full settings'
widths, one warm-up step, then training steps until ``--probe-s`` CPU seconds
(at least 2, at most 8 steps), then one evaluation on the test set: CPU seconds
per step and per evaluation, one torch thread. Cells run in ``--workers``
processes (run it with as many workers as the real run will use, so that the
cores share memory bandwidth as they will). No score is computed.

Then, for the budgets given (``--lag-cpu-s`` etc.), the expected CPU seconds of
the whole grid for ``--seeds`` seeds, the makespan of starting the largest
cells first on ``--workers`` processes, and the ceilings the 1/20 rule gives (a
model whose one step costs more than 1/20 of its cell's budget).

    PYTHONPATH=src python benchmarks/_kin_budget.py --workers 16 --out /tmp/kin_steps.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from _kin_cells import (
    PROBLEMS,
    available,
    copy_build,
    lag_build,
    layer_class,
    options,
    widths_for,
)
from _kin_pool import run_cells
from _kin_tasks import copy_accuracy, copy_loss, evaluate_lag, last_step_output, selective_copy


def probe_cell(cell: dict, s: dict) -> dict:
    """CPU seconds per training step and per evaluation of one cell (no score kept)."""
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    cls = layer_class(cell["model"])
    if cell["part"] == "lag":
        problem, T = PROBLEMS[cell["task"]](cell["T"]), cell["T"]
        net = lag_build(problem)(cls, cell["width"], **options(cell["model"], T + T // 10))
        batch = lambda: problem.sample(s["lag_batch"], gen)  # noqa: E731
        loss_fn = lambda m, b: problem.loss(last_step_output(m, b), b)  # noqa: E731
        test = problem.sample(s["lag_test"], gen)
        evaluate = lambda: evaluate_lag(net, problem, test)  # noqa: E731
    else:
        K, V, T = s["copy_K"], s["copy_V"], cell["T"]
        net = copy_build(s)(cls, cell["width"])
        batch = lambda: selective_copy(s["copy_batch"], T, K, V, gen)  # noqa: E731
        loss_fn = copy_loss
        x_test, y_test = selective_copy(s["copy_test"], T, K, V, gen)
        evaluate = lambda: copy_accuracy(net, x_test, y_test)  # noqa: E731
    opt = torch.optim.Adam(net.parameters(), lr=s["lr"])

    def step():
        loss = loss_fn(net, batch())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()

    step()
    cpu0, n = time.process_time(), 0
    while n < 2 or (n < 8 and time.process_time() - cpu0 < s["probe_s"]):
        step()
        n += 1
    step_s = (time.process_time() - cpu0) / n
    net.eval()
    cpu0 = time.process_time()
    evaluate()
    return {**cell, "step_s": round(step_s, 4), "eval_s": round(time.process_time() - cpu0, 3), "probe_steps": n}


def grid(s: dict, classes) -> list[dict]:
    cells = []
    for task, Problem in PROBLEMS.items():
        for T in s["lag_lengths"]:
            widths, _ = widths_for(classes, lag_build(Problem(T)), s["lag_width"])
            cells += [{"part": "lag", "task": task, "T": T, "model": m, "width": widths[m][0]} for m in classes]
    widths, _ = widths_for(classes, copy_build(s), s["copy_width"])
    for T in s["copy_lengths"]:
        cells += [{"part": "copy", "T": T, "model": m, "width": widths[m][0]} for m in classes]
    return cells


def plan_budget(probes: list[dict], budget: dict, seeds: int, workers: int, overhead_s: float = 0.3) -> dict:
    """Expected CPU seconds, makespan (largest first) and 1/20-rule ceilings for these budgets."""
    costs, ceilings = [], {"lag": {}, "copy": {}}
    for p in probes:
        cpu, steps = budget[f"{p['part']}_cpu_s"], budget[f"{p['part']}_steps"]
        if p["step_s"] > cpu / 20:
            top = ceilings[p["part"]].get(p["model"])
            ceilings[p["part"]][p["model"]] = min(top, p["T"]) if top else p["T"]
            continue
        costs += [min(steps * p["step_s"], cpu) + p["eval_s"] + overhead_s] * seeds
    loads = [0.0] * workers
    for c in sorted(costs, reverse=True):
        loads[loads.index(min(loads))] += c
    # the ceiling is the largest T below the first T that is too slow
    below = {part: {m: max((p["T"] for p in probes if p["part"] == part and p["model"] == m and p["T"] < T),
                           default=0) for m, T in c.items()} for part, c in ceilings.items()}
    return {"cells": len(costs), "cpu_s": round(sum(costs)), "makespan_s": round(max(loads)), "ceilings": below}


def main(argv=None) -> int:
    import kin

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--probe-s", type=float, default=1.0, help="CPU seconds of training steps per probe")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--lag-cpu-s", type=float, default=kin.SETTINGS["full"]["lag_cpu_s"])
    ap.add_argument("--lag-steps", type=int, default=kin.SETTINGS["full"]["lag_steps"])
    ap.add_argument("--copy-cpu-s", type=float, default=kin.SETTINGS["full"]["copy_cpu_s"])
    ap.add_argument("--copy-steps", type=int, default=kin.SETTINGS["full"]["copy_steps"])
    ap.add_argument("--out", type=Path, default=None, help="write the probes and the plan as JSON")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    s = {**kin.SETTINGS["full"], "probe_s": args.probe_s}
    classes, missing = available(list(kin.FAMILIES))
    probes, errors, _ = run_cells(grid(s, classes), s, probe_cell, args.workers,
                                  estimate=lambda c: c["T"], label=lambda c: f"{c['part']} {c.get('task', '')} "
                                  f"{c['T']} {c['model']}", summary=lambda r: f"{1000 * r['step_s']:.1f} ms/step, "
                                  f"eval {r['eval_s']:.2f} s", log=lambda m: print(m, flush=True))
    budget = {k: getattr(args, k) for k in ("lag_cpu_s", "lag_steps", "copy_cpu_s", "copy_steps")}
    result = plan_budget(probes, budget, args.seeds, args.workers)
    print(json.dumps({"budget": budget, **result}))
    if args.out:
        args.out.write_text(json.dumps({"probes": probes, "errors": errors, "missing": missing, "budget": budget,
                                        "plan": result, "workers": args.workers, "torch": torch.__version__},
                                       indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
