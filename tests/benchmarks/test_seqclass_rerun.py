"""benchmarks/seqclass.py: rerunning one network keeps the other columns, and the recipe study's rule."""

from __future__ import annotations

import json

import numpy as np
import pytest


@pytest.fixture
def bench(benchmark_script):
    return benchmark_script("seqclass")


def _entry(acc: dict[str, float], base: dict[str, float]) -> dict:
    return {
        "train": 10, "test": 20, "grid": {},
        "models": {m: {"accuracy_mean": a, "accuracy_std": 0.0, "selection": {"chosen": {"hidden_size": 8}}}
                   for m, a in acc.items()},
        "baselines": {b: {"accuracy_mean": a, "accuracy_std": 0.0} for b, a in base.items()},
        "comparison": {f"{m} vs {b}": {"difference": acc[m] - base[b], "ci95": [0.0, 0.1], "verdict": "tie"}
                       for m in acc for b in base},
    }


def test_merge_keeps_the_other_model_and_the_baselines(bench):
    previous = _entry({"bilstm": 0.5, "lstm_fcn": 0.6}, {"dtw": 0.7, "minirocket": 0.8, "summary_lr": 0.3})
    previous["previous_run"] = {"models": {"lstm_fcn": {"accuracy_mean": 0.55}}}
    new = _entry({"lstm_fcn": 0.9}, {"dtw": 0.7, "minirocket": 0.8, "summary_lr": 0.3})
    new["comparison"]["lstm_fcn vs dtw"]["verdict"] = "win"
    merged = bench.merge_entry(previous, new, ("lstm_fcn",))
    assert merged["models"]["lstm_fcn"]["accuracy_mean"] == 0.9
    assert merged["models"]["bilstm"] == previous["models"]["bilstm"]
    assert merged["comparison"]["lstm_fcn vs dtw"]["verdict"] == "win"
    assert merged["comparison"]["bilstm vs dtw"] == previous["comparison"]["bilstm vs dtw"]
    assert merged["baselines"] == previous["baselines"]
    assert "baselines_recomputed" not in merged
    assert merged["previous_run"]["models"]["lstm_fcn"]["accuracy_mean"] == 0.6
    assert merged["previous_run"]["previous_run"]["models"]["lstm_fcn"]["accuracy_mean"] == 0.55   # first run
    assert merged["rerun_models"] == ["lstm_fcn"]


def test_merge_flags_a_baseline_that_changed(bench):
    previous = _entry({"bilstm": 0.5, "lstm_fcn": 0.6}, {"dtw": 0.7, "minirocket": 0.8})
    new = _entry({"lstm_fcn": 0.9}, {"dtw": 0.7, "minirocket": 0.81})
    merged = bench.merge_entry(previous, new, ("lstm_fcn",))
    assert merged["baselines"]["minirocket"]["accuracy_mean"] == 0.8      # the column keeps its figure
    assert set(merged["baselines_recomputed"]) == {"minirocket"}


def test_recipe_rule_prefers_fewer_steps_within_tolerance(bench):
    scores = {"constant_200": 0.80, "cosine_200": 0.85, "cosine_1000": 0.865, "cosine_2000_lr1e-3": 0.87}
    assert bench.adopted_recipe(scores) == "cosine_1000"       # 0.865 >= 0.87 - 0.01, half the steps
    assert bench.adopted_recipe({**scores, "cosine_2000_lr1e-3": 0.90}) == "cosine_2000_lr1e-3"


def test_recipe_epochs_come_from_the_step_budget(bench):
    train = bench.recipe_train(bench.RECIPES["cosine_1000"], batches=3, seed=2)
    assert (train.max_epochs, train.schedule, train.seed, train.restore_best) == (334, "cosine", 2, False)
    assert train.min_lr_ratio == 0.05
    assert bench.recipe_train(bench.RECIPES["library_default"], batches=3, seed=0).max_epochs == 60


def test_partial_rerun_needs_a_previous_entry(bench, tmp_path, capsys):
    out = tmp_path / "s.json"
    out.write_text(json.dumps({"datasets": {}}))
    with pytest.raises(SystemExit) as stop:
        bench.main(["--datasets", "GunPoint", "--models", "lstm_fcn", "--no-early", "--out", str(out)])
    assert stop.value.code == 2
    assert "GunPoint's entry, and s.json has none" in capsys.readouterr().err


def test_committed_study_supports_the_adopted_recipe(bench):
    """The committed recipe study's rule picks the recipe the committed LSTM-FCN reruns were trained with."""
    study_path = bench.RESULTS / "seqclass_recipes.json"
    assert study_path.is_file(), "the recipe study behind the adopted recipe must be committed"
    study = json.loads(study_path.read_text())
    adopted = bench.adopted_recipe(study["mean_score"])
    report = json.loads((bench.RESULTS / "seqclass.json").read_text())
    rerun = [e["models"]["lstm_fcn"]["selection"] for e in report["datasets"].values()
             if "lstm_fcn" in e.get("rerun_models", [])]
    assert all(sel["recipe"] == adopted for sel in rerun)


def test_quick_partial_rerun_end_to_end(bench, tmp_path, monkeypatch):
    """--models lstm_fcn --recipe: trains only LSTM-FCN (with the recipe, on the kept configuration) and
    merges it into the JSON; the BiLSTM's entry is untouched and the earlier entry is kept."""
    real_load = bench.load

    def small(name, split):           # a few series of each class keep the test fast
        x, y = real_load(name, split)
        per_class = 4 if split == "train" else 10
        take = np.concatenate([np.flatnonzero(y == c)[:per_class] for c in np.unique(y)])
        return x[take], y[take]

    monkeypatch.setattr(bench, "load", small)
    chosen = {"model": "lstm_fcn", "bidirectional": False, "hidden_size": 8, "pooling": "last", "normalize": "channel"}
    previous = _entry({"bilstm": 0.5, "lstm_fcn": 0.6}, {"dtw": 0.7, "minirocket": 0.8, "summary_lr": 0.3})
    previous["models"]["lstm_fcn"]["selection"]["chosen"] = chosen
    (tmp_path / "s.quick.json").write_text(json.dumps({"datasets": {"ItalyPowerDemand": previous}}))
    assert bench.main(["--quick", "--datasets", "ItalyPowerDemand", "--models", "lstm_fcn", "--recipe",
                       "cosine_200", "--no-early", "--out", str(tmp_path / "s.json")]) == 0
    entry = json.loads((tmp_path / "s.quick.json").read_text())["datasets"]["ItalyPowerDemand"]
    fcn = entry["models"]["lstm_fcn"]
    assert fcn["selection"]["recipe"] == "cosine_200" and fcn["selection"]["chosen"] == chosen
    assert fcn["train"]["schedule"] == "cosine" and len(fcn["runs"]) == 1
    assert 0.0 <= fcn["accuracy_mean"] <= 1.0 and fcn["runs"][0]["fit_seconds"] > 0
    assert entry["models"]["bilstm"] == previous["models"]["bilstm"]
    assert entry["comparison"]["bilstm vs dtw"] == previous["comparison"]["bilstm vs dtw"]
    assert entry["comparison"]["lstm_fcn vs dtw"]["verdict"] in ("win", "loss", "tie")
    assert entry["baselines"] == previous["baselines"]            # kept; the recomputed ones differ here
    assert set(entry["baselines_recomputed"]) <= {"dtw", "minirocket", "summary_lr"}
    assert entry["previous_run"]["models"]["lstm_fcn"]["accuracy_mean"] == 0.6


def test_selection_section_reports_the_study_score_of_a_recipe_rerun(bench):
    entry = _entry({"lstm_fcn": 0.9}, {"dtw": 0.7})
    entry["models"]["lstm_fcn"]["selection"] = {"chosen": {"hidden_size": 8}, "recipe": "cosine_1000",
                                                "epochs": 250, "cv_accuracy": 0.98}
    scores = bench.with_selection({"protocol": "p", "datasets": {"GunPoint": entry}})["selection"]
    assert scores["validation_scores"]["GunPoint"]["lstm_fcn"]["val_accuracy"] == 0.98
