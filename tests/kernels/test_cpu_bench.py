"""The kernel benchmark's smoke run (benchmarks/kernels.py, ``lstmkit bench``)."""

from __future__ import annotations

import json

import pytest
import torch

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


def test_thread_sweep_quick_writes_ratios_and_misses(tmp_path, capsys, benchmark_script):
    """benchmarks/kernels.py --sweep: train and inference ratios per thread count, the load
    average around each block, the team size, the GEMM probe, and every miss with its figure."""
    script = benchmark_script("kernels")
    out = tmp_path / "sweep.json"
    assert script.main(["--sweep", "--quick", "--options", "peephole", "zoneout", "--out", str(out)]) == 0
    result = json.loads((tmp_path / "sweep.quick.json").read_text())
    assert result["selection"]["validation_scores"] is None and result["complete"] is True
    (block,) = result["blocks"]
    assert block["threads"] == 1 and len(block["loadavg_before"]) == 3 and block["team"] == 1
    assert block["split"]["threads"] == 1 and block["split"]["by"] == "one thread"
    assert block["gemm_probe"]["blocked_us"] > 0 and block["gemm_probe"]["blas_us"] > 0
    names = {(r["contestant"], r["mode"]) for r in block["rows"]}
    assert names == {(n, m) for n in ("lstm/torch", "gru/torch", "lstm/auto", "gru/auto", "peephole/auto",
                                      "zoneout/auto") for m in ("train", "infer")}  # fmt: skip
    for row in block["rows"]:
        assert row["median_s"] > 0
        assert row["ratio"] == 1.0 if row["contestant"].endswith("/torch") else row["ratio"] > 0
    worst = result["summary"]["worst"]["1"]
    assert set(worst) == {"standard_train", "option_train", "option_infer"}
    rows = {(r["contestant"], r["mode"]): r["ratio"] for r in block["rows"]}
    assert worst["option_infer"] == max(rows[("peephole/auto", "infer")], rows[("zoneout/auto", "infer")])
    expected = {(n, m) for (n, m), v in rows.items() if not n.endswith("/torch") and not
                (n in ("lstm/auto", "gru/auto") and m == "infer") and
                v > (1.0 if n in ("lstm/auto", "gru/auto") else 1.3)}  # fmt: skip
    assert {(m["contestant"], m["mode"]) for m in result["summary"]["misses"]} == expected
    assert "| zoneout/auto |" in capsys.readouterr().out


def test_thread_sweep_cut_short_keeps_the_blocks_it_measured(tmp_path, monkeypatch, benchmark_script):
    """The sweep writes its JSON after every block: a run stopped part-way (a time limit on a lent
    machine) keeps its finished blocks, marked incomplete."""
    script = benchmark_script("kernels")
    real, calls = script.sweep_block, []

    def block_then_stop(*args, **kwargs):
        if calls:
            raise KeyboardInterrupt
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(script, "sweep_block", block_then_stop)
    out = tmp_path / "cut.json"
    argv = ["--sweep", "--sweep-shapes", "8,2,4,4", "12,2,4,4", "--sweep-threads", "1",
            "--sweep-repeats", "1", "--options", "peephole", "--out", str(out)]
    with pytest.raises(KeyboardInterrupt):
        script.main(argv)
    result = json.loads(out.read_text())
    assert result["complete"] is False and [b["shape"] for b in result["blocks"]] == [[8, 2, 4, 4]]
    assert set(result["summary"]["worst"]["1"]) >= {"standard_train"}


def test_team_size_follows_torch_threads():
    """The in-step team takes torch's thread count (capped by work and rows), so the sweep's
    thread counts really change how many threads a step uses."""
    from lstmkit.kernels.cpu.functions import ext

    before = torch.get_num_threads()
    try:
        sizes = []
        for threads in (1, 2, 4):
            torch.set_num_threads(threads)
            sizes.append(ext().team_size(32 * 512 * 128, 32))
    finally:
        torch.set_num_threads(before)
    assert sizes == [1, 2, 4]
