r"""Classification and regression metrics (computed by scikit-learn and scipy).

* accuracy :math:`= \frac1N\sum_i [\hat y_i = y_i]`
* per-class :math:`F_1^c = \frac{2\,TP_c}{2\,TP_c + FP_c + FN_c}`; macro-F1 = mean over classes
  present in gold or prediction (a class in neither has no F1: ``nan`` in ``f1_per_class``);
  ``positive_f1`` = :math:`F_1` of one named class
* confusion matrix :math:`M_{ab}` = number of items of gold class ``a`` predicted as ``b``
* :math:`\mathrm{RMSE} = \sqrt{\frac1N\sum_i(\hat y_i - y_i)^2}`,
  :math:`\mathrm{MAE} = \frac1N\sum_i|\hat y_i - y_i|`
* Pearson :math:`r = \frac{\sum_i (\hat y_i-\bar{\hat y})(y_i-\bar y)}
  {\sqrt{\sum_i(\hat y_i-\bar{\hat y})^2}\sqrt{\sum_i(y_i-\bar y)^2}}` (``nan`` when either
  side is constant)
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

__all__ = ["classification_report", "confusion_matrix", "regression_report"]


def _check_labels(gold: Sequence, pred: Sequence, labels: Sequence) -> None:
    if len(gold) != len(pred):
        raise ValueError(f"gold and pred: expected the same length, received {len(gold)} and {len(pred)}")
    known = set(labels)
    for what, values in (("gold", gold), ("pred", pred)):
        for i, v in enumerate(values):
            if v not in known:
                raise ValueError(f"{what} item {i}: label {v!r} is not among the labels {list(labels)}")


def confusion_matrix(gold: Sequence, pred: Sequence, labels: Sequence) -> list[list[int]]:
    """``labels`` x ``labels`` counts, rows = gold, columns = predicted."""
    from sklearn.metrics import confusion_matrix as sk_confusion

    labels = list(labels)
    _check_labels(gold, pred, labels)
    if len(gold) == 0:
        return [[0] * len(labels) for _ in labels]
    return sk_confusion(list(gold), list(pred), labels=labels).tolist()


def classification_report(gold: Sequence, pred: Sequence, labels: Sequence, positive=None) -> dict:
    """Accuracy, macro-F1, per-class F1, confusion matrix (and F1 of ``positive`` when given)."""
    from sklearn.metrics import accuracy_score, f1_score

    if len(gold) == 0:
        raise ValueError("classification_report: no items")
    labels = list(labels)
    if positive is not None and positive not in labels:
        raise ValueError(f"positive: {positive!r} is not among the labels {labels}")
    m = confusion_matrix(gold, pred, labels)
    gold, pred = list(gold), list(pred)
    # zero_division=nan: a class absent from both gold and prediction has no F1
    per = f1_score(gold, pred, labels=labels, average=None, zero_division=np.nan)
    per_class = {str(lab): float(v) for lab, v in zip(labels, per)}
    out = {
        "accuracy": float(accuracy_score(gold, pred)),
        "macro_f1": float(np.nanmean(per)),
        "f1_per_class": per_class,
        "confusion_matrix": m,
        "labels": [str(x) for x in labels],
    }
    if positive is not None:
        out["positive_f1"] = per_class[str(positive)]
    return out


def regression_report(gold: Sequence[float], pred: Sequence[float]) -> dict:
    """RMSE, MAE and Pearson r."""
    from scipy.stats import pearsonr
    from sklearn.metrics import mean_absolute_error, mean_squared_error

    n = len(gold)
    if n == 0 or n != len(pred):
        raise ValueError(f"regression_report: need equal non-zero lengths, got {n} and {len(pred)}")
    g = np.asarray(gold, dtype=np.float64)
    p = np.asarray(pred, dtype=np.float64)
    if n < 2 or np.ptp(g) == 0 or np.ptp(p) == 0:
        r = float("nan")
    else:
        with warnings.catch_warnings():  # near-constant input: scipy warns, the value stands
            warnings.simplefilter("ignore")
            r = float(pearsonr(p, g).statistic)
    return {
        "rmse": float(np.sqrt(mean_squared_error(g, p))),
        "mae": float(mean_absolute_error(g, p)),
        "pearson_r": r,
    }
