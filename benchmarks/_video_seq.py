"""Sequence classification for ``benchmarks/video.py``: row-by-row Fashion-MNIST and MNIST-1D.

The model is an ``lstmkit.LSTM`` and a linear layer on its last state (for a
bidirectional LSTM, the forward direction's last state beside the backward
direction's state at step 1), trained with AdamW and a one-cycle learning-rate
schedule, gradient norm clipped at 1:

    logits = W [h_T^→ ; h_1^←] + b,   loss = cross-entropy(logits, y)

Two ways of running it:

* **validation only** (``video.py --no-test``, :func:`fmnist_sweep`,
  :func:`mnist1d_cv`): a list of candidates fixed in advance (:data:`SWEEP`) is
  trained and scored on data carved from the training split only; the test
  arrays are never loaded. Fashion-MNIST uses the same 6000-image validation
  split as the earlier runs and saves each candidate's kept weights; MNIST-1D
  scores each candidate by K-fold cross-validation inside its 4000 training
  series (one seed per fold, the last epoch's weights, so that no epoch is
  picked on the fold that scores it). The candidate with the highest
  validation score is the ``chosen`` one.
* **final** (``video.py --sections fmnist_rows mnist1d --from-sweep``,
  :func:`fmnist_final`, :func:`mnist1d_final`): the chosen Fashion-MNIST
  candidate's saved weights are reloaded (their validation accuracy is
  recomputed and must match) and the test set is scored once; for MNIST-1D the
  chosen setting is trained with three seeds on all 4000 training series to
  the end of its schedule, and the mean of their softmax outputs scores the
  test set once.
"""

from __future__ import annotations

import copy
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

# candidates fixed before the sweep ran (issue 15, third session); overrides of BASE. Each costs minutes
# on one loaded thread, so the lists are short: a bidirectional Fashion-MNIST LSTM and a 256-wide MNIST-1D
# LSTM were listed first and dropped, before any score, for time
BASE = {
    "fmnist_rows": {"hidden_size": 128, "batch_size": 128, "lr": 2e-3, "val": 6000, "max_epochs": 20,
                    "budget_s": 3600, "bidirectional": False, "layer_norm": False},
    "mnist1d": {"hidden_size": 128, "batch_size": 64, "lr": 2e-3, "folds": 3, "max_epochs": 60,
                "budget_s": 3600, "bidirectional": False, "layer_norm": False, "final_seeds": [0, 1, 2]},
}
SWEEP: dict[str, dict[str, dict[str, Any]]] = {
    "fmnist_rows": {"h128": {}, "h256": {"hidden_size": 256}, "h128_layer_norm": {"layer_norm": True}},
    "mnist1d": {"h128_e60": {}, "h128_e120": {"max_epochs": 120}, "h128_bidirectional_e60": {"bidirectional": True}},
}
QUICK = {"fmnist_rows": {"max_epochs": 1, "limit": 1000, "val": 500},
         "mnist1d": {"max_epochs": 1, "folds": 2, "limit": 400, "final_seeds": [0]}}
QUICK_CANDIDATES = 2  # a quick run tries the first two candidates of each list


def candidates(section: str, quick: bool) -> dict[str, dict[str, Any]]:
    """Each candidate's full settings (BASE with its overrides; QUICK on top for a smoke run)."""
    names = list(SWEEP[section])[: QUICK_CANDIDATES if quick else None]
    return {name: {**BASE[section], **SWEEP[section][name], **(QUICK[section] if quick else {})}
            for name in names}


# --------------------------------------------------------------------------- data
def fmnist_arrays(s: dict[str, Any], with_test: bool):
    """Standardised row sequences ``(x_tr, y_tr, x_val, y_val, x_te, y_te)``; test is None unless asked.

    The statistics come from the whole training split; the validation part is the first ``s["val"]``
    of a seed-0 permutation (the split of every earlier run).
    """
    from lstmkit.tasks.video import load_fashion_mnist

    x, y = load_fashion_mnist("train")
    x = x.astype(np.float32) / 255.0
    mean, std = float(x.mean()), float(x.std())
    x, y = (x - mean) / std, y.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(x))
    val_idx, tr_idx = order[: s["val"]], order[s["val"]:]
    if "limit" in s:
        tr_idx = tr_idx[: s["limit"]]
    x_te = y_te = None
    if with_test:
        x_te, y_te = load_fashion_mnist("test")
        x_te, y_te = (x_te.astype(np.float32) / 255.0 - mean) / std, y_te.astype(np.int64)
        if "limit" in s:
            x_te, y_te = x_te[: s["limit"]], y_te[: s["limit"]]
    return x[tr_idx], y[tr_idx], x[val_idx], y[val_idx], x_te, y_te


def mnist1d_arrays(with_test: bool):
    """MNIST-1D regenerated offline (a download attempt raises): ``(x, y, x_te, y_te)``, (N, 40, 1)."""
    import requests
    from mnist1d.data import get_dataset_args, make_dataset

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("mnist1d tried to download")

    saved = requests.get
    requests.get = refuse
    try:
        data = make_dataset(get_dataset_args())
    finally:
        requests.get = saved
    x, y = data["x"].astype(np.float32)[..., None], data["y"].astype(np.int64)
    if not with_test:
        return x, y, None, None
    return x, y, data["x_test"].astype(np.float32)[..., None], data["y_test"].astype(np.int64)


# --------------------------------------------------------------------------- model and training
class RowClassifier(torch.nn.Module):
    """``lstmkit.LSTM`` + linear head on the last state(s); ``probs(x)`` gives softmax rows in eval mode."""

    def __init__(self, input_size: int, classes: int, s: dict[str, Any]) -> None:
        import lstmkit

        super().__init__()
        options = {"layer_norm": True} if s.get("layer_norm") else {}
        self.lstm = lstmkit.LSTM(input_size, s["hidden_size"], batch_first=True,
                                 bidirectional=bool(s.get("bidirectional")), **options)
        self.head = torch.nn.Linear(s["hidden_size"] * (2 if s.get("bidirectional") else 1), classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (h, _) = self.lstm(x)
        last = torch.cat([h[-2], h[-1]], 1) if self.lstm.bidirectional else h[-1]
        return self.head(last)

    @torch.no_grad()
    def probs(self, x: np.ndarray) -> np.ndarray:
        was = self.training
        self.eval()
        out = [self(torch.from_numpy(x[i:i + 1000])).softmax(1).numpy() for i in range(0, len(x), 1000)]
        self.train(was)
        return np.concatenate(out)


def train_lstm(x_tr, y_tr, x_val, y_val, s: dict[str, Any], seed: int = 0, keep: str = "best"):
    """Train one classifier; returns ``(record, model)`` in eval mode, the test set untouched.

    ``keep="best"``: the weights of the epoch with the best validation accuracy; ``keep="last"``: the
    last epoch's (the one-cycle schedule has annealed to ~0 there); ``x_val=None`` trains without a
    validation score (then ``keep`` must be ``"last"``).
    """
    if x_val is None and keep != "last":
        raise ValueError("keep='best' needs validation data")
    torch.manual_seed(seed)
    model = RowClassifier(x_tr.shape[2], 10, s)
    opt = torch.optim.AdamW(model.parameters(), lr=s["lr"], weight_decay=1e-4)
    steps_per_epoch = -(-len(x_tr) // s["batch_size"])
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, s["lr"], total_steps=steps_per_epoch * s["max_epochs"])
    xt, yt = torch.from_numpy(x_tr), torch.from_numpy(y_tr)
    gen = torch.Generator().manual_seed(seed)
    start, history, best = time.perf_counter(), [], (-1.0, None, 0)
    model.train()
    for epoch in range(s["max_epochs"]):
        for idx in torch.randperm(len(xt), generator=gen).split(s["batch_size"]):
            loss = F.cross_entropy(model(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
        if x_val is not None:
            history.append(float(np.mean(model.probs(x_val).argmax(1) == y_val)))
            if keep == "best" and history[-1] > best[0]:
                best = (history[-1], copy.deepcopy(model.state_dict()), epoch + 1)
        print(f"  epoch {epoch + 1}: val_acc {history[-1] if history else float('nan'):.4f} "
              f"({time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)
        if time.perf_counter() - start > s["budget_s"]:
            break
    if keep == "best":
        model.load_state_dict(best[1])
    kept = best[2] if keep == "best" else epoch + 1
    model.eval()
    record = {"epochs_run": epoch + 1, "kept_epoch": kept, "fit_seconds": round(time.perf_counter() - start, 1),
              "parameters": int(sum(p.numel() for p in model.parameters())), "train_size": len(x_tr)}
    if history:
        record.update(val_accuracy_by_epoch=history, val_accuracy=history[kept - 1])
    return record, model


def _chosen(scores: dict[str, float]) -> str:
    """The candidate with the highest validation score (the first listed on a tie)."""
    return max(scores, key=lambda name: (scores[name], -list(scores).index(name)))


# --------------------------------------------------------------------------- validation-only sweeps
def fmnist_sweep(quick: bool, ckpt_dir: Path) -> dict[str, Any]:
    """Every Fashion-MNIST candidate on the 6000-image validation split; kept weights saved to ``ckpt_dir``."""
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {"candidates": {}}
    for name, s in candidates("fmnist_rows", quick).items():
        print(f"  fmnist_rows candidate {name}", file=sys.stderr, flush=True)
        x_tr, y_tr, x_val, y_val, _, _ = fmnist_arrays(s, with_test=False)
        record, model = train_lstm(x_tr, y_tr, x_val, y_val, s)
        torch.save({"settings": s, "state_dict": model.state_dict(), "val_accuracy": record["val_accuracy"]},
                   ckpt_dir / f"fmnist_rows-{name}.pt")
        out["candidates"][name] = {"settings": s, **record}
    out["chosen"] = _chosen({k: v["val_accuracy"] for k, v in out["candidates"].items()})
    out["score"] = "accuracy of the best-validation epoch's weights on the 6000 held-out training images"
    return out


def mnist1d_cv(quick: bool) -> dict[str, Any]:
    """Every MNIST-1D candidate scored by K-fold CV inside the training series (fold k trains with seed k)."""
    x, y, _, _ = mnist1d_arrays(with_test=False)
    out: dict[str, Any] = {"candidates": {}}
    for name, s in candidates("mnist1d", quick).items():
        xs, ys = (x[: s["limit"]], y[: s["limit"]]) if "limit" in s else (x, y)
        folds = np.array_split(np.random.default_rng(0).permutation(len(xs)), s["folds"])
        runs = []
        for k, val_idx in enumerate(folds):
            print(f"  mnist1d candidate {name} fold {k}", file=sys.stderr, flush=True)
            tr_idx = np.concatenate([f for j, f in enumerate(folds) if j != k])
            record, _ = train_lstm(xs[tr_idx], ys[tr_idx], xs[val_idx], ys[val_idx], s, seed=k, keep="last")
            runs.append({"fold": k, **record})
        curves = np.array([r["val_accuracy_by_epoch"] for r in runs])
        out["candidates"][name] = {
            "settings": s, "folds": runs, "cv_accuracy_last_epoch": float(curves[:, -1].mean()),
            "cv_accuracy_last_epoch_per_fold": curves[:, -1].tolist(),
            "cv_mean_curve_best_epoch": int(curves.mean(0).argmax() + 1),
            "fit_seconds": round(sum(r["fit_seconds"] for r in runs), 1)}
    out["chosen"] = _chosen({k: v["cv_accuracy_last_epoch"] for k, v in out["candidates"].items()})
    out["score"] = ("mean over the folds of the last epoch's validation accuracy (each fold's model trained on the "
                    "other folds; no epoch picked on the fold that scores it)")
    return out


# --------------------------------------------------------------------------- finals (test scored once)
def fmnist_final(sweep: dict[str, Any], ckpt_dir: Path, with_test: bool = True) -> dict[str, Any]:
    """Reload the chosen candidate's kept weights, re-check its validation accuracy, score test once."""
    name = sweep["chosen"]
    saved = torch.load(ckpt_dir / f"fmnist_rows-{name}.pt", weights_only=False)
    s = saved["settings"]
    if s != sweep["candidates"][name]["settings"]:
        raise RuntimeError(f"checkpoint of {name} was trained with other settings than the sweep records")
    x_tr, _, x_val, y_val, x_te, y_te = fmnist_arrays(s, with_test=with_test)
    model = RowClassifier(x_tr.shape[2], 10, s)
    model.load_state_dict(saved["state_dict"])
    val_acc = float(np.mean(model.probs(x_val).argmax(1) == y_val))
    if abs(val_acc - sweep["candidates"][name]["val_accuracy"]) > 1e-9:
        raise RuntimeError(f"reloaded {name} scores {val_acc} on validation, the sweep recorded another score")
    record = {k: v for k, v in sweep["candidates"][name].items()}
    record.update(candidate=name, trained_in="the validation-only sweep (video_validation.json); weights reloaded")
    if with_test:
        record["test_accuracy"] = float(np.mean(model.probs(x_te).argmax(1) == y_te))
        print(f"fmnist_rows ({name}) val {val_acc:.4f} test {record['test_accuracy']:.4f}", file=sys.stderr)
    return record


def mnist1d_final(sweep: dict[str, Any], quick: bool) -> dict[str, Any]:
    """The chosen setting, three seeds on all training series to the schedule's end; test scored once."""
    name = sweep["chosen"]
    s = {**BASE["mnist1d"], **SWEEP["mnist1d"][name], **(QUICK["mnist1d"] if quick else {})}
    x, y, x_te, y_te = mnist1d_arrays(with_test=True)
    if "limit" in s:
        x, y, x_te, y_te = x[: s["limit"]], y[: s["limit"]], x_te[: s["limit"]], y_te[: s["limit"]]
    runs, members = [], []
    for seed in s["final_seeds"]:
        print(f"  mnist1d final {name} seed {seed}", file=sys.stderr, flush=True)
        record, model = train_lstm(x, y, None, None, s, seed=seed, keep="last")
        runs.append({"seed": seed, **record})
        members.append(model)
    test_acc = float(np.mean(np.mean([m.probs(x_te) for m in members], 0).argmax(1) == y_te))
    print(f"mnist1d ({name}) ensemble test {test_acc:.4f}", file=sys.stderr)
    return {"candidate": name, "settings": s, "seeds": runs, "test_accuracy": test_acc,
            "cv_accuracy_last_epoch": sweep["candidates"][name]["cv_accuracy_last_epoch"],
            "model": f"mean of {len(members)} seeds' softmax, each trained on all {len(x)} training series, "
                     "last epoch's weights",
            "fit_seconds": round(sum(r["fit_seconds"] for r in runs), 1),
            "parameters": runs[0]["parameters"] * len(runs), "train_size": len(x)}
