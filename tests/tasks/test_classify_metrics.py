"""Classification and regression reports against hand-computed values."""

from __future__ import annotations

import math

import pytest

from lstmkit.tasks.classify.metrics import (
    classification_report,
    confusion_matrix,
    regression_report,
)


def test_three_classes_one_never_seen():
    gold = ["a", "a", "a", "b", "b", "c"]
    pred = ["a", "b", "a", "b", "c", "c"]
    r = classification_report(gold, pred, ["a", "b", "c", "d"], positive="c")
    assert r["confusion_matrix"] == [[2, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 0], [0, 0, 0, 0]]
    assert r["accuracy"] == pytest.approx(4 / 6)
    # a: TP 2, FP 0, FN 1 -> 4/5; b: TP 1, FP 1, FN 1 -> 1/2; c: TP 1, FP 1, FN 0 -> 2/3
    assert r["f1_per_class"]["a"] == pytest.approx(0.8)
    assert r["f1_per_class"]["b"] == pytest.approx(0.5)
    assert r["positive_f1"] == pytest.approx(2 / 3)
    # d is in neither gold nor prediction: no F1, and not in the macro mean
    assert math.isnan(r["f1_per_class"]["d"])
    assert r["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert r["labels"] == ["a", "b", "c", "d"]


def test_a_predicted_but_absent_class_scores_zero():
    r = classification_report(["a", "a"], ["a", "b"], ["a", "b"])
    assert r["f1_per_class"] == {"a": pytest.approx(2 / 3), "b": 0.0}
    assert r["macro_f1"] == pytest.approx(1 / 3)


def test_unknown_labels_and_lengths_are_errors():
    with pytest.raises(ValueError, match="pred item 1: label 'z' is not among the labels"):
        confusion_matrix(["a", "b"], ["a", "z"], ["a", "b"])
    with pytest.raises(ValueError, match="same length"):
        classification_report(["a"], ["a", "b"], ["a", "b"])
    with pytest.raises(ValueError, match="positive"):
        classification_report(["a"], ["a"], ["a", "b"], positive="c")
    with pytest.raises(ValueError, match="no items"):
        classification_report([], [], ["a"])


def test_regression_by_hand():
    g = regression_report([1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 4.0, 6.0])
    assert g["rmse"] == pytest.approx(math.sqrt((1 + 0 + 1 + 4) / 4))
    assert g["mae"] == pytest.approx(1.0)
    # pred deviations (-1.5, -1.5, 0.5, 2.5), gold (-1.5, -0.5, 0.5, 1.5): 7 / sqrt(11 * 5)
    assert g["pearson_r"] == pytest.approx(7 / math.sqrt(11 * 5))
    assert math.isnan(regression_report([1.0, 2.0], [3.0, 3.0])["pearson_r"])
