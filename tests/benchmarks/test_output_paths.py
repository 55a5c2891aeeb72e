"""Every benchmark script: a --quick smoke run never writes the committed full-run JSON."""

from __future__ import annotations

from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
SCRIPTS = sorted(p for p in BENCH.glob("*.py") if not p.name.startswith("_"))


def test_every_script_is_checked():
    assert {p.stem for p in SCRIPTS} >= {"kernels", "long_lag", "generate", "translate", "transfer",
                                         "forecast", "anomaly", "classify", "tag"}


def _is_worker(path: Path) -> bool:
    """A script with neither --quick nor --out: a worker that another script runs."""
    return "--quick" not in path.read_text() and "--out" not in path.read_text()


def test_workers_are_run_by_another_script():
    """The scripts without their own output options are each named by another benchmark
    (which owns the JSON they feed), so the rule below covers every result file."""
    workers = [p for p in SCRIPTS if _is_worker(p)]
    for worker in workers:
        callers = [p.name for p in SCRIPTS if p != worker and worker.stem in p.read_text()]
        assert callers, f"{worker.name} takes no --quick / --out and no other script runs it"


@pytest.mark.parametrize("path", [p for p in SCRIPTS if not _is_worker(p)], ids=lambda p: p.stem)
def test_quick_runs_never_write_the_committed_json(path, tmp_path, benchmark_script):
    module = benchmark_script(path.stem)
    parser = module.build_parser()
    if "--quick" not in parser._option_string_actions:  # no smoke mode: writes only where --out says
        assert module.output_path(parser.parse_args([])) is None
        return
    committed = BENCH / "results" / f"{path.stem}.json"
    full = Path(module.output_path(parser.parse_args([]))).resolve()
    assert full == committed.resolve()
    quick = Path(module.output_path(parser.parse_args(["--quick"]))).resolve()
    assert quick == (BENCH / "results" / f"{path.stem}.quick.json").resolve()
    named = tmp_path / "mine.json"
    assert Path(module.output_path(parser.parse_args(["--quick", "--out", str(named)]))) == \
        tmp_path / "mine.quick.json"
    assert Path(module.output_path(parser.parse_args(["--out", str(named)]))) == named


def test_quick_json_is_git_ignored():
    ignore = (BENCH.parent / ".gitignore").read_text().splitlines()
    assert "benchmarks/results/*.quick.json" in ignore
