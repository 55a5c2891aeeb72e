"""Paired bootstrap intervals for "model A against model B on the same test items".

For n test items with true values y and the predictions of two models a and b,
draw B resamples of the n item indices with replacement (the same resample for
both models: the comparison is paired) and compute, on each,

    d* = metric(y*, a*) - metric(y*, b*)

The interval is the (α/2, 1 - α/2) percentile range of the B values of d*
(95% by default). When it contains 0 the verdict is "tie"; otherwise the
model with the better metric wins ("A" or "B", by ``higher_is_better``).
The resampling unit is the test item; items that are not independent (steps
of one forecast path) make the interval too narrow, which the caller says.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

Metric = Callable[[np.ndarray, np.ndarray], float]


def accuracy(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean(y == p))


def _f1_per_class(y: np.ndarray, p: np.ndarray, classes: np.ndarray) -> np.ndarray:
    yc = y[None, :] == classes[:, None]  # (C, n)
    pc = p[None, :] == classes[:, None]
    tp = (yc & pc).sum(1)
    denom = yc.sum(1) + pc.sum(1)  # 2 tp + fp + fn
    return np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)


def macro_f1(classes: Sequence[str]) -> Metric:
    """Unweighted mean over ``classes`` of F1 = 2 TP / (2 TP + FP + FN) (0 for a class never seen)."""
    cls = np.asarray(classes)
    return lambda y, p: float(_f1_per_class(y, p, cls).mean())


def class_f1(positive: str) -> Metric:
    """F1 of one class (the positive class of a binary task)."""
    cls = np.asarray([positive])
    return lambda y, p: float(_f1_per_class(y, p, cls)[0])


def mean_of(losses: np.ndarray) -> float:
    return float(np.mean(losses))


def paired_bootstrap(metric: Metric, y: Sequence, a: Sequence, b: Sequence, *, higher_is_better: bool = True,
                     n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> dict:
    """Metric of A and of B on all items, their difference A - B and its bootstrap interval."""
    y, a, b = np.asarray(y), np.asarray(a), np.asarray(b)
    n = len(y)
    if not (len(a) == len(b) == n) or n == 0:
        raise ValueError(f"expected as many predictions as items, got {len(a)}, {len(b)} for {n}")
    rng = np.random.default_rng(seed)
    diffs = np.empty(n_boot)
    for k in range(n_boot):
        i = rng.integers(0, n, n)
        diffs[k] = metric(y[i], a[i]) - metric(y[i], b[i])
    lo, hi = np.quantile(diffs, [(1 - level) / 2, 1 - (1 - level) / 2])
    diff = metric(y, a) - metric(y, b)
    if lo <= 0 <= hi:
        verdict = "tie"
    else:
        verdict = "A" if (diff > 0) == higher_is_better else "B"
    return {"A": metric(y, a), "B": metric(y, b), "diff": diff, "lo": float(lo), "hi": float(hi),
            "level": level, "n_items": n, "n_boot": n_boot, "seed": seed, "verdict": verdict}


def paired_loss_bootstrap(loss_a: Sequence[float], loss_b: Sequence[float], **kw) -> dict:
    """The same for per-item losses (lower is better): the metric is their mean."""
    la, lb = np.asarray(loss_a, dtype=np.float64), np.asarray(loss_b, dtype=np.float64)
    zeros = np.zeros(len(la))
    idx = np.arange(len(la))
    return paired_bootstrap(lambda y, p: float(np.mean(p)), zeros, la[idx], lb[idx], higher_is_better=False, **kw)


def describe(ci: dict, name_a: str, name_b: str, fmt: str = ".3f") -> str:
    """'A 0.801 vs B 0.797: +0.004 [-0.012, +0.020] (tie)'."""
    verdict = {"tie": "tie", "A": f"{name_a} better", "B": f"{name_b} better"}[ci["verdict"]]
    return (f"{name_a} {ci['A']:{fmt}} vs {name_b} {ci['B']:{fmt}}: {ci['diff']:+{fmt}} "
            f"[{ci['lo']:+{fmt}}, {ci['hi']:+{fmt}}] ({verdict})")


def cm_accuracy(cm: np.ndarray) -> float:
    return float(np.trace(cm) / cm.sum())


def cm_class_f1(cm: np.ndarray) -> np.ndarray:
    """Per-class F1 from a confusion matrix (rows: true class, columns: predicted)."""
    tp = np.diag(cm).astype(np.float64)
    denom = cm.sum(0) + cm.sum(1)
    return np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)


def unpaired_confusion_bootstrap(metric: Callable[[np.ndarray], float], cm_a: Sequence, cm_b: Sequence, *,
                                 higher_is_better: bool = True, n_boot: int = 2000, level: float = 0.95,
                                 seed: int = 0) -> dict:
    """When only the two confusion matrices are known (no per-item predictions): each model's
    n test items are redrawn independently, multinomially from its own cells, and the metric
    recomputed. Ignoring the pairing makes the interval wider than the paired one when the two
    models' errors are positively correlated (the usual case): a conservative interval."""
    a, b = np.asarray(cm_a, dtype=np.int64), np.asarray(cm_b, dtype=np.int64)
    n = int(a.sum())
    if int(b.sum()) != n:
        raise ValueError(f"the confusion matrices count different items: {n} and {int(b.sum())}")
    rng = np.random.default_rng(seed)
    pa, pb = a.ravel() / n, b.ravel() / n
    diffs = np.empty(n_boot)
    for k in range(n_boot):
        ra = rng.multinomial(n, pa).reshape(a.shape)
        rb = rng.multinomial(n, pb).reshape(b.shape)
        diffs[k] = metric(ra) - metric(rb)
    lo, hi = np.quantile(diffs, [(1 - level) / 2, 1 - (1 - level) / 2])
    diff = metric(a) - metric(b)
    verdict = "tie" if lo <= 0 <= hi else ("A" if (diff > 0) == higher_is_better else "B")
    return {"A": metric(a), "B": metric(b), "diff": diff, "lo": float(lo), "hi": float(hi), "level": level,
            "n_items": n, "n_boot": n_boot, "seed": seed, "verdict": verdict,
            "method": "unpaired multinomial bootstrap of the confusion matrices (conservative)"}


def ratio_of_counts(c: np.ndarray) -> float:
    """``c[0] / c[1]`` (0 when ``c[1]`` is 0): accuracy from (correct, total) counts."""
    return float(c[0] / c[1]) if c[1] else 0.0


def f1_of_counts(c: np.ndarray) -> float:
    """``2 c[0] / (c[1] + c[2])`` (0 when both are 0): micro F1 from (correct, predicted, gold) counts."""
    den = c[1] + c[2]
    return float(2 * c[0] / den) if den else 0.0


def paired_cluster_bootstrap(metric: Callable[[np.ndarray], float], counts_a: Sequence, counts_b: Sequence, *,
                             higher_is_better: bool = True, n_boot: int = 2000, level: float = 0.95,
                             seed: int = 0) -> dict:
    """The paired bootstrap with whole clusters (sentences) as the resampling unit.

    ``counts_a[j]``, ``counts_b[j]``: additive counts of cluster j under models A and B (e.g.
    (correct tokens, tokens) for accuracy, (correct spans, predicted spans, gold spans) for span
    F1); ``metric`` maps the counts summed over clusters to the score. Each of the ``n_boot``
    resamples draws n cluster indices with replacement (the same draw for A and B) and computes
    d* = metric(Σ_{j in draw} a_j) - metric(Σ_{j in draw} b_j); the interval is the percentile
    range of d*. Tokens of one sentence are not independent (their errors come together), so
    resampling them one by one gives too narrow an interval; resampling sentences does not.
    With one token per cluster this is :func:`paired_bootstrap` (the same draws for one seed).
    """
    a, b = np.asarray(counts_a, dtype=np.float64), np.asarray(counts_b, dtype=np.float64)
    if a.ndim != 2 or a.shape != b.shape or len(a) == 0:
        raise ValueError(f"expected two (clusters, counts) arrays of one shape, got {a.shape} and {b.shape}")
    n = len(a)
    rng = np.random.default_rng(seed)
    diffs = np.empty(n_boot)
    for k in range(n_boot):
        i = rng.integers(0, n, n)
        diffs[k] = metric(a[i].sum(0)) - metric(b[i].sum(0))
    lo, hi = np.quantile(diffs, [(1 - level) / 2, 1 - (1 - level) / 2])
    score_a, score_b = metric(a.sum(0)), metric(b.sum(0))
    diff = score_a - score_b
    verdict = "tie" if lo <= 0 <= hi else ("A" if (diff > 0) == higher_is_better else "B")
    return {"A": score_a, "B": score_b, "diff": diff, "lo": float(lo), "hi": float(hi), "level": level,
            "n_items": n, "n_boot": n_boot, "seed": seed, "verdict": verdict,
            "method": "paired bootstrap of whole clusters (sentences)"}


def cluster_bootstrap_interval(metric: Callable[[np.ndarray], float], counts: Sequence, **kw) -> dict:
    """The interval of one model's metric with whole clusters resampled: :func:`paired_cluster_bootstrap`
    against a model of metric 0 on every resample (``metric`` of zero counts must be 0, as for
    :func:`ratio_of_counts` and :func:`f1_of_counts`)."""
    c = np.asarray(counts, dtype=np.float64)
    ci = paired_cluster_bootstrap(metric, c, np.zeros_like(c), **kw)
    return {"value": ci["A"], "lo": ci["lo"], "hi": ci["hi"], "level": ci["level"], "n_items": ci["n_items"],
            "n_boot": ci["n_boot"], "seed": ci["seed"], "method": "bootstrap of whole clusters (sentences)"}
