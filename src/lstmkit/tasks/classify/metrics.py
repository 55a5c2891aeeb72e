r"""Classification and regression metrics.

* accuracy :math:`= \frac1N\sum_i [\hat y_i = y_i]`
* per-class :math:`F_1^c = \frac{2\,TP_c}{2\,TP_c + FP_c + FN_c}`; macro-F1 = mean over classes
  present in gold or prediction; ``positive_f1`` = :math:`F_1` of one named class
* confusion matrix :math:`M_{ab}` = number of items of gold class ``a`` predicted as ``b``
* :math:`\mathrm{RMSE} = \sqrt{\frac1N\sum_i(\hat y_i - y_i)^2}`
* Pearson :math:`r = \frac{\sum_i (\hat y_i-\bar{\hat y})(y_i-\bar y)}
  {\sqrt{\sum_i(\hat y_i-\bar{\hat y})^2}\sqrt{\sum_i(y_i-\bar y)^2}}`
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["classification_report", "confusion_matrix", "regression_report"]


def confusion_matrix(gold: Sequence, pred: Sequence, labels: Sequence) -> list[list[int]]:
    """``labels`` x ``labels`` counts, rows = gold, columns = predicted."""
    index = {lab: i for i, lab in enumerate(labels)}
    m = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, pred, strict=True):
        m[index[g]][index[p]] += 1
    return m


def classification_report(gold: Sequence, pred: Sequence, labels: Sequence, positive=None) -> dict:
    """Accuracy, macro-F1, per-class F1, confusion matrix (and F1 of ``positive`` when given)."""
    if len(gold) == 0:
        raise ValueError("classification_report: no items")
    labels = list(labels)
    m = confusion_matrix(gold, pred, labels)
    per_class = {}
    for i, lab in enumerate(labels):
        tp = m[i][i]
        fp = sum(m[j][i] for j in range(len(labels))) - tp
        fn = sum(m[i]) - tp
        per_class[str(lab)] = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")
    present = [v for v in per_class.values() if not math.isnan(v)]
    out = {
        "accuracy": sum(g == p for g, p in zip(gold, pred)) / len(gold),
        "macro_f1": sum(present) / len(present),
        "f1_per_class": per_class,
        "confusion_matrix": m,
        "labels": [str(x) for x in labels],
    }
    if positive is not None:
        out["positive_f1"] = per_class[str(positive)]
    return out


def regression_report(gold: Sequence[float], pred: Sequence[float]) -> dict:
    """RMSE, MAE and Pearson r."""
    n = len(gold)
    if n == 0 or n != len(pred):
        raise ValueError(f"regression_report: need equal non-zero lengths, got {n} and {len(pred)}")
    mg = sum(gold) / n
    mp = sum(pred) / n
    sxy = sum((p - mp) * (g - mg) for g, p in zip(gold, pred))
    sxx = sum((p - mp) ** 2 for p in pred)
    syy = sum((g - mg) ** 2 for g in gold)
    r = sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else float("nan")
    return {
        "rmse": float(math.sqrt(sum((p - g) ** 2 for g, p in zip(gold, pred)) / n)),
        "mae": float(sum(abs(p - g) for g, p in zip(gold, pred)) / n),
        "pearson_r": float(r),
    }
