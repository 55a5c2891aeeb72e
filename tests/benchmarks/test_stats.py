"""The paired bootstrap of benchmarks/_stats.py: known differences are found, equal models tie."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import _stats  # noqa: E402

sys.path.pop(0)


def test_macro_f1_by_hand():
    y = np.array(["a", "a", "b", "b"])
    p = np.array(["a", "b", "b", "b"])
    # class a: tp 1, fp 0, fn 1 -> 2/3; class b: tp 2, fp 1, fn 0 -> 4/5
    assert _stats.macro_f1(["a", "b"])(y, p) == pytest.approx((2 / 3 + 4 / 5) / 2)
    assert _stats.class_f1("b")(y, p) == pytest.approx(0.8)
    assert _stats.accuracy(y, p) == 0.75


def test_a_clear_difference_is_not_a_tie_and_identical_models_are():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2000).astype(str)
    good = np.where(rng.random(2000) < 0.9, y, np.where(y == "1", "0", "1"))  # 90% right
    bad = np.where(rng.random(2000) < 0.7, y, np.where(y == "1", "0", "1"))  # 70% right
    ci = _stats.paired_bootstrap(_stats.accuracy, y, good, bad, n_boot=500)
    assert ci["verdict"] == "A" and 0.15 < ci["lo"] < ci["diff"] < ci["hi"] < 0.25
    same = _stats.paired_bootstrap(_stats.accuracy, y, good, good, n_boot=200)
    assert same["verdict"] == "tie" and same["lo"] == same["hi"] == 0.0
    assert "tie" in _stats.describe(same, "lstm", "tfidf")


def test_close_models_tie_and_losses_prefer_the_lower():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300).astype(str)
    a = np.where(rng.random(300) < 0.80, y, "x")
    b = np.where(rng.random(300) < 0.79, y, "x")
    assert _stats.paired_bootstrap(_stats.accuracy, y, a, b, n_boot=500)["verdict"] == "tie"
    ci = _stats.paired_loss_bootstrap(np.full(50, 1.0), np.full(50, 2.0), n_boot=100)
    assert ci["verdict"] == "A" and ci["diff"] == -1.0


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="as many predictions"):
        _stats.paired_bootstrap(_stats.accuracy, [1, 2], [1], [1, 2])


def test_confusion_bootstrap_matches_the_metrics_and_is_wider_than_paired():
    cm_a, cm_b = [[90, 10], [5, 95]], [[80, 20], [15, 85]]
    ci = _stats.unpaired_confusion_bootstrap(_stats.cm_accuracy, cm_a, cm_b, n_boot=500)
    assert ci["A"] == 0.925 and ci["B"] == 0.825 and ci["verdict"] == "A"
    macro = lambda cm: float(_stats.cm_class_f1(cm).mean())  # noqa: E731
    assert macro(np.array(cm_a)) == pytest.approx((180 / 195 + 190 / 205) / 2)
    tie = _stats.unpaired_confusion_bootstrap(_stats.cm_accuracy, cm_a, cm_a, n_boot=500)
    assert tie["verdict"] == "tie" and tie["lo"] < 0 < tie["hi"]
    with pytest.raises(ValueError, match="different items"):
        _stats.unpaired_confusion_bootstrap(_stats.cm_accuracy, cm_a, [[1]])


def test_cluster_bootstrap_of_single_token_clusters_is_the_item_bootstrap():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 400)
    a = np.where(rng.random(400) < 0.8, y, -1)
    b = np.where(rng.random(400) < 0.7, y, -1)
    item = _stats.paired_bootstrap(_stats.accuracy, y, a, b, n_boot=300, seed=5)
    cl = _stats.paired_cluster_bootstrap(_stats.ratio_of_counts, np.c_[a == y, np.ones(400)],
                                         np.c_[b == y, np.ones(400)], n_boot=300, seed=5)
    for key in ("A", "B", "diff", "lo", "hi"):
        assert cl[key] == pytest.approx(item[key])
    assert cl["verdict"] == item["verdict"] == "A" and cl["n_items"] == 400


def test_cluster_bootstrap_is_wider_when_errors_come_in_sentences():
    """Sentences of 20 tokens, each wholly right or wholly wrong: a token-level bootstrap treats the
    8000 tokens as independent and is too narrow; the sentence-level one is about sqrt(20) wider."""
    rng = np.random.default_rng(3)
    n_sent, length = 400, 20
    right_a = rng.random(n_sent) < 0.80
    right_b = rng.random(n_sent) < 0.76
    ca, cb = np.c_[right_a * length, np.full(n_sent, length)], np.c_[right_b * length, np.full(n_sent, length)]
    cl = _stats.paired_cluster_bootstrap(_stats.ratio_of_counts, ca, cb, n_boot=500)
    tok_a, tok_b = np.repeat(right_a, length), np.repeat(right_b, length)
    tok = _stats.paired_bootstrap(_stats.accuracy, np.ones(n_sent * length), tok_a, tok_b, n_boot=500)
    assert cl["diff"] == pytest.approx(tok["diff"])
    assert (cl["hi"] - cl["lo"]) > 3 * (tok["hi"] - tok["lo"])
    assert tok["verdict"] == "A" and cl["verdict"] == "tie"


def test_cluster_bootstrap_f1_counts_and_errors():
    # (correct, predicted, gold) per sentence
    c = np.array([[1, 1, 1], [0, 1, 1], [1, 1, 2]])
    ci = _stats.paired_cluster_bootstrap(_stats.f1_of_counts, c, c, n_boot=50)
    assert ci["A"] == pytest.approx(2 * 2 / (3 + 4)) and ci["verdict"] == "tie" and ci["lo"] == ci["hi"] == 0.0
    assert _stats.f1_of_counts(np.zeros(3)) == 0.0 and _stats.ratio_of_counts(np.zeros(2)) == 0.0
    with pytest.raises(ValueError, match="one shape"):
        _stats.paired_cluster_bootstrap(_stats.f1_of_counts, c, c[:2])


def test_interval_of_one_models_accuracy_over_sentences():
    rng = np.random.default_rng(4)
    right = rng.random(300) < 0.9
    counts = np.c_[right * 10, np.full(300, 10)]  # 300 sentences of 10 tokens, wholly right or wrong
    ci = _stats.cluster_bootstrap_interval(_stats.ratio_of_counts, counts, n_boot=500)
    p = right.mean()
    se = (p * (1 - p) / 300) ** 0.5  # sentences are the independent unit
    assert ci["value"] == pytest.approx(p) and ci["lo"] < p < ci["hi"]
    assert ci["hi"] - ci["lo"] == pytest.approx(2 * 1.96 * se, rel=0.25)
