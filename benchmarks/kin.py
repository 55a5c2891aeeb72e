"""The LSTM and its neighbours on the same tasks with the same budget (issue 17).

Models (one registry entry each; a family member not built yet is reported as
"not available"): lstmkit's LSTM, minLSTM, minGRU, sLSTM, mLSTM, and two
baselines from :mod:`lstmkit.layers.neighbours` (a causal Transformer and an
LRU-style diagonal state-space model); a hidden Markov model (hmmlearn) where
the task has a likelihood or a forecast for it (character LM, forecasting).

Every neural model has 2 layers and a width chosen so that its total parameter
count (input map + layers + head) is the closest to that of the 2-layer LSTM at
the task's reference width; it trains with Adam at one learning rate, gradient
clipping 1, on the same batches, for the same number of steps (or the same CPU
seconds for the language model), one thread. See ``SETTINGS`` for the budgets
and the docstring of ``_kin_tasks`` for the tasks.

    .venv/bin/python benchmarks/kin.py           # the committed run (~25 min on a busy 2-core box)
    .venv/bin/python benchmarks/kin.py --quick   # a smoke run (seconds)

Writes benchmarks/results/kin.json and docs/img/kin_cost.png; prints Markdown tables.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
from _common import result_path
from _kin_cost import streaming_cost, training_throughput
from _kin_tasks import (
    Net,
    bits_per_char,
    char_vocab,
    copy_accuracy,
    copy_loss,
    encode,
    evaluate_lag,
    forecast_from,
    forecast_windows,
    hmm_bits_per_char,
    hmm_forecast,
    last_step_output,
    lm_batch,
    lm_loss,
    mase,
    n_params,
    selective_copy,
    train_steps,
)

from lstmkit.io import atomic_write_json
from lstmkit.tasks.adding import AddingProblem, TemporalOrderProblem

FAMILIES = {
    "lstm": ("lstmkit", "LSTM"),
    "minlstm": ("lstmkit", "MinLSTM"),
    "mingru": ("lstmkit", "MinGRU"),
    "slstm": ("lstmkit", "SLSTM"),
    "mlstm": ("lstmkit", "MLSTM"),
    "transformer": ("lstmkit.layers.neighbours", "CausalTransformer"),
    "ssm": ("lstmkit.layers.neighbours", "DiagonalSSM"),
}
PROBLEMS = {"adding": AddingProblem, "temporal_order": TemporalOrderProblem}
PLOT = Path(__file__).resolve().parents[1] / "docs" / "img" / "kin_cost.png"

SETTINGS = {
    "full": {"lag_lengths": [100, 200, 500, 1000], "lag_steps": 500, "lag_cpu_s": 3, "lag_batch": 32,
             "lag_width": 32, "lag_test": 256,
             "copy_lengths": [64, 256, 1024], "copy_steps": 500, "copy_cpu_s": 4, "copy_batch": 32,
             "copy_width": 64, "copy_K": 8, "copy_V": 8, "copy_test": 256,
             "lm_cpu_s": 12, "lm_width": 128, "lm_batch": 32, "lm_bptt": 128,
             "lm_train_books": ["Gen", "Matt", "Mark", "Luke", "John", "Acts"], "lm_val_books": ["Ruth"],
             "lm_test_books": ["Jonah", "Phil", "Jas"], "hmm_states": 32, "hmm_iter": 10, "hmm_chars": 200000,
             "fc_steps": 120, "fc_width": 32, "fc_seeds": [0, 1, 2], "fc_eval_every": 10,
             "cost_train_lengths": [64, 256, 1024], "cost_contexts": [16, 64, 256, 1024, 4096],
             "lr": 3e-3, "seed": 0},
    "quick": {"lag_lengths": [30], "lag_steps": 3, "lag_cpu_s": 5, "lag_batch": 8, "lag_width": 8,
              "lag_test": 32, "copy_lengths": [16], "copy_steps": 3, "copy_cpu_s": 5, "copy_batch": 8,
              "copy_width": 16, "copy_K": 4, "copy_V": 4, "copy_test": 32,
              "lm_cpu_s": 0.3, "lm_width": 16, "lm_batch": 4, "lm_bptt": 32,
              "lm_train_books": ["Ruth"], "lm_val_books": ["Jonah"], "lm_test_books": ["Obad"],
              "hmm_states": 4, "hmm_iter": 2, "hmm_chars": 2000,
              "fc_steps": 4, "fc_width": 8, "fc_seeds": [0], "fc_eval_every": 2,
              "cost_train_lengths": [8], "cost_contexts": [4, 16], "lr": 3e-3, "seed": 0},
}

SELECTION = {
    "protocol": "all settings (widths by parameter matching, steps, CPU budgets, learning rate 3e-3, "
                "batch sizes) fixed before the one committed run, the same for every model, no tuning; "
                "synthetic tasks score fresh test sequences from a separate generator seed; the "
                "forecasting models keep the training step with the best MASE on 1959 (validation), "
                "scored on 1960 (test); the language models' validation book (Ruth) is reported, not "
                "used for any choice",
}


def available(names):
    """name -> layer class for the registry entries that build and train; name -> reason otherwise."""
    classes, missing = {}, {}
    for name in names:
        module, attr = FAMILIES[name]
        cls = getattr(importlib.import_module(module), attr, None)
        if cls is None:
            missing[name] = f"not available: {module}.{attr} does not exist in this checkout"
            continue
        try:
            net = Net(cls, 4, 16, 2, tokens=False)
            net(torch.randn(2, 5, 4)).sum().backward()
        except Exception as err:  # reported in the JSON and the table, the run goes on without it
            missing[name] = f"not available: {type(err).__name__}: {err}"
            continue
        classes[name] = cls
    return classes, missing


def match_width(cls, build, budget: int) -> tuple[int, int]:
    """The width (multiple of 8) whose model's parameter count is closest to ``budget``."""
    best = None
    for width in range(8, 2049, 8):
        try:
            count = n_params(build(cls, width))
        except (ValueError, RuntimeError, AssertionError):
            continue
        if best is None or abs(count - budget) < abs(best[1] - budget):
            best = (width, count)
        if count > 1.5 * budget:
            break
    return best


def widths_for(classes, build, ref_width: int) -> dict:
    budget = n_params(build(classes["lstm"], ref_width)) if "lstm" in classes else None
    if budget is None:
        raise SystemExit("lstmkit: error: the LSTM (the reference of the parameter budget) does not build")
    return {name: match_width(cls, build, budget) for name, cls in classes.items()}, budget


def options(name: str, T_max: int | None) -> dict:
    """Per-model initialisation: the LSTM gets lstmkit's chrono initialisation on the long-lag tasks."""
    return {"chrono_init": T_max} if name == "lstm" and T_max else {}


def run_lag(classes, s):
    rows = []
    for task, Problem in PROBLEMS.items():
        for T in s["lag_lengths"]:
            problem = Problem(T)
            T_max = T + T // 10
            build = lambda cls, w: Net(cls, problem.input_size, w, problem.output_size, tokens=False)  # noqa: E731, B023 (used within this iteration)
            widths, budget = widths_for(classes, build, s["lag_width"])
            test = problem.sample(s["lag_test"], torch.Generator().manual_seed(s["seed"] + 7919))
            for name, cls in classes.items():
                torch.manual_seed(s["seed"])
                net = Net(cls, problem.input_size, widths[name][0], problem.output_size, tokens=False,
                          **options(name, T_max))
                gen = torch.Generator().manual_seed(s["seed"] * 1000 + T)
                info = train_steps(net, lambda _: problem.sample(s["lag_batch"], gen),  # noqa: B023 (called within this iteration)
                                   lambda m, b: problem.loss(last_step_output(m, b), b),  # noqa: B023 (called within this iteration)
                                   s["lag_steps"], s["lag_cpu_s"], s["lr"])
                row = {"task": task, "T": T, "model": name, "width": widths[name][0],
                       "params": n_params(net), "budget": budget, **evaluate_lag(net, problem, test), **info}
                print(f"lag {task} T={T} {name}: solve {row['solve_rate']:.3f} ({info['steps']} steps, "
                      f"{info['cpu_s']} s CPU)", flush=True)
                rows.append(row)
    return rows


def run_copy(classes, s):
    rows, K, V = [], s["copy_K"], s["copy_V"]
    build = lambda cls, w: Net(cls, V + 2, w, V, tokens=True)  # noqa: E731
    widths, budget = widths_for(classes, build, s["copy_width"])
    for T in s["copy_lengths"]:
        x_test, y_test = selective_copy(s["copy_test"], T, K, V, torch.Generator().manual_seed(s["seed"] + 7919))
        for name, cls in classes.items():
            torch.manual_seed(s["seed"])
            net = build(cls, widths[name][0])
            gen = torch.Generator().manual_seed(s["seed"] * 1000 + T)
            info = train_steps(net, lambda _: selective_copy(s["copy_batch"], T, K, V, gen), copy_loss,  # noqa: B023 (called within this iteration)
                               s["copy_steps"], s["copy_cpu_s"], s["lr"])
            row = {"T": T, "model": name, "width": widths[name][0], "params": n_params(net), "budget": budget,
                   "token_accuracy": copy_accuracy(net, x_test, y_test), **info}
            print(f"copy T={T} {name}: acc {row['token_accuracy']:.3f} ({info['steps']} steps)", flush=True)
            rows.append(row)
    return rows


def run_lm(classes, s):
    from lstmkit.data import bible

    texts = {part: "\n".join(v.text for v in bible.load_english(s[f"lm_{part}_books"]))
             for part in ("train", "val", "test")}
    vocab = char_vocab(texts["train"])
    ids = {part: encode(text, vocab) for part, text in texts.items()}
    V = len(vocab) + 1
    build = lambda cls, w: Net(cls, V, w, V, tokens=True)  # noqa: E731
    widths, budget = widths_for(classes, build, s["lm_width"])
    rows = []
    for name, cls in classes.items():
        torch.manual_seed(s["seed"])
        net = build(cls, widths[name][0])
        gen = torch.Generator().manual_seed(s["seed"])
        info = train_steps(net, lambda _: lm_batch(ids["train"], s["lm_batch"], s["lm_bptt"], gen), lm_loss,  # noqa: B023 (called within this iteration)
                           10**9, s["lm_cpu_s"], s["lr"])
        row = {"model": name, "width": widths[name][0], "params": n_params(net), "budget": budget,
               "val_bpc": bits_per_char(net, ids["val"], s["lm_bptt"]),
               "test_bpc": bits_per_char(net, ids["test"], s["lm_bptt"]), **info}
        print(f"lm {name}: test bpc {row['test_bpc']:.3f} ({info['steps']} steps)", flush=True)
        rows.append(row)
    hmm = hmm_bits_per_char(ids["train"][:s["hmm_chars"]].numpy(), ids["test"].numpy(), ids["val"].numpy(), V,
                            s["hmm_states"], s["hmm_iter"], s["seed"])
    rows.append({"model": "hmm", **hmm})
    print(f"lm hmm: test bpc {hmm['test_bpc']:.3f} ({hmm['cpu_s']} s CPU)", flush=True)
    return {"chars": {p: len(t) for p, t in texts.items()}, "vocab": V, "rows": rows,
            "widths": {n: w for n, (w, _) in widths.items()}}


def run_forecast(classes, s):
    from lstmkit.data.timeseries import load_airpassengers

    y = load_airpassengers()["y"].to_numpy()
    log_y, lookback, horizon, val_end, test_end = np.log(y), 36, 12, 120, 132
    x_train, y_train = forecast_windows(log_y, val_end, lookback, horizon)
    build = lambda cls, w: Net(cls, 1, w, horizon, tokens=False)  # noqa: E731
    widths, budget = widths_for(classes, build, s["fc_width"])
    rows = []
    snaive = lambda end: y[end - 12:end]  # noqa: E731
    rows.append({"model": "seasonal_naive", "val_mase": mase(y[val_end:test_end], snaive(val_end), y[:val_end]),
                 "test_mase": mase(y[test_end:], snaive(test_end), y[:test_end])})
    for name, cls in classes.items():
        for seed in s["fc_seeds"]:
            torch.manual_seed(seed)
            net = build(cls, widths[name][0])
            best = {"val": float("inf")}

            def keep_best(step, net=net, best=best):
                net.eval()
                val = mase(y[val_end:test_end], forecast_from(net, log_y, val_end, lookback), y[:val_end])
                net.train()
                if val < best["val"]:
                    best.update(val=val, step=step, state=copy.deepcopy(net.state_dict()))

            loss = lambda m, b: torch.nn.functional.mse_loss(m(b[0])[:, -1], b[1])  # noqa: E731
            info = train_steps(net, lambda _: (x_train, y_train), loss, s["fc_steps"], 10**9, s["lr"],
                               on_eval=keep_best, eval_every=s["fc_eval_every"])
            net.load_state_dict(best["state"])
            net.eval()
            rows.append({"model": name, "seed": seed, "width": widths[name][0], "params": n_params(net),
                         "budget": budget, "val_mase": best["val"], "best_step": best["step"],
                         "test_mase": mase(y[test_end:], forecast_from(net, log_y, test_end, lookback),
                                           y[:test_end]), **info})
        print(f"forecast {name}: test MASE " + " ".join(f"{r['test_mase']:.3f}" for r in rows
                                                       if r["model"] == name), flush=True)
    for seed in s["fc_seeds"]:
        rows.append({"model": "hmm", "seed": seed, "states": 3,
                     "val_mase": mase(y[val_end:test_end], hmm_forecast(log_y, val_end, horizon, 3, seed),
                                      y[:val_end]),
                     "test_mase": mase(y[test_end:], hmm_forecast(log_y, test_end, horizon, 3, seed),
                                       y[:test_end])})
    return rows


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


def tables(data: dict) -> str:
    """The Markdown tables of a results JSON (what the README shows)."""
    lines = []
    models = data["models"]
    if "lag" in data:
        for task in PROBLEMS:
            rows = [r for r in data["lag"] if r["task"] == task]
            Ts = sorted({r["T"] for r in rows})
            metric = "mse" if task == "adding" else "accuracy"
            lines += [f"\n{task}: solve rate ({metric}; steps done) by T\n",
                      "| model | params | " + " | ".join(f"T = {T}" for T in Ts) + " |",
                      "|---|---:|" + "---:|" * len(Ts)]
            for m in models:
                cells = {r["T"]: r for r in rows if r["model"] == m}
                if not cells:
                    continue
                lines.append(f"| {m} | {next(iter(cells.values()))['params']} | " + " | ".join(
                    f"{cells[T]['solve_rate']:.0%} ({cells[T][metric]:.3g}; {cells[T]['steps']})" for T in Ts) + " |")
    if "copy" in data:
        Ts = sorted({r["T"] for r in data["copy"]})
        lines += ["\nselective copy: token accuracy (steps done) by T\n",
                  "| model | params | " + " | ".join(f"T = {T}" for T in Ts) + " |", "|---|---:|" + "---:|" * len(Ts)]
        for m in models:
            cells = {r["T"]: r for r in data["copy"] if r["model"] == m}
            if cells:
                lines.append(f"| {m} | {next(iter(cells.values()))['params']} | " + " | ".join(
                    f"{cells[T]['token_accuracy']:.1%} ({cells[T]['steps']})" for T in Ts) + " |")
    if "lm" in data:
        lines += ["\ncharacter LM (Bible): held-out bits per character at equal CPU time\n",
                  "| model | params | steps | CPU s | val bpc | test bpc |", "|---|---:|---:|---:|---:|---:|"]
        for r in data["lm"]["rows"]:
            lines.append(f"| {r['model']} | {r['params']} | {r.get('steps', r.get('iterations'))} | {r['cpu_s']} | "
                         f"{r['val_bpc']:.3f} | {r['test_bpc']:.3f} |")
    if "forecast" in data:
        lines += ["\nAirPassengers 1960 (12 months): MASE, mean over seeds [min, max]\n",
                  "| model | params | val MASE (1959) | test MASE (1960) |", "|---|---:|---:|---:|"]
        for m in dict.fromkeys(r["model"] for r in data["forecast"]):
            rs = [r for r in data["forecast"] if r["model"] == m]
            test = [r["test_mase"] for r in rs]
            val = [r["val_mase"] for r in rs]
            lines.append(f"| {m} | {rs[0].get('params', '-')} | {np.mean(val):.3f} | {np.mean(test):.3f} "
                         f"[{min(test):.3f}, {max(test):.3f}] |")
    if "cost" in data:
        c0 = next(iter(data["cost"].values()))
        Ts, ctx = list(c0["train_positions_per_s"]), list(c0["streaming"]["by_context"])
        lines += ["\ncost: training positions/s (batch 8) and ms per streamed step after t steps\n",
                  "| model | width | " + " | ".join(f"train T={T}" for T in Ts) + " | "
                  + " | ".join(f"step t={t}" for t in ctx) + " | state floats t=" + f"{ctx[0]} / {ctx[-1]} |",
                  "|---|---:|" + "---:|" * (len(Ts) + len(ctx) + 1)]
        for m, c in data["cost"].items():
            by = c["streaming"]["by_context"]
            lines.append(f"| {m} | {c['width']} | " + " | ".join(f"{c['train_positions_per_s'][T]:.0f}" for T in Ts)
                         + " | " + " | ".join(f"{by[t]['ms_per_step']:.2f}" for t in ctx)
                         + f" | {by[ctx[0]]['state_floats']} / {by[ctx[-1]]['state_floats']} |")
    for m, why in data.get("not_available", {}).items():
        lines.append(f"\n{m}: {why}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a few steps of everything (smoke)")
    ap.add_argument("--models", nargs="+", default=list(FAMILIES), choices=list(FAMILIES))
    ap.add_argument("--parts", nargs="+", default=["lag", "copy", "lm", "forecast", "cost"],
                    choices=["lag", "copy", "lm", "forecast", "cost"],
                    help="parts to run; 'cost' also runs 'lm' (it measures the LM's parameter-matched widths)")
    ap.add_argument("--lag-lengths", type=int, nargs="+", default=None,
                    help="override the T grid of the long-lag tasks (e.g. for slow models)")
    ap.add_argument("--copy-lengths", type=int, nargs="+", default=None,
                    help="override the T grid of selective copy")
    ap.add_argument("--plot", type=Path, default=None, help=f"cost plot (default {PLOT}; none for --quick)")
    ap.add_argument("--out", type=Path, default=None,
                    help="JSON output (default results/kin.json; --quick: *.quick.json)")
    ap.add_argument("--tables", type=Path, nargs="+", default=None, metavar="JSON",
                    help="only print the Markdown tables of existing results JSONs")
    ap.add_argument("--replot", type=Path, nargs="+", default=None, metavar="JSON",
                    help="only redraw the cost plot from the cost sections of existing JSONs "
                         "(the first file's entry wins for a model in several)")
    return ap


def output_path(args: argparse.Namespace) -> Path:
    return result_path("kin", args.out, args.quick)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for path in (args.tables or []) + (args.replot or []):
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
    out = output_path(args)
    torch.set_num_threads(1)
    s = dict(SETTINGS["quick" if args.quick else "full"])
    for key in ("lag_lengths", "copy_lengths"):
        if getattr(args, key) is not None:
            s[key] = getattr(args, key)
    classes, missing = available(args.models)
    if "lstm" not in classes:
        raise SystemExit("lstmkit: error: the LSTM must be among --models (it sets the parameter budget)")
    for name, why in missing.items():
        print(f"{name}: {why}", flush=True)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    results: dict = {}
    if "lag" in args.parts:
        results["lag"] = run_lag(classes, s)
    if "copy" in args.parts:
        results["copy"] = run_copy(classes, s)
    if "lm" in args.parts or "cost" in args.parts:
        results["lm"] = run_lm(classes, s)
    if "forecast" in args.parts:
        results["forecast"] = run_forecast(classes, s)
    if "cost" in args.parts:
        results["cost"] = run_cost(classes, results["lm"]["widths"], s)
        plot = args.plot or (None if args.quick else PLOT)
        if plot is not None:
            plot_cost(results["cost"], plot)
            print(f"wrote {plot}")
    validation = {}
    if "lm" in results:
        validation["lm_val_bpc"] = {r["model"]: round(r["val_bpc"], 4) for r in results["lm"]["rows"]}
    if "forecast" in results:
        validation["forecast_val_mase"] = {f"{r['model']}/{r.get('seed', '-')}": round(r["val_mase"], 4)
                                           for r in results["forecast"]}
    data = {
        "benchmark": "kin",
        "selection": {**SELECTION, "validation_scores": validation},
        "settings": s, "quick": args.quick, "models": list(classes), "not_available": missing,
        **results,
        "wall_seconds": round(time.perf_counter() - wall0, 1),
        "cpu_seconds": round(time.process_time() - cpu0, 1),
        "torch": torch.__version__, "python": platform.python_version(), "threads": torch.get_num_threads(),
    }
    atomic_write_json(out, data)
    print(tables(json.loads(json.dumps(data))))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
