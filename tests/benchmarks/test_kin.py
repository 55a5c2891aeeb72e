"""benchmarks/kin.py: the --quick path runs, a family member that is missing is reported, not fatal,
cells run per seed in a one-thread worker pool with a deadline, part-JSONs merge keeping their machines,
and the synthetic parts import no optional package."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
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
    for name in ("_kin_tasks", "_kin_cost", "_kin_cells", "_kin_pool", "_kin_report", "_kin_budget", "_common", "_selection"):
        sys.modules.pop(name, None)


def test_quick_run_writes_every_part_for_every_model_and_seed(kin, tmp_path):
    out = tmp_path / "kin.json"
    assert kin.main(["--quick", "--models", "lstm", "transformer", "ssm", "--seeds", "0", "1",
                     "--parts", "lag", "forecast", "--out", str(out)]) == 0
    data = json.loads((tmp_path / "kin.quick.json").read_text())
    assert len(data["selection"]["protocol"]) > 20 and "forecast_val_mase" in data["selection"]["validation_scores"]
    assert data["seeds"] == [0, 1] and data["settings"]["seeds"] == [0, 1]
    assert {r["model"] for r in data["lag"]} == {"lstm", "transformer", "ssm"}
    assert {(r["task"], r["T"], r["seed"]) for r in data["lag"]} == {
        (task, 30, seed) for task in ("adding", "temporal_order") for seed in (0, 1)}
    assert len(data["lag"]) == 2 * 3 * 2  # tasks x models x seeds
    for r in data["lag"]:
        assert 0.0 <= r["solve_rate"] <= 1.0 and r["steps"] >= 1 and r["threads"] == 1
        lstm = next(q for q in data["lag"] if q["model"] == "lstm" and q["task"] == r["task"])
        assert r["budget"] == lstm["params"]  # the LSTM sets the budget
    # the seeds train different models on different batches
    by_seed = {r["seed"]: r["mse"] for r in data["lag"] if r["model"] == "lstm" and r["task"] == "adding"}
    assert by_seed[0] != by_seed[1]
    models = {r["model"] for r in data["forecast"]}
    assert {"seasonal_naive", "hmm", "lstm"} <= models
    assert {r["seed"] for r in data["forecast"] if r["model"] in ("lstm", "hmm")} == {0, 1}
    assert all(r["test_mase"] > 0 for r in data["forecast"])
    assert set(data["machines"]) == {"lag", "forecast"} and data["machine"]["cpu_count"] >= 1
    assert data["not_run"] == [] and data["errors"] == []
    text = kin.tables(data)
    assert "| lstm |" in text and "/2 (" in text and "[" in text  # mean [min, max] and seeds solved of 2


TIMING = {"cpu_s", "wall_s", "cell_cpu_s"}


def _untimed(rows):
    return [{k: v for k, v in r.items() if k not in TIMING} for r in rows]


def test_the_worker_pool_gives_the_rows_of_one_process(kin, tmp_path):
    """Step-capped quick cells at one thread are deterministic: 2 spawned workers = 1 process, same order."""
    common = ["--quick", "--models", "lstm", "mingru", "--seeds", "0", "1", "--parts", "lag", "copy"]
    assert kin.main(common + ["--workers", "1", "--out", str(tmp_path / "one.json")]) == 0
    assert kin.main(common + ["--workers", "2", "--out", str(tmp_path / "two.json")]) == 0
    one, two = (json.loads((tmp_path / f"{n}.quick.json").read_text()) for n in ("one", "two"))
    assert two["workers"] == 2 and all(r["threads"] == 1 for r in two["lag"] + two["copy"])
    for part in ("lag", "copy"):
        assert len(one[part]) == len(two[part]) > 0
        assert _untimed(one[part]) == _untimed(two[part])


def _sleepy(cell, settings):
    import time

    time.sleep(settings["sleep"])
    if cell["model"] == "bad":
        raise ValueError("this cell fails")
    return {**cell, "ok": True}


def test_the_deadline_stops_new_cells_and_a_failing_cell_is_an_error_row(kin):
    from _kin_pool import run_cells

    cells = [{"model": "bad" if i == 1 else "m", "i": i, "T": 10 * i} for i in range(8)]
    rows, errors, not_run = run_cells(cells, {"sleep": 0.15}, _sleepy, workers=1, deadline_s=0.5,
                                      estimate=lambda c: c["T"], log=lambda m: None)
    assert 1 <= len(rows) + len(errors) <= 5 and not_run  # started only before 0.5 s (4 on time)
    assert sorted(c["i"] for c in rows + errors + not_run) == list(range(8))
    started = {c["i"] for c in rows + errors}
    assert started == set(range(8 - len(started), 8))  # the largest (by estimate) first
    assert [r["i"] for r in rows] == sorted(r["i"] for r in rows)  # reported in the caller's order
    if 1 in started:
        assert errors[0]["error"] == "ValueError: this cell fails"


def test_a_cell_that_raises_in_a_worker_is_reported_and_the_rest_run(kin):
    from _kin_cells import run_cell
    from _kin_pool import run_cells

    s = dict(kin.SETTINGS["quick"])
    good = {"part": "copy", "T": 16, "model": "lstm", "seed": 0, "width": 8, "budget": 1}
    bad = {**good, "model": "no_such_model"}
    rows, errors, not_run = run_cells([good, bad], s, run_cell, workers=2, log=lambda m: None)
    assert len(rows) == 1 and rows[0]["model"] == "lstm" and 0 <= rows[0]["token_accuracy"] <= 1
    assert len(errors) == 1 and errors[0]["model"] == "no_such_model" and "KeyError" in errors[0]["error"]
    assert not_run == []


def test_deadline_zero_lists_every_cell_as_not_run(kin, tmp_path):
    assert kin.main(["--quick", "--models", "lstm", "--parts", "copy", "--seeds", "0", "1",
                     "--deadline-s", "0", "--out", str(tmp_path / "k.json")]) == 0
    data = json.loads((tmp_path / "k.quick.json").read_text())
    assert data["copy"] == [] and {(c["model"], c["seed"]) for c in data["not_run"]} == {("lstm", 0), ("lstm", 1)}
    assert "not run" in kin.tables(data)


def test_budget_overrides_are_recorded_in_settings(kin):
    args = kin.build_parser().parse_args(["--lag-steps", "7", "--lag-cpu-s", "1.5", "--copy-steps", "9",
                                          "--copy-cpu-s", "2", "--lm-cpu-s", "3", "--seeds", "4"])
    s = kin.settings_for(args)
    assert (s["lag_steps"], s["lag_cpu_s"], s["copy_steps"], s["copy_cpu_s"], s["lm_cpu_s"], s["seeds"]) == (
        7, 1.5, 9, 2.0, 3.0, [4])
    assert kin.settings_for(kin.build_parser().parse_args([]))["seeds"] == [0, 1, 2]


def test_a_ceiling_skips_cells_and_the_table_says_why(kin):
    from _kin_cells import available, plan

    s = json.loads(json.dumps(kin.SETTINGS["quick"]))
    s["lag_lengths"] = [30, 40]
    s["ceilings"] = {"lag": {"ssm": 30}, "copy": {}}
    classes, _ = available(["lstm", "ssm"])
    cells, skipped = plan(["lag"], classes, [0], s)
    assert {(c["model"], c["T"]) for c in skipped} == {("ssm", 40)}
    assert len(cells) == 2 * 3  # tasks x (lstm at 30, 40; ssm at 30)
    rows = [{**c, "params": 1, "solve_rate": 0.5, "mse": 0.1, "accuracy": 0.5, "steps": 3} for c in cells]
    text = kin.tables({"models": ["lstm", "ssm"], "lag": rows, "skipped": skipped})
    assert "| ssm | 1 | 50% 0/1 (0.1; 3) | - |" in text and "1/20 of the cell's CPU budget" in text


def _part_json(path, part, rows, processor):
    machine = {"processor": processor, "cpu_count": 16, "torch": "x"}
    path.write_text(json.dumps({"benchmark": "kin", "selection": {"protocol": "p" * 30, "validation_scores": {}},
                                "settings": {"lag_cpu_s": 1}, "seeds": [0], "workers": 1, "quick": False,
                                "models": ["lstm"], "machine": machine, "machines": {part: machine},
                                part: rows, "not_run": [], "errors": [], "skipped": []}))


def test_merge_keeps_the_machine_of_each_part(kin, tmp_path):
    lag = [{"part": "lag", "task": "adding", "T": 100, "model": "lstm", "seed": 0, "params": 1,
            "solve_rate": 1.0, "mse": 0.001, "steps": 10}]
    forecast = [{"model": "lstm", "seed": 0, "params": 1, "val_mase": 0.8, "test_mase": 0.9}]
    _part_json(tmp_path / "a.json", "lag", lag, "big box")
    _part_json(tmp_path / "b.json", "forecast", forecast, "small box")
    out = tmp_path / "kin.json"
    assert kin.main(["--merge", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["machines"]["lag"]["processor"] == "big box" and data["machines"]["lag"]["source"] == "a.json"
    assert data["machines"]["forecast"]["processor"] == "small box"
    assert data["lag"] == lag and data["forecast"] == forecast
    assert [r["parts"] for r in data["runs"]] == [["lag"], ["forecast"]]
    assert len(data["selection"]["protocol"]) > 20 and "validation_scores" in data["selection"]
    _part_json(tmp_path / "q.json", "copy", [], "box")
    quick = json.loads((tmp_path / "q.json").read_text())
    (tmp_path / "q.json").write_text(json.dumps({**quick, "quick": True}))
    assert kin.main(["--merge", str(tmp_path / "a.json"), str(tmp_path / "q.json"), "--out", str(out)]) == 0
    assert (tmp_path / "kin.quick.json").is_file()  # a smoke part never lands in the committed name
    assert json.loads(out.read_text())["lag"] == lag and "copy" not in json.loads(out.read_text())
    with pytest.raises(SystemExit, match="lstmkit: error: part 'lag'"):
        kin.main(["--merge", str(tmp_path / "a.json"), str(tmp_path / "a.json"), "--out", str(out)])
    with pytest.raises(SystemExit, match="lstmkit: error: --merge needs --out"):
        kin.main(["--merge", str(tmp_path / "a.json")])


def test_merge_takes_a_later_files_columns_whole(kin, tmp_path):
    """A synthetic part split by T across machines: the later file's (task, T) columns replace the
    earlier file's whole (partial rows superseded, their not-run entries dropped), so each table
    column comes from one machine, and the tables say which."""
    def row(T, model, seed, rate):
        return {"part": "lag", "task": "adding", "T": T, "model": model, "seed": seed, "params": 1,
                "solve_rate": rate, "mse": 0.01, "steps": 5}

    big = [row(100, "lstm", 0, 1.0), row(200, "lstm", 0, 0.9), row(200, "ssm", 0, 0.2)]
    _part_json(tmp_path / "big.json", "lag", big, "big box")
    data = json.loads((tmp_path / "big.json").read_text())
    data["not_run"] = [{"part": "lag", "task": "adding", "T": 100, "model": "ssm", "seed": 0},
                       {"part": "lag", "task": "adding", "T": 200, "model": "lstm", "seed": 1}]
    (tmp_path / "big.json").write_text(json.dumps(data))
    small = [row(100, "lstm", 0, 0.5), row(100, "ssm", 0, 0.1)]
    _part_json(tmp_path / "small.json", "lag", small, "small box")
    out = tmp_path / "kin.json"
    assert kin.main(["--merge", str(tmp_path / "big.json"), str(tmp_path / "small.json"), "--out", str(out)]) == 0
    merged = json.loads(out.read_text())
    assert sorted((r["T"], r["model"], r["solve_rate"]) for r in merged["lag"]) == [
        (100, "lstm", 0.5), (100, "ssm", 0.1), (200, "lstm", 0.9), (200, "ssm", 0.2)]
    assert merged["superseded"] == [{**big[0], "source": "big.json"}]
    assert merged["not_run"] == [data["not_run"][1]]
    assert merged["machines"]["lag"]["processor"] == "big box"
    assert merged["machines"]["lag T=100"] == {**merged["machines"]["lag T=100"], "processor": "small box",
                                                "source": "small.json"}
    assert "lag T=100: ran on small box (small.json); the other columns on big box" in kin.tables(merged)
    with pytest.raises(SystemExit, match="lstmkit: error: part 'lag'"):  # covers every column: a duplicate
        kin.main(["--merge", str(tmp_path / "small.json"), str(tmp_path / "big.json"), "--out", str(out)])


def test_the_synthetic_parts_need_no_optional_package(tmp_path):
    """hmmlearn, pysword, matplotlib and the Bible reader blocked: --parts lag copy still runs."""
    blocked = ["hmmlearn", "pysword", "matplotlib", "pandas", "lstmkit.data.bible", "lstmkit.data.timeseries"]
    code = (f"import sys, runpy\nfor name in {blocked!r}:\n    sys.modules[name] = None\n"
            f"sys.path.insert(0, {str(BENCH)!r})\n"
            f"sys.argv = ['kin.py', '--quick', '--models', 'lstm', 'mingru', '--parts', 'lag', 'copy', "
            f"'--out', {str(tmp_path / 'k.json')!r}]\n"
            f"runpy.run_path({str(BENCH / 'kin.py')!r}, run_name='__main__')\n")
    env = {**os.environ, "PYTHONPATH": str(BENCH.parent / "src")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    data = json.loads((tmp_path / "k.quick.json").read_text())
    assert len(data["lag"]) == 2 * 2 and len(data["copy"]) == 2


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


def test_budget_plan_counts_cpu_and_applies_the_one_in_twenty_rule(kin):
    from _kin_budget import plan_budget, probe_cell

    probes = [{"part": "lag", "task": "adding", "T": T, "model": m, "step_s": step, "eval_s": 1.0}
              for T, m, step in ((100, "fast", 0.01), (1000, "fast", 0.1), (100, "slow", 0.5), (1000, "slow", 2.0))]
    budget = {"lag_cpu_s": 20, "lag_steps": 1000, "copy_cpu_s": 30, "copy_steps": 1000}
    plan = plan_budget(probes, budget, seeds=3, workers=2, overhead_s=0.0)
    # fast T=100: 1000 steps x 0.01 = 10 s; fast T=1000 and slow T=100 hit 20 s; slow T=1000 > 20/20: ceiling
    assert plan["ceilings"] == {"lag": {"slow": 100}, "copy": {}}
    assert plan["cells"] == 9 and plan["cpu_s"] == 3 * (11 + 21 + 21)
    assert plan["makespan_s"] >= plan["cpu_s"] / 2
    s = {**kin.SETTINGS["quick"], "probe_s": 0.05}
    row = probe_cell({"part": "copy", "T": 16, "model": "lstm", "width": 8}, s)
    assert row["step_s"] > 0 and row["eval_s"] >= 0 and 2 <= row["probe_steps"] <= 8
