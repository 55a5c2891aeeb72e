"""Anomaly-detection metrics on per-point labels y in {0, 1}.

* ROC-AUC and PR-AUC (average precision) of the continuous scores (scikit-learn).
* Point-wise F1 of the flags: P = TP / (TP + FP), R = TP / (TP + FN), F1 = 2PR / (P + R)
  (scikit-learn; 0 where a denominator is 0).
* Event-wise F1: each true anomalous interval counts once.  Recall = fraction of true
  intervals that overlap at least one flagged point; precision = fraction of flagged
  intervals that overlap at least one true anomalous point; F1 their harmonic mean.
"""

from __future__ import annotations

import numpy as np

from lstmkit.tasks.anomaly.threshold import runs


def _labels(labels, n: int | None = None) -> np.ndarray:
    y = np.asarray(labels).astype(np.int64).ravel()
    if n is not None and len(y) != n:
        raise ValueError(f"labels have {len(y)} points, the scores/flags {n}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0 or 1")
    return y


def _f1(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def roc_auc(labels, scores) -> float:
    from sklearn.metrics import roc_auc_score

    y = _labels(labels, len(np.asarray(scores)))
    if y.min() == y.max():
        raise ValueError("ROC-AUC needs both normal and anomalous points")
    return float(roc_auc_score(y, np.asarray(scores, dtype=np.float64)))


def pr_auc(labels, scores) -> float:
    from sklearn.metrics import average_precision_score

    y = _labels(labels, len(np.asarray(scores)))
    if y.max() == 0:
        raise ValueError("PR-AUC needs at least one anomalous point")
    return float(average_precision_score(y, np.asarray(scores, dtype=np.float64)))


def point_f1(labels, flags) -> dict[str, float]:
    from sklearn.metrics import precision_recall_fscore_support

    f = np.asarray(flags).astype(bool).ravel()
    y = _labels(labels, len(f)).astype(bool)
    precision, recall, f1, _ = precision_recall_fscore_support(
        y, f, labels=[True], average="binary", pos_label=True, zero_division=0.0)
    return {"precision": float(precision), "recall": float(recall), "f1": float(f1)}


def event_f1(labels, flags) -> dict[str, float]:
    f = np.asarray(flags).astype(bool).ravel()
    y = _labels(labels, len(f)).astype(bool)
    true_events, flagged = runs(y), runs(f)
    detected = sum(bool(f[a:b + 1].any()) for a, b in true_events)
    correct = sum(bool(y[a:b + 1].any()) for a, b in flagged)
    recall = detected / len(true_events) if true_events else 0.0
    precision = correct / len(flagged) if flagged else 0.0
    return {"precision": precision, "recall": recall, "f1": _f1(precision, recall),
            "events": len(true_events), "flagged_intervals": len(flagged)}


def all_metrics(labels, scores, flags) -> dict[str, float]:
    """ROC-AUC, PR-AUC, point-wise and event-wise precision/recall/F1 in one flat dict."""
    point, event = point_f1(labels, flags), event_f1(labels, flags)
    return {"roc_auc": roc_auc(labels, scores), "pr_auc": pr_auc(labels, scores),
            "point_precision": point["precision"], "point_recall": point["recall"], "point_f1": point["f1"],
            "event_precision": event["precision"], "event_recall": event["recall"], "event_f1": event["f1"],
            "flagged_intervals": event["flagged_intervals"]}
