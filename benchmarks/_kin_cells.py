"""The cells of benchmarks/kin.py: one (part, task, T, model, seed) each, runnable in any process.

A cell is a plain dict (picklable, JSON-able) that names everything its run
needs besides the settings ``s``: ``part`` (``lag``, ``copy``, ``lm``,
``lm_hmm``, ``forecast``, ``fc_hmm``), ``model``, ``seed``, and where the part
has them ``task``, ``T``, ``width`` and ``budget`` (the parameter count of the
reference LSTM). :func:`plan` lists the cells of a run (widths matched in the
parent, once); :func:`run_cell` trains and scores one and returns its row.

Seeds (``k`` = the cell's seed; ``k = 0`` gives the cells of the earlier
one-seed runs): ``torch.manual_seed(k)`` before the model is built; the
training batches of the synthetic tasks come from a generator seeded
``1000 k + T``, their 256 test sequences from one seeded ``k + 7919``; the LM's
batches from a generator seeded ``k``; the HMMs get ``random_state = k``.

Heavy or optional imports (the Bible reader, hmmlearn, pandas' data loader)
happen inside the cells that use them, so that a run of ``lag`` and ``copy``
needs only torch, numpy and lstmkit.
"""

from __future__ import annotations

import copy
import importlib
import time

import numpy as np
import torch
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
PART_ORDER = ("lag", "copy", "lm", "lm_hmm", "forecast", "fc_hmm")
SOLVED = 0.95  # a seed "solves" a long-lag cell at solve rate >= 95% (benchmarks/long_lag.py's target)
AIR = {"lookback": 36, "horizon": 12, "val_end": 120, "test_end": 132}


def layer_class(name: str):
    module, attr = FAMILIES[name]
    return getattr(importlib.import_module(module), attr)


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


def widths_for(classes, build, ref_width: int) -> tuple[dict, int]:
    """name -> (width, params) matched to the LSTM at ``ref_width``; and that budget."""
    if "lstm" not in classes:
        raise SystemExit("lstmkit: error: the LSTM (the reference of the parameter budget) does not build")
    budget = n_params(build(classes["lstm"], ref_width))
    return {name: match_width(cls, build, budget) for name, cls in classes.items()}, budget


def options(name: str, T_max: int | None) -> dict:
    """Per-model initialisation: the LSTM gets lstmkit's chrono initialisation on the long-lag tasks."""
    return {"chrono_init": T_max} if name == "lstm" and T_max else {}


def lag_build(problem):
    return lambda cls, w, **kw: Net(cls, problem.input_size, w, problem.output_size, tokens=False, **kw)


def copy_build(s):
    return lambda cls, w: Net(cls, s["copy_V"] + 2, w, s["copy_V"], tokens=True)


# ---- planning (in the parent process) ---------------------------------------------------------

def over_ceiling(s: dict, part: str, model: str, T: int) -> str | None:
    """Why a (part, model, T) cell is not run, from ``s["ceilings"]``; None when it runs."""
    top = s.get("ceilings", {}).get(part, {}).get(model)
    if top is not None and T > top:
        return (f"not run: one {model} training step at T > {top} costs more than 1/20 of the cell's CPU "
                f"budget (measured, see settings['ceilings'])")
    return None


def plan(parts, classes, seeds, s, lm_data=None):
    """(cells to run, cells skipped by a ceiling with their reason), in the report's order."""
    cells, skipped = [], []

    def add(cell, reason=None):
        (skipped.append({**cell, "reason": reason}) if reason else cells.append(cell))

    if "lag" in parts:
        for task, Problem in PROBLEMS.items():
            for T in s["lag_lengths"]:
                widths, budget = widths_for(classes, lag_build(Problem(T)), s["lag_width"])
                for name in classes:
                    for seed in seeds:
                        add({"part": "lag", "task": task, "T": T, "model": name, "seed": seed,
                             "width": widths[name][0], "budget": budget}, over_ceiling(s, "lag", name, T))
    if "copy" in parts:
        widths, budget = widths_for(classes, copy_build(s), s["copy_width"])
        for T in s["copy_lengths"]:
            for name in classes:
                for seed in seeds:
                    add({"part": "copy", "T": T, "model": name, "seed": seed, "width": widths[name][0],
                         "budget": budget}, over_ceiling(s, "copy", name, T))
    if "lm" in parts:
        for name in classes:
            for seed in seeds:
                add({"part": "lm", "model": name, "seed": seed, "width": lm_data["widths"][name],
                     "budget": lm_data["budget"]})
        for seed in seeds:
            add({"part": "lm_hmm", "model": "hmm", "seed": seed})
    if "forecast" in parts:
        widths, budget = widths_for(classes, forecast_build, s["fc_width"])
        for name in classes:
            for seed in seeds:
                add({"part": "forecast", "model": name, "seed": seed, "width": widths[name][0], "budget": budget})
        for seed in seeds:
            add({"part": "fc_hmm", "model": "hmm", "seed": seed})
    return cells, skipped


def cost_estimate(cell: dict, s: dict) -> float:
    """Expected CPU seconds of a cell (its budget, plus evaluation growing with T), to start the largest first."""
    part = cell["part"]
    if part in ("lag", "copy"):
        return s[f"{part}_cpu_s"] + cell["T"] / 100
    return {"lm": s["lm_cpu_s"] + 5.0, "lm_hmm": 10.0}.get(part, 1.0)


def cell_label(cell: dict) -> str:
    where = " ".join(str(cell[k]) for k in ("task", "T") if k in cell)
    return f"{cell['part']} {where + ' ' if where else ''}{cell['model']} seed {cell['seed']}"


# ---- the LM's data (loaded once per process) -------------------------------------------------

_LM_CACHE: dict = {}


def lm_texts(s: dict) -> dict:
    """{"ids": {train, val, test}, "chars", "vocab"}: the Bible books of the settings, encoded."""
    key = tuple(tuple(s[f"lm_{p}_books"]) for p in ("train", "val", "test"))
    if key not in _LM_CACHE:
        from lstmkit.data import bible

        texts = {p: "\n".join(v.text for v in bible.load_english(s[f"lm_{p}_books"]))
                 for p in ("train", "val", "test")}
        vocab = char_vocab(texts["train"])
        _LM_CACHE[key] = {"ids": {p: encode(t, vocab) for p, t in texts.items()},
                          "chars": {p: len(t) for p, t in texts.items()}, "vocab": len(vocab) + 1}
    return _LM_CACHE[key]


def lm_plan_data(classes, s) -> dict:
    """The LM's vocabulary size, character counts and parameter-matched widths (no training)."""
    data = lm_texts(s)
    V = data["vocab"]
    widths, budget = widths_for(classes, lambda cls, w: Net(cls, V, w, V, tokens=True), s["lm_width"])
    return {"chars": data["chars"], "vocab": V, "widths": {n: w for n, (w, _) in widths.items()},
            "budget": budget}


def forecast_build(cls, w):
    return Net(cls, 1, w, AIR["horizon"], tokens=False)


# ---- running one cell (in any process) -------------------------------------------------------

def run_cell(cell: dict, s: dict) -> dict:
    """Train and score one cell; the row has the cell's keys, its metrics and CPU counts."""
    cpu0 = time.process_time()
    row = {k: v for k, v in cell.items()}
    row.update(RUNNERS[cell["part"]](cell, s))
    row["cell_cpu_s"] = round(time.process_time() - cpu0, 1)
    row["threads"] = torch.get_num_threads()
    return row


def _lag(cell, s):
    problem = PROBLEMS[cell["task"]](cell["T"])
    seed, T = cell["seed"], cell["T"]
    test = problem.sample(s["lag_test"], torch.Generator().manual_seed(seed + 7919))
    torch.manual_seed(seed)
    net = lag_build(problem)(layer_class(cell["model"]), cell["width"], **options(cell["model"], T + T // 10))
    gen = torch.Generator().manual_seed(seed * 1000 + T)
    info = train_steps(net, lambda _: problem.sample(s["lag_batch"], gen),
                       lambda m, b: problem.loss(last_step_output(m, b), b),
                       s["lag_steps"], s["lag_cpu_s"], s["lr"])
    return {"params": n_params(net), **evaluate_lag(net, problem, test), **info}


def _copy(cell, s):
    K, V, T, seed = s["copy_K"], s["copy_V"], cell["T"], cell["seed"]
    x_test, y_test = selective_copy(s["copy_test"], T, K, V, torch.Generator().manual_seed(seed + 7919))
    torch.manual_seed(seed)
    net = copy_build(s)(layer_class(cell["model"]), cell["width"])
    gen = torch.Generator().manual_seed(seed * 1000 + T)
    info = train_steps(net, lambda _: selective_copy(s["copy_batch"], T, K, V, gen), copy_loss,
                       s["copy_steps"], s["copy_cpu_s"], s["lr"])
    return {"params": n_params(net), "token_accuracy": copy_accuracy(net, x_test, y_test), **info}


def _lm(cell, s):
    data = lm_texts(s)
    ids, V = data["ids"], data["vocab"]
    torch.manual_seed(cell["seed"])
    net = Net(layer_class(cell["model"]), V, cell["width"], V, tokens=True)
    gen = torch.Generator().manual_seed(cell["seed"])
    info = train_steps(net, lambda _: lm_batch(ids["train"], s["lm_batch"], s["lm_bptt"], gen), lm_loss,
                       10**9, s["lm_cpu_s"], s["lr"])
    return {"params": n_params(net), "val_bpc": bits_per_char(net, ids["val"], s["lm_bptt"]),
            "test_bpc": bits_per_char(net, ids["test"], s["lm_bptt"]), **info}


def _lm_hmm(cell, s):
    data = lm_texts(s)
    ids = data["ids"]
    return hmm_bits_per_char(ids["train"][:s["hmm_chars"]].numpy(), ids["test"].numpy(), ids["val"].numpy(),
                             data["vocab"], s["hmm_states"], s["hmm_iter"], cell["seed"])


def _air():
    from lstmkit.data.timeseries import load_airpassengers

    y = load_airpassengers()["y"].to_numpy()
    return y, np.log(y)


def seasonal_naive_row() -> dict:
    y, _ = _air()
    v, t = AIR["val_end"], AIR["test_end"]
    return {"model": "seasonal_naive", "val_mase": mase(y[v:t], y[v - 12:v], y[:v]),
            "test_mase": mase(y[t:], y[t - 12:t], y[:t])}


def _forecast(cell, s):
    y, log_y = _air()
    lookback, v, t = AIR["lookback"], AIR["val_end"], AIR["test_end"]
    x_train, y_train = forecast_windows(log_y, v, lookback, AIR["horizon"])
    torch.manual_seed(cell["seed"])
    net = forecast_build(layer_class(cell["model"]), cell["width"])
    best = {"val": float("inf")}

    def keep_best(step):
        net.eval()
        val = mase(y[v:t], forecast_from(net, log_y, v, lookback), y[:v])
        net.train()
        if val < best["val"]:
            best.update(val=val, step=step, state=copy.deepcopy(net.state_dict()))

    loss = lambda m, b: torch.nn.functional.mse_loss(m(b[0])[:, -1], b[1])  # noqa: E731
    info = train_steps(net, lambda _: (x_train, y_train), loss, s["fc_steps"], 10**9, s["lr"],
                       on_eval=keep_best, eval_every=s["fc_eval_every"])
    net.load_state_dict(best["state"])
    net.eval()
    return {"params": n_params(net), "val_mase": best["val"], "best_step": best["step"],
            "test_mase": mase(y[t:], forecast_from(net, log_y, t, lookback), y[:t]), **info}


def _fc_hmm(cell, s):
    y, log_y = _air()
    v, t, h = AIR["val_end"], AIR["test_end"], AIR["horizon"]
    return {"states": 3, "val_mase": mase(y[v:t], hmm_forecast(log_y, v, h, 3, cell["seed"]), y[:v]),
            "test_mase": mase(y[t:], hmm_forecast(log_y, t, h, 3, cell["seed"]), y[:t])}


RUNNERS = {"lag": _lag, "copy": _copy, "lm": _lm, "lm_hmm": _lm_hmm, "forecast": _forecast, "fc_hmm": _fc_hmm}
