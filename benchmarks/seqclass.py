"""Sequence classification on aeon's shipped UCR/UEA sets: BiLSTM and LSTM-FCN against 1-NN DTW,
MiniRocket and a summary-statistics logistic regression (issue 16, section 1).

Protocol (written into the JSON):

* the official train/test splits; the test split is touched once, by the final models;
* hyper-parameters (the configurations of :data:`GRID` and the number of
  epochs) are chosen by stratified k-fold cross-validation *inside the train
  split*: every configuration trains on k-1 folds for ``max_epochs`` epochs
  (constant learning rate after warm-up, so the first e epochs of a long run
  are a run of e epochs), its validation accuracy is recorded after every
  epoch, averaged over the folds and smoothed over 5 neighbouring epochs
  (a centred moving average: small validation folds make single epochs
  noisy), and the (configuration, epoch count) with the highest smoothed
  validation accuracy wins (ties: lower smoothed validation loss, then fewer
  epochs);
* the winner is retrained on the whole train split with seeds 0, 1, 2 and
  scored on the test split (mean and standard deviation over seeds);
* the data option ``normalize`` (``channel``: per-channel standardisation
  with training statistics; ``series``: per-series z-normalisation) is a grid
  dimension of every configuration, chosen by the same cross-validation. It
  was added (issue 16, third session) after the first run's test figures were
  known: PLAID's networks were at 30-34% while 1-NN DTW reached 89%, and the
  cause, found on the train split only, was the per-channel standardisation
  (amplitudes from 2e-4 to 460 leave most series near-constant). Data sets
  rerun with this grid carry their own ``grid`` and the earlier entry under
  ``previous_run``; the others keep the first run's figures (``grid_previous_run``);
* every fit aims at 200 optimizer steps (epochs = 200 / batches per epoch,
  at least 15, at most 200). In the first run the ceiling was 50 epochs, so
  the four small sets (2-3 batches per epoch) got 100-150 steps, and their
  cross-validation put the best epoch at or next to that ceiling (GunPoint's
  BiLSTM at chance, 0.56); the ceiling was raised in the same session as the
  ``normalize`` option, after those test figures were known. PLAID and
  JapaneseVowels (22 and 40 epochs) are not affected by the ceiling;
* baselines see the per-channel standardised series whatever the networks
  chose (as in the first run; MiniRocket with seeds 0, 1, 2);
* LSTM-FCN, third run (issue 16, sixth session): its training recipe (the
  number of optimizer steps and the learning-rate schedule) was compared by
  cross-validation inside the train splits (``--recipe-study``; rule and
  scores in ``results/seqclass_recipes.json``), after the second run's test
  figures were known. The adopted recipe trains the second run's LSTM-FCN
  configuration (``--models lstm_fcn --recipe NAME``: no grid CV, no kept
  epoch) with seeds 0, 1, 2, scored once on the test split. Rerun sets keep
  the second run under ``previous_run`` (the first run under its own
  ``previous_run``); the BiLSTM's and the baselines' figures stay those of
  the second run (the baselines are recomputed for the paired intervals; a
  figure that came out different would be listed under ``baselines_recomputed``);
* for each model and baseline: the 95% bootstrap interval (2000 resamples of
  the test items) of the accuracy difference, per item the seed-averaged
  correctness of the model minus that of the baseline; "win" / "loss" when the
  interval excludes 0, else "tie".

PLAID (sktime's copy of the UCR set: appliance currents, lengths 100-1344) is
averaged over blocks of 4 steps for every method.

    python benchmarks/seqclass.py                       # full run -> results/seqclass.json
    python benchmarks/seqclass.py --quick               # smoke run -> results/seqclass.quick.json
    python benchmarks/seqclass.py --datasets GunPoint   # some sets (merged into the JSON)
    python benchmarks/seqclass.py --recipe-study        # LSTM-FCN recipes, CV inside train -> results/seqclass_recipes.json
    python benchmarks/seqclass.py --datasets GunPoint ArrowHead --models lstm_fcn --recipe cosine_1000 --no-early
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from _common import result_path

from lstmkit.io import atomic_write_json
from lstmkit.tasks.seqclass import SeqClass, SeqClassConfig, SeqClassDataConfig, SeqClassModelConfig
from lstmkit.tasks.seqclass.baselines import BASELINES, Baseline
from lstmkit.tasks.seqclass.data import Preprocessor, read_sequences

RESULTS = Path(__file__).resolve().parent / "results"
DATASETS: dict[str, dict[str, Any]] = {
    "JapaneseVowels": {}, "BasicMotions": {}, "GunPoint": {}, "ArrowHead": {}, "ItalyPowerDemand": {},
    "PLAID": {"downsample": 4},
}
NORMALIZE = ("channel", "series")   # a data option in the grid (see the protocol)
GRID: dict[str, list[dict[str, Any]]] = {
    "bilstm": [{"model": "lstm", "bidirectional": True, "hidden_size": 64, "pooling": p, "normalize": z}
               for z in NORMALIZE for p in ("last", "attention")],
    "lstm_fcn": [{"model": "lstm_fcn", "bidirectional": False, "hidden_size": h, "pooling": "last",
                  "normalize": z} for z in NORMALIZE for h in (8, 64)],
}
DATA_KEYS = ("normalize",)          # grid keys that belong to the data section
# max_steps -1: the epoch counts below decide, as in the committed runs (the library's own
# default is now a budget of 1000 steps, chosen from this benchmark's recipe study)
TRAIN = {"lr": 2e-3, "schedule": "constant", "warmup_steps": 10, "weight_decay": 1e-4, "progress": False,
         "max_steps": -1}
SEEDS = (0, 1, 2)
STEPS = 200          # optimizer steps a fit aims at (epochs = STEPS / batches per epoch, in [15, MAX_EPOCHS])
MAX_EPOCHS = 200     # first run: 50, which gave the small sets (2-3 batches per epoch) 100-150 steps


def ts_path(name: str, split: str) -> str:
    """Where the shipped .ts file lies (for the command lines printed)."""
    if name == "PLAID":
        import sktime

        return os.path.join(os.path.dirname(sktime.__file__), "datasets", "data", "PLAID", f"PLAID_{split}.ts")
    import aeon

    return os.path.join(os.path.dirname(aeon.__file__), "datasets", "data", name, f"{name}_{split}.ts")


def load(name: str, split: str) -> tuple[Any, np.ndarray]:
    if name == "PLAID":
        from aeon.datasets import load_from_ts_file

        x, y = load_from_ts_file(ts_path(name, split.upper()))
        return x, np.asarray(y)
    from aeon.datasets import load_classification

    x, y = load_classification(name, split=split)
    return x, np.asarray(y)


def subset(x: Any, index: np.ndarray) -> Any:
    return x[index] if isinstance(x, np.ndarray) else [x[i] for i in index]


def config(choice: dict[str, Any], data: dict[str, Any], batch_size: int) -> SeqClassConfig:
    model = {k: v for k, v in choice.items() if k not in DATA_KEYS}
    data = {**data, **{k: v for k, v in choice.items() if k in DATA_KEYS}}
    return SeqClassConfig(model=SeqClassModelConfig(**model),
                          data=SeqClassDataConfig(batch_size=batch_size, **data))


def select(name: str, x: Any, y: np.ndarray, grid: list[dict[str, Any]], data: dict[str, Any],
           batch_size: int, epochs: int, folds: int) -> dict[str, Any]:
    """Cross-validate every configuration inside the train split (see the module docstring)."""
    from sklearn.model_selection import StratifiedKFold

    _, counts = np.unique(y, return_counts=True)
    k = int(min(folds, counts.min()))
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=0)
    candidates = []
    for choice in grid:
        accs, losses = [], []
        for fit_idx, val_idx in splitter.split(np.zeros(len(y)), y):
            task = SeqClass(config(choice, data, batch_size),
                            SeqClass.default_train(**TRAIN, max_epochs=epochs, restore_best=False, seed=0))
            task.fit((subset(x, fit_idx), y[fit_idx]), val=(subset(x, val_idx), y[val_idx]))
            history = [r for r in task.fit_results[0].history if "val_acc" in r]
            accs.append([r["val_acc"] for r in history])
            losses.append([r["val_loss"] for r in history])
        acc, loss = smooth(np.mean(accs, axis=0)), smooth(np.mean(losses, axis=0))   # (epochs,)
        best = int(min(range(len(acc)), key=lambda e: (-round(acc[e], 6), loss[e], e)))
        candidates.append({"config": choice, "folds": k, "best_epochs": best + 1,
                           "val_accuracy": float(acc[best]), "val_loss": float(loss[best]),
                           "smoothed_val_accuracy_by_epoch": [round(float(a), 4) for a in acc]})
        print(f"  {name} {choice} -> {k}-fold val acc {acc[best]:.3f} at epoch {best + 1}", flush=True)
    winner = max(candidates, key=lambda c: (round(c["val_accuracy"], 6), -c["val_loss"], -c["best_epochs"]))
    return {"chosen": winner["config"], "epochs": winner["best_epochs"], "candidates": candidates}


# ---------------------------------------------------------------- training-recipe study (issue 16, sixth session)
RECIPES: dict[str, dict[str, Any]] = {   # LSTM-FCN training recipes compared by cross-validation inside train
    "constant_200": {"schedule": "constant", "lr": 2e-3, "steps": 200},     # the second run's budget and rate
    "cosine_200": {"schedule": "cosine", "lr": 2e-3, "steps": 200},
    "cosine_1000": {"schedule": "cosine", "lr": 2e-3, "steps": 1000},
    "cosine_2000_lr1e-3": {"schedule": "cosine", "lr": 1e-3, "steps": 2000},  # near Karim et al.'s rate
    "library_default": {"schedule": "cosine", "lr": 3e-3, "epochs": 60},    # the former SeqClass.default_train()
}
STUDY_SETS = ("GunPoint", "ArrowHead", "ItalyPowerDemand", "BasicMotions", "JapaneseVowels")
STUDY_PROTOCOL = """LSTM-FCN training recipes compared on the train splits only (the test splits are not read).
Each data set keeps the LSTM-FCN configuration its second run chose (hidden size, normalize). Out-of-fold
accuracy: stratified 2-fold splits of the train split, repeated with split seeds 0 and 1 (4 fits per
recipe and set, network seed 0). A recipe trains for epochs = ceil(steps / batches per epoch) with AdamW,
10 warm-up steps, weight decay 1e-4; cosine decays to 0.05 of the rate over the whole run. Score: the
validation accuracy after the LAST epoch (what a final fit without a held-out part delivers), averaged
over the 4 fits. Rule, fixed before any result was seen: the recipe with the highest mean score over the
studied sets is adopted for the benchmark's LSTM-FCN; a recipe within 0.01 of it with fewer steps is
preferred. The constant-rate run also records its best smoothed epoch (the second run's protocol picked
the epoch that way); that figure is selected on the same folds, so it is optimistic and not a candidate.
Known when this study was designed: the second run's test figures (LSTM-FCN GunPoint 88.2 +/- 15.7 with
one seed at 66%, ArrowHead 60.0 +/- 4.3, PLAID 78.6 against 1-NN DTW 90.7 / 70.3 / 88.8)."""


def recipe_train(recipe: dict[str, Any], batches: int, seed: int) -> Any:
    """The TrainConfig of ``recipe`` for a fit with ``batches`` batches per epoch (no kept epoch)."""
    epochs = recipe.get("epochs") or math.ceil(recipe["steps"] / batches)
    return SeqClass.default_train(**{**TRAIN, "lr": recipe["lr"], "schedule": recipe["schedule"],
                                     "min_lr_ratio": 0.05}, max_epochs=int(epochs), restore_best=False,
                                  seed=seed)


def recipe_study(names: list[str], path: Path, previous: dict[str, Any], recipes: list[str]) -> dict[str, Any]:
    """Out-of-fold last-epoch accuracy of each of ``recipes`` on each set (see :data:`STUDY_PROTOCOL`)."""
    from sklearn.model_selection import StratifiedKFold

    out: dict[str, Any] = {"protocol": STUDY_PROTOCOL, "recipes": {r: RECIPES[r] for r in recipes},
                           "sets": {}, "threads": 1}
    for name in names:
        chosen = previous["datasets"][name]["models"]["lstm_fcn"]["selection"]["chosen"]
        data = DATASETS[name]
        x, y = load(name, "train")
        batch_size = 16 if len(y) < 100 else 32
        scores: dict[str, Any] = {}
        for rname in recipes:
            fits = []
            for rep in (0, 1):
                splitter = StratifiedKFold(n_splits=2, shuffle=True, random_state=rep)
                for fit_idx, val_idx in splitter.split(np.zeros(len(y)), y):
                    batches = math.ceil(len(fit_idx) / batch_size)
                    task = SeqClass(config(chosen, data, batch_size), recipe_train(RECIPES[rname], batches, 0))
                    task.fit((subset(x, fit_idx), y[fit_idx]), val=(subset(x, val_idx), y[val_idx]))
                    acc = [r["val_acc"] for r in task.fit_results[0].history if "val_acc" in r]
                    fits.append({"last": float(acc[-1]), "epochs": len(acc), "steps": len(acc) * batches,
                                 "seconds": round(task.fit_seconds, 1), "by_epoch": [round(a, 4) for a in acc]})
            last = [f["last"] for f in fits]
            scores[rname] = {"score": float(np.mean(last)), "std": float(np.std(last)), "fits": fits}
            if RECIPES[rname]["schedule"] == "constant":
                curve = smooth(np.mean([f["by_epoch"] for f in fits], axis=0))
                scores[rname]["best_smoothed_epoch"] = {"epoch": int(np.argmax(curve)) + 1,
                                                        "accuracy": float(np.max(curve))}
            print(f"  {name} {rname}: last-epoch CV accuracy {np.mean(last):.3f} +/- {np.std(last):.3f} "
                  f"({sum(f['seconds'] for f in fits):.0f} s)", flush=True)
        out["sets"][name] = {"config": chosen, "batch_size": batch_size, "recipes": scores}
        means = {r: float(np.mean([s["recipes"][r]["score"] for s in out["sets"].values()])) for r in recipes}
        out["mean_score"] = means
        out["selection"] = {"protocol": STUDY_PROTOCOL, "validation_scores": {
            n: {r: s["recipes"][r]["score"] for r in recipes} for n, s in out["sets"].items()}}
        atomic_write_json(path, out)
    return out


def study_score(name: str, recipe: str) -> float | None:
    """The committed study's last-epoch CV accuracy of ``recipe`` on ``name`` (None: not studied)."""
    import json

    path = RESULTS / "seqclass_recipes.json"
    sets = json.loads(path.read_text())["sets"] if path.is_file() else {}
    return sets.get(name, {}).get("recipes", {}).get(recipe, {}).get("score")


def adopted_recipe(mean_score: dict[str, float], tolerance: float = 0.01) -> str:
    """The study's rule: the best mean score, or a recipe within ``tolerance`` of it that needs fewer steps."""
    best = max(mean_score.values())
    close = [r for r, v in mean_score.items() if v >= best - tolerance]
    return min(close, key=lambda r: (RECIPES[r].get("steps", 10**9), -mean_score[r]))


def smooth(values: np.ndarray, window: int = 5) -> np.ndarray:
    """Centred moving average (shorter windows at the ends)."""
    import pandas as pd

    return pd.Series(values).rolling(window, center=True, min_periods=1).mean().to_numpy()


def bootstrap(diff: np.ndarray, reps: int = 2000, seed: int = 0) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), size=(reps, len(diff)))].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def run_dataset(name: str, quick: bool, folds: int, models: tuple[str, ...] = tuple(GRID),
                recipe: str | None = None, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """One data set: the networks of ``models`` (chosen by CV, or with ``recipe``: the previous run's
    configuration trained with that recipe of the study), then every baseline, then the comparisons.
    Models not in ``models`` keep their ``previous`` entry (see :func:`merge_entry`)."""
    started = time.perf_counter()
    data = DATASETS[name]
    x, y = load(name, "train")
    xt, yt = load(name, "test")
    n = len(y)
    batch_size = 16 if n < 100 else 32
    steps = math.ceil(n * (folds - 1) / folds / batch_size)
    epochs = 3 if quick else int(np.clip(round(STEPS / steps), 15, MAX_EPOCHS))
    entry: dict[str, Any] = {"train": n, "test": len(yt), "classes": len(np.unique(y)), "batch_size": batch_size,
                             "max_epochs": epochs, "data": data, "grid": GRID, "models": {}, "baselines": {},
                             "comparison": {}}
    correct: dict[str, np.ndarray] = {}
    last = None
    for model_name in models:
        grid = GRID[model_name][:1] if quick else GRID[model_name]
        if recipe is not None:       # the configuration stays; the study chose the training recipe
            chosen = (previous or {})["models"][model_name]["selection"]["chosen"]
            sel = {"chosen": chosen, "recipe": recipe, **RECIPES[recipe], "cv_accuracy": study_score(name, recipe),
                   "by": "results/seqclass_recipes.json (CV inside train); configuration from the previous run"}
            train = recipe_train({**RECIPES[recipe], **({"steps": 6} if quick else {})},
                                 math.ceil(n / batch_size), 0)
            sel["epochs"] = train.max_epochs
        else:
            sel = select(name, x, y, grid, data, batch_size, epochs, 2 if quick else folds)
            train = SeqClass.default_train(**TRAIN, max_epochs=sel["epochs"], seed=0)
        runs = []
        for seed in SEEDS[:1] if quick else SEEDS:
            task = SeqClass(config(sel["chosen"], data, batch_size), train.replace(seed=seed))
            if seed == 0:
                command = task.command_line(data=ts_path(name, "TRAIN"), out=f"{name}-{model_name}/")
                print(f"reproduce: {command}", flush=True)
            task.fit((x, y))
            pred = task.predict(xt)["prediction"].astype(str).to_numpy()
            runs.append({"seed": seed, "accuracy": float(np.mean(pred == yt.astype(str))),
                         "fit_seconds": round(task.fit_seconds, 1), "hits": pred == yt.astype(str)})
            last = task
        hits = np.mean([r.pop("hits") for r in runs], axis=0)
        correct[model_name] = hits
        accs = [r["accuracy"] for r in runs]
        entry["models"][model_name] = {
            "selection": sel, "runs": runs, "accuracy_mean": float(np.mean(accs)),
            "accuracy_std": float(np.std(accs)), "command": command, "train": train.to_dict()}
        print(f"  {name} {model_name}: test accuracy {np.mean(accs):.4f} +/- {np.std(accs):.4f}", flush=True)
    reference = SeqClass(config({}, {**data, "normalize": "channel"}, batch_size))   # baselines' input
    reference.classes, reference.prep = last.classes, Preprocessor.fit(
        read_sequences((x, y), reference.config.data, "train"), "impute", data.get("downsample", 1), "channel")
    _, series = reference._prepare((x, y), "train")
    test_seqs, test_series = reference._prepare((xt, yt), "test")
    targets = reference._targets(test_seqs, "test")
    for base in BASELINES:
        seeds = SEEDS[:1] if (quick or base != "minirocket") else SEEDS
        t0 = time.perf_counter()
        hits = []
        for seed in seeds:
            pred = Baseline(base, series, last.train_targets, seed=seed).predict(test_series)
            hits.append(pred == targets)
        accs = [float(h.mean()) for h in hits]
        correct[base] = np.mean(hits, axis=0)
        entry["baselines"][base] = {"accuracy_mean": float(np.mean(accs)), "accuracy_std": float(np.std(accs)),
                                    "seeds": len(seeds), "seconds": round(time.perf_counter() - t0, 1)}
        print(f"  {name} {base}: test accuracy {np.mean(accs):.4f}", flush=True)
    for model_name in models:
        for base in BASELINES:
            diff = correct[model_name] - correct[base]
            low, high = bootstrap(diff)
            verdict = "tie" if low <= 0 <= high else ("win" if low > 0 else "loss")
            entry["comparison"][f"{model_name} vs {base}"] = {
                "difference": float(diff.mean()), "ci95": [low, high], "verdict": verdict}
    entry["seconds"] = round(time.perf_counter() - started, 1)
    return entry if set(models) == set(GRID) or previous is None else merge_entry(previous, entry, models)


def merge_entry(previous: dict[str, Any], new: dict[str, Any], models: tuple[str, ...]) -> dict[str, Any]:
    """A data set's entry after rerunning only ``models``: their new figures and comparisons; the other
    models' figures and comparisons, and the baselines' figures, as ``previous`` had them (the baselines
    were recomputed for the paired comparisons: where a figure differs, the new one is kept beside it
    under ``baselines_recomputed``); ``previous`` itself under ``previous_run``."""
    entry = {**new, "models": {}, "comparison": {}, "baselines": dict(previous["baselines"]),
             "previous_run": previous, "rerun_models": list(models)}
    for model_name, result in previous["models"].items():
        entry["models"][model_name] = new["models"][model_name] if model_name in models else result
    for key, cmp in previous["comparison"].items():
        entry["comparison"][key] = new["comparison"][key] if key.split(" vs ")[0] in models else cmp
    differ = {b: r for b, r in new["baselines"].items()
              if abs(r["accuracy_mean"] - previous["baselines"][b]["accuracy_mean"]) > 1e-9}
    if differ:
        entry["baselines_recomputed"] = differ
    return entry


def early_curve(quick: bool, report: dict[str, Any]) -> dict[str, Any]:
    """A unidirectional LSTM on JapaneseVowels: accuracy against the fraction of each utterance heard."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lstmkit.tasks.seqclass import early_accuracy, plot_early_accuracy

    x, y = load("JapaneseVowels", "train")
    xt, yt = load("JapaneseVowels", "test")
    epochs = 3 if quick else report.get("datasets", {}).get("JapaneseVowels", {}).get(
        "models", {}).get("bilstm", {}).get("selection", {}).get("epochs", 60)
    choice = {"model": "lstm", "bidirectional": False, "hidden_size": 64, "pooling": "last"}
    task = SeqClass(config(choice, {}, 32), SeqClass.default_train(**TRAIN, max_epochs=epochs, seed=0))
    print(f"reproduce: {task.command_line(data=ts_path('JapaneseVowels', 'TRAIN'), out='vowels-stream/')}")
    task.fit((x, y))
    curve = early_accuracy(task, (xt, yt))
    out = {"model": choice, "epochs": epochs, "curve": curve.to_dict(orient="records")}
    if not quick:
        dtw = report.get("datasets", {}).get("JapaneseVowels", {}).get("baselines", {}).get("dtw", {})
        fig = plot_early_accuracy(curve, label="unidirectional LSTM(64)", baseline=dtw.get("accuracy_mean"))
        fig.axes[0].set_title("JapaneseVowels: early classification")
        fig.savefig(RESULTS / "seqclass_early.png", dpi=120, bbox_inches="tight")
        plt.close(fig)
    return out


def with_selection(report: dict[str, Any]) -> dict[str, Any]:
    """``report`` with the ``selection`` section every committed result carries: the protocol and,
    per data set and model, the configuration chosen on validation folds and its validation score."""
    scores = {
        name: {model: {"chosen": entry["selection"].get("chosen"), "epochs": entry["selection"].get("epochs"),
                       "val_accuracy": max((c.get("val_accuracy", float("nan"))
                                            for c in entry["selection"].get("candidates", [])),
                                           default=entry["selection"].get("cv_accuracy"))}
               for model, entry in result.get("models", {}).items() if "selection" in entry}
        for name, result in report.get("datasets", {}).items()
    }
    return {**report, "selection": {"protocol": report.get("protocol", ""), "validation_scores": scores}}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 sets, 3 epochs, 1 seed")
    parser.add_argument("--datasets", nargs="*", default=None, choices=tuple(DATASETS))
    parser.add_argument("--folds", type=int, default=2, help="cross-validation folds inside the train split")
    parser.add_argument("--no-early", action="store_true", help="skip the early-classification curve")
    parser.add_argument("--out", default=None, help="JSON to write (default: results/seqclass[.quick].json)")
    parser.add_argument("--merge", nargs="*", default=(), help="JSONs of other runs whose data sets to take in")
    parser.add_argument("--models", nargs="*", default=None, choices=tuple(GRID),
                        help="rerun only these networks (the others' figures are kept from the JSON)")
    parser.add_argument("--recipe", default=None, choices=tuple(RECIPES),
                        help="train the previous run's configuration with this recipe of the study (no grid CV)")
    parser.add_argument("--recipe-study", nargs="*", default=None, choices=tuple(RECIPES),
                        help="compare LSTM-FCN training recipes by CV inside train (no test data) and stop")
    return parser


def output_path(args: argparse.Namespace) -> Path:
    return result_path("seqclass", args.out, args.quick)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    if args.recipe_study is not None:      # the second run's chosen configurations, from the committed JSON
        import json

        chosen = json.loads((RESULTS / "seqclass.json").read_text())
        study = recipe_study(args.datasets or list(STUDY_SETS), result_path("seqclass_recipes", None, args.quick),
                             chosen, args.recipe_study or list(RECIPES))
        print(f"adopted by the rule: {adopted_recipe(study['mean_score'])}")
        return 0
    names = args.datasets or (["JapaneseVowels", "ItalyPowerDemand"] if args.quick else list(DATASETS))
    path = output_path(args)
    report: dict[str, Any] = {}
    if path.is_file():
        import json

        report = json.loads(path.read_text())
    if report.get("grid") not in (None, GRID) and "grid_previous_run" not in report:
        report["grid_previous_run"] = report["grid"]      # the grid of the entries without their own "grid"
    report.update({"protocol": __doc__.split("Protocol (written into the JSON):")[1].split("PLAID (sktime's copy")[0].strip(),
                   "grid": GRID, "train": TRAIN, "steps": STEPS, "max_epochs_ceiling": MAX_EPOCHS, "seeds": list(SEEDS), "folds": args.folds, "threads": 1,
                   "quick": args.quick})
    report.setdefault("datasets", {})
    if args.merge:
        import json

        for other in args.merge:
            report["datasets"].update(json.loads(Path(other).read_text())["datasets"])
        atomic_write_json(path, with_selection(report))
        names = args.datasets or []
    for name in names:
        if name == "PLAID":
            try:
                import sktime  # noqa: F401
            except ImportError:
                print("PLAID skipped: sktime (which ships it) is not installed", file=sys.stderr)
                report["datasets"]["PLAID"] = {"skipped": "sktime not installed"}
                continue
        print(f"== {name}", flush=True)
        previous = report["datasets"].get(name)
        models = tuple(args.models or GRID)
        if (args.recipe or set(models) != set(GRID)) and not (previous and "models" in previous):
            parser.error(f"--models / --recipe rerun part of {name}'s entry, and {path.name} has none")
        report["datasets"][name] = run_dataset(name, args.quick, args.folds, models, args.recipe, previous)
        if previous and "models" in previous and set(models) == set(GRID):
            report["datasets"][name]["previous_run"] = {k: v for k, v in previous.items() if k != "previous_run"}
        atomic_write_json(path, with_selection(report))
    if not args.no_early and not args.merge:
        report["early"] = early_curve(args.quick, report)
        atomic_write_json(path, with_selection(report))
    print_table(report)
    return 0


def print_table(report: dict[str, Any]) -> None:
    """A Markdown table: test accuracy (%) mean +/- std over seeds; verdicts against DTW and MiniRocket."""
    cols = ["bilstm", "lstm_fcn", *BASELINES]
    print("| data set | " + " | ".join(cols) + " | BiLSTM vs DTW / MiniRocket | LSTM-FCN vs DTW / MiniRocket |")
    print("|---" * (len(cols) + 3) + "|")
    for name, entry in report["datasets"].items():
        if "models" not in entry:
            continue
        cells = []
        for c in cols:
            row = entry["models"].get(c) or entry["baselines"].get(c)
            cells.append(f"{100 * row['accuracy_mean']:.1f} ± {100 * row['accuracy_std']:.1f}")
        for model in ("bilstm", "lstm_fcn"):
            parts = []
            for base in ("dtw", "minirocket"):
                cmp = entry["comparison"][f"{model} vs {base}"]
                low, high = (100 * v for v in cmp["ci95"])
                parts.append(f"{cmp['verdict']} [{low:+.1f}, {high:+.1f}]")
            cells.append(" / ".join(parts))
        mark = "" if "grid" in entry else " (first run)"     # not rerun with the current grid and ceiling
        print(f"| {name}{mark} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    sys.exit(main())
