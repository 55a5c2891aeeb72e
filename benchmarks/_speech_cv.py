"""FSDD BiLSTM settings chosen by k-fold cross-validation inside the train half (issue 13).

The train half (1,500 utterances) is cut into :data:`FOLDS` stratified folds.
For each candidate of :data:`CANDIDATES` (declared before the run, in order of
preference), fold ``f``'s model is trained on the other folds (seed
``seed + f``), keeps the epoch of lowest loss on fold ``f`` and predicts fold
``f``. The candidate's *CV accuracy* is the out-of-fold accuracy over all
1,500 train utterances (each predicted once, by a model that never trained on
it):

    cv_acc = (1 / N) * sum_i [argmax_k p_{f(i)}(k | x_i) == y_i]

The candidate with the highest CV accuracy wins (a tie goes to the earlier
candidate). Its :data:`FOLDS` fold models, unchanged, are the test ensemble:
the mean of their class probabilities (together they have seen the whole
train half; no retraining). No test utterance is read by any of this.

Delta features (``deltas``): the MFCCs are extended with their regression
deltas and delta-deltas, N = 2 frames each side, edges repeated:

    d_t = sum_{n=1..N} n * (c_{t+n} - c_{t-n}) / (2 * sum_{n=1..N} n^2)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

FOLDS = 5
MASKS = {"time_masks": 2, "freq_masks": 1, "freq_width": 2, "time_width": 4}
STRONG_MASKS = {"time_masks": 2, "freq_masks": 2, "freq_width": 3, "time_width": 8}
CANDIDATES: tuple[dict[str, Any], ...] = (
    {"name": "h64_masks", "hidden_size": 64, "augment": MASKS, "deltas": False, "max_epochs": 15},
    {"name": "h64_masks_deltas", "hidden_size": 64, "augment": MASKS, "deltas": True, "max_epochs": 15},
    {"name": "h64_strong_masks", "hidden_size": 64, "augment": STRONG_MASKS, "deltas": False, "max_epochs": 15},
    {"name": "h128_masks", "hidden_size": 128, "augment": MASKS, "deltas": False, "max_epochs": 15},
    # added before the first full CV run finished, when its first two fold models had kept their last
    # (15th) epoch: a longer budget, the kept-epoch rule unchanged
    {"name": "h64_masks_25_epochs", "hidden_size": 64, "augment": MASKS, "deltas": False, "max_epochs": 25},
)


def deltas(x: np.ndarray, n: int = 2) -> np.ndarray:
    """``(T, F)`` -> ``(T, F)`` regression deltas (module docstring), edges repeated."""
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"deltas need a non-empty (frames, features) array, received shape {x.shape}")
    padded = np.concatenate([np.repeat(x[:1], n, 0), x, np.repeat(x[-1:], n, 0)])
    t = len(x)
    num = sum(k * (padded[n + k: n + k + t] - padded[n - k: n - k + t]) for k in range(1, n + 1))
    return (num / (2 * sum(k * k for k in range(1, n + 1)))).astype(x.dtype)


def with_deltas(x: np.ndarray) -> np.ndarray:
    """MFCCs, deltas and delta-deltas side by side: ``(T, 3F)``."""
    d = deltas(x)
    return np.concatenate([x, d, deltas(d)], axis=1)


def stratified_folds(y: np.ndarray, k: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``k`` disjoint index arrays covering ``range(len(y))``, each class dealt round-robin after a shuffle."""
    if k < 2:
        raise ValueError(f"need at least 2 folds, received {k}")
    folds: list[list[int]] = [[] for _ in range(k)]
    start = 0
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        for j, i in enumerate(idx):
            folds[(start + j) % k].append(int(i))
        start = (start + len(idx)) % k  # class sizes not divisible by k do not all pile on fold 0
    return [np.sort(np.asarray(f, dtype=np.int64)) for f in folds]


def cross_validate(X: list[np.ndarray], y: np.ndarray, candidates: tuple[dict[str, Any], ...],
                   make_task: Callable[[dict[str, Any], int], Any], proba: Callable[[Any, Any], np.ndarray],
                   texts: Callable[[np.ndarray], list[str]], epoch_of: Callable[[Any, int], int], seed: int,
                   folds: int = FOLDS, log: Callable[..., None] = print) -> tuple[list[dict[str, Any]], dict[str, Any], list[Any]]:
    """Every candidate on the same folds of ``(X, y)``. Returns the per-candidate records, the winner's
    record and the winner's fold models. ``make_task(candidate, seed)`` builds an unfitted task,
    ``proba(task, data)`` gives class probabilities with columns in label order 0..K-1,
    ``epoch_of(task, max_epochs)`` the epoch the fit kept."""
    parts = stratified_folds(y, folds, np.random.default_rng(seed))
    records: list[dict[str, Any]] = []
    best_models: list[Any] = []
    for cand in candidates:
        feats = [with_deltas(x) for x in X] if cand["deltas"] else X
        take = lambda idx: ([feats[i] for i in idx], texts(y[idx]))  # noqa: E731, B023
        oof = np.full(len(y), -1, dtype=np.int64)
        fold_records, fold_models = [], []
        started = time.perf_counter()
        for f, held in enumerate(parts):
            rest = np.sort(np.concatenate([p for g, p in enumerate(parts) if g != f]))
            task = make_task(cand, seed + f).fit(take(rest), val=take(held))
            oof[held] = proba(task, take(held)).argmax(1)
            fold_records.append({"fold": f, "seed": seed + f, "n": len(held),
                                 "accuracy": float(np.mean(oof[held] == y[held])),
                                 "epoch_kept": epoch_of(task, cand["max_epochs"]), "fit_seconds": round(task.fit_seconds, 1)})
            fold_models.append(task)
            log("cv", cand["name"], fold_records[-1])
        assert (oof >= 0).all()
        record = {**cand, "cv_accuracy": float(np.mean(oof == y)),
                  "cv_correct": int(np.sum(oof == y)), "n": len(y), "folds": fold_records,
                  "seconds": round(time.perf_counter() - started, 1)}
        if not records or record["cv_accuracy"] > max(r["cv_accuracy"] for r in records):
            best_models = fold_models  # only the leader's models are kept (a tie keeps the earlier one)
        records.append(record)
        log("cv", cand["name"], "accuracy", f"{record['cv_accuracy']:.4f}", f"({record['cv_correct']}/{len(y)})")
    best = max(range(len(records)), key=lambda i: (records[i]["cv_accuracy"], -i))
    return records, records[best], best_models
