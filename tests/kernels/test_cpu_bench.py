"""The kernel benchmark's smoke run (benchmarks/kernels.py, ``lstmkit bench``)."""

from __future__ import annotations

import json

import pytest

from lstmkit import benchmark
from lstmkit.cli import main


def test_bench_quick_writes_ratios(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing may land in ./benchmarks of the working directory
    assert main(["bench", "--quick", "--options", "peephole", "--out", "run"]) == 0
    out = tmp_path / "run" / "results" / "kernels.json"  # under the run's --out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    result = json.loads(out.read_text())
    assert {r["mode"] for r in result["grid"]} == {"fwd", "fwd+bwd", "fwd+bwd no-dx"}
    assert set(result["summary"]["by_mode"]) == {"fwd", "fwd+bwd", "fwd+bwd no-dx"}
    names = {r["contestant"] for r in result["grid"]}
    assert names == {"lstm/torch", "lstm/reference", "lstm/cpu", "lstm/auto", "gru/torch", "gru/reference",
                     "gru/cpu", "gru/auto", "peephole/cpu"}  # fmt: skip
    for row in result["grid"]:
        assert row["median_s"] > 0 and row["ratio"] > 0
        if row["contestant"].endswith("/torch"):
            assert row["ratio"] == 1.0
    assert set(result["streaming"]["ratio"]) == {"torch.nn.LSTM", "lstmkit.LSTM(cpu)", "Stream"}
    assert {m["family"] for m in result["memory"]} == {"lstm", "gru"}
    assert set(result["summary"]["meets"]) == {"standard", "option", "streaming", "memory"}
    assert result["summary"]["auto_worst_ratio"] > 0
    assert "| (20, 4, 16, 16) | lstm/cpu |" in capsys.readouterr().out


def test_bench_rejects_bad_shapes():
    with pytest.raises(ValueError, match="T,B,I,H"):
        benchmark._shape("10,2,3")
