"""benchmarks/classify.py decides single member vs ensemble on validation, before test (issue 21, section 3)."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import classify as bench  # noqa: E402

sys.path.pop(0)


def test_rule_prefers_single_on_ties_and_the_ensemble_only_when_strictly_better():
    assert bench.choose_model([0.70, 0.75, 0.72], 0.75) == {**bench.choose_model([0.70, 0.75, 0.72], 0.75),
                                                           "chosen": "single", "best_member": 1}
    assert bench.choose_model([0.70, 0.75, 0.72], 0.7501)["chosen"] == "ensemble"
    assert bench.choose_model([0.80, 0.75, 0.72], 0.78)["chosen"] == "single"
    # ties between members: the first (lowest seed)
    assert bench.choose_model([0.75, 0.75, 0.70], None) == {**bench.choose_model([0.75], None), "best_member": 0}
    assert bench.choose_model([0.7], None)["chosen"] == "single"


def _corpus(n: int, seed: int = 0):
    rng = random.Random(seed)
    good, bad, filler = ["great", "fine", "lovely"], ["awful", "bad", "dull"], ["the", "film", "was", "a", "plot"]
    texts, labels = [], []
    for i in range(n):
        y = i % 2
        words = rng.choices(filler, k=4) + [rng.choice(good if y else bad)]
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(y)
    return texts, labels



def test_run_chooses_on_validation_before_scoring_test(monkeypatch):
    texts, labels = _corpus(120)
    _, test_idx, _, val_idx = bench.split(len(texts), labels)
    val_texts, test_texts = [texts[i] for i in val_idx], [texts[i] for i in test_idx]
    calls = []
    real_predict = bench.TextClassifier.predict

    def predict(self, batch, *a, **kw):
        calls.append("test" if list(batch) == test_texts else "val" if list(batch) == val_texts else "other")
        return real_predict(self, batch, *a, **kw)

    monkeypatch.setattr(bench.TextClassifier, "predict", predict)
    kw = {"pooling": "max", "embed_dim": 8, "hidden": 8, "dropout": 0.0, "embed_dropout": 0.0, "max_tokens": 10}
    out = bench.run("toy", texts, labels, labels, "classes", kw, epochs=1, seed=0, n_seeds=2)
    sel = out["selection"]
    assert len(sel["member_val_accuracy"]) == 2 and sel["n_validation"] == len(bench.split(120, labels)[3])
    assert all(0.0 <= a <= 1.0 for a in sel["member_val_accuracy"] + [sel["ensemble_val_accuracy"]])
    assert sel["chosen"] == bench.choose_model(sel["member_val_accuracy"], sel["ensemble_val_accuracy"])["chosen"]
    # every validation prediction precedes the first test prediction; only the chosen model sees test
    first_test = calls.index("test")
    assert set(calls[:first_test]) == {"val"} and set(calls[first_test:]) == {"test"}
    n_test_models = 2 if sel["chosen"] == "ensemble" else 1
    assert calls.count("test") == n_test_models and len(out["lstm"]["seeds"]) == n_test_models
    assert out["lstm"]["chosen"] == sel["chosen"]
    # per-item test predictions of both models, aligned with the labels, for the paired bootstrap
    pred = out["predictions"]
    assert len(pred["labels"]) == len(pred["lstm"]) == len(pred["tfidf_logreg"]) == out["n_test"]
    ci = bench.intervals({"toy": out})["toy"]["accuracy"]
    assert ci["method"] == "paired bootstrap of test items" and ci["n_boot"] == 2000
    assert ci["lo"] <= ci["diff"] <= ci["hi"]


def test_selection_section_records_the_validation_numbers():
    res = {"toy": {"selection": {"n_validation": 10, "member_val_accuracy": [0.6, 0.7],
                                 "ensemble_val_accuracy": 0.8, "chosen": "ensemble", "seeds": [0, 1]},
                   "lstm": {}}}
    sel = bench.selection(res)
    assert sel["validation_scores"]["toy"]["member_val_accuracy"] == [0.6, 0.7]
    assert sel["validation_scores"]["toy"]["ensemble_val_accuracy"] == pytest.approx(0.8)


def test_previous_run_keeps_replaced_entries_and_earlier_ones():
    old = {"tasks": {"a": {"lstm": 1}, "b": {"lstm": 2}}, "intervals": {"a": {"x": 1}},
           "selection": {"protocol": "p"}, "previous_run": {"c": {"task": 3}}}
    prev = bench.keep_previous(old, ["a"])
    assert prev["a"] == {"task": {"lstm": 1}, "intervals": {"x": 1}, "selection": {"protocol": "p"}}
    assert prev["c"] == {"task": 3} and "b" not in prev


def test_committed_run_chose_on_validation_and_carries_paired_intervals():
    """The committed classify.json: the choice follows the rule from its recorded validation
    accuracies, the test report is the chosen model's, and the intervals are paired."""
    data = json.loads((Path(bench.__file__).parent / "results" / "classify.json").read_text())
    for name in ("sms_spam", "movie_reviews_binary"):
        task = data["tasks"][name]
        sel = task["selection"]
        assert sel["chosen"] == bench.choose_model(sel["member_val_accuracy"], sel["ensemble_val_accuracy"])["chosen"]
        assert data["selection"]["validation_scores"][name]["chosen"] == sel["chosen"] == task["lstm"]["chosen"]
        assert len(task["lstm"]["seeds"]) == (len(sel["seeds"]) if sel["chosen"] == "ensemble" else 1)
        y, a = task["predictions"]["labels"], task["predictions"]["lstm"]
        assert sum(p == t for p, t in zip(a, y)) / len(y) == pytest.approx(task["lstm"]["accuracy"])
        for metric in ("accuracy", "macro_f1"):
            ci = data["intervals"][name][metric]
            assert ci["method"] == "paired bootstrap of test items" and ci["n_items"] == task["n_test"]
            assert ci["verdict"] == ("tie" if ci["lo"] <= 0 <= ci["hi"] else "A" if ci["diff"] > 0 else "B")
        assert name in data["previous_run"]
