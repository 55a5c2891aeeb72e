"""The committed benchmark results say how their settings were chosen (issue 21, section 3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"
FILES = sorted(p for p in RESULTS.glob("*.json") if not p.name.endswith(".quick.json"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_result_records_its_selection_protocol(path):
    data = json.loads(path.read_text())
    assert isinstance(data.get("selection"), dict), f"{path.name}: no selection section"
    assert len(data["selection"].get("protocol", "")) > 20
    assert "validation_scores" in data["selection"]


def test_headline_comparisons_carry_intervals():
    """Where per-item predictions are saved, the JSON has the paired bootstrap beside them."""
    classify = json.loads((RESULTS / "classify.json").read_text())
    for name, task in classify["tasks"].items():
        if "predictions" in task and "tfidf_logreg" in task["predictions"]:
            ci = classify["intervals"][name]["macro_f1"]
            assert ci["lo"] <= ci["diff"] <= ci["hi"] and ci["verdict"] in ("A", "B", "tie")
