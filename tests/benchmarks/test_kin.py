"""benchmarks/kin.py: the --quick path runs, and a family member that is missing is reported, not fatal."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture()
def kin(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    spec = importlib.util.spec_from_file_location("bench_kin", BENCH / "kin.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    for name in ("_kin_tasks", "_kin_cost", "_common", "_selection"):
        sys.modules.pop(name, None)


def test_quick_run_writes_every_part_for_every_model(kin, tmp_path):
    out = tmp_path / "kin.json"
    assert kin.main(["--quick", "--models", "lstm", "transformer", "ssm",
                     "--parts", "lag", "forecast", "--out", str(out)]) == 0
    data = json.loads((tmp_path / "kin.quick.json").read_text())
    assert len(data["selection"]["protocol"]) > 20 and "forecast_val_mase" in data["selection"]["validation_scores"]
    assert {r["model"] for r in data["lag"]} == {"lstm", "transformer", "ssm"}
    assert {(r["task"], r["T"]) for r in data["lag"]} == {("adding", 30), ("temporal_order", 30)}
    for r in data["lag"]:
        assert 0.0 <= r["solve_rate"] <= 1.0 and r["steps"] >= 1
        lstm = next(q for q in data["lag"] if q["model"] == "lstm" and q["task"] == r["task"])
        assert r["budget"] == lstm["params"]  # the LSTM sets the budget
    models = {r["model"] for r in data["forecast"]}
    assert {"seasonal_naive", "hmm", "lstm"} <= models
    assert all(r["test_mase"] > 0 for r in data["forecast"])
    assert "| lstm |" in kin.tables(data)


def test_widths_are_matched_to_the_lstm_budget(kin):
    """The chosen width's parameter count is the closest to the budget on the width grid."""
    from _kin_tasks import Net, n_params

    from lstmkit.layers.neighbours import CausalTransformer

    build = lambda cls, w: Net(cls, 10, w, 8, tokens=True)  # noqa: E731
    budget = 60000
    width, count = kin.match_width(CausalTransformer, build, budget)
    assert count == n_params(build(CausalTransformer, width))
    for other in (width - 8, width + 8):
        assert abs(n_params(build(CausalTransformer, other)) - budget) >= abs(count - budget)
    assert abs(count - budget) < 0.15 * budget


def test_a_missing_family_member_is_reported_not_fatal(kin, monkeypatch):
    monkeypatch.setitem(kin.FAMILIES, "ghost", ("lstmkit", "NoSuchLayer"))
    classes, missing = kin.available(["lstm", "ghost"])
    assert list(classes) == ["lstm"]
    assert missing["ghost"].startswith("not available")


def test_a_member_that_fails_to_train_is_reported_with_its_error(kin, monkeypatch):
    import torch

    class Broken(torch.nn.Module):
        def __init__(self, input_size, hidden_size, num_layers=1, batch_first=False):
            super().__init__()

        def forward(self, x, state=None, lengths=None):
            raise RuntimeError("no forward yet")

    monkeypatch.setitem(kin.FAMILIES, "broken", ("lstmkit.layers.neighbours", "Broken"))
    import lstmkit.layers.neighbours as nb

    monkeypatch.setattr(nb, "Broken", Broken, raising=False)
    classes, missing = kin.available(["lstm", "broken"])
    assert "broken" not in classes and "no forward yet" in missing["broken"]


def test_tables_only_mode_needs_an_existing_file(kin, tmp_path):
    with pytest.raises(SystemExit, match="lstmkit: error"):
        kin.main(["--tables", str(tmp_path / "none.json")])


def test_replot_merges_cost_sections_from_json(kin, tmp_path):
    by = {str(t): {"ms_per_step": 0.1 * t, "state_floats": 8 * t} for t in (1024, 16, 64)}
    entry = {"width": 8, "params": 1, "train_positions_per_s": {"64": 10.0, "256": 9.0},
             "streaming": {"mode": "state", "by_context": by}}
    for name in ("a", "b"):
        (tmp_path / f"{name}.json").write_text(json.dumps({"cost": {name: entry}}))
    plot = tmp_path / "cost.png"
    assert kin.main(["--replot", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--plot", str(plot)]) == 0
    assert plot.stat().st_size > 1000
