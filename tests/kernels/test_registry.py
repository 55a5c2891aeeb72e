"""The backend registry: what "auto" picks, and named backends are never replaced."""

import json
from pathlib import Path

import pytest
import torch

import lstmkit
from lstmkit.kernels import registry
from lstmkit.kernels.cpu import _loader

CPU_OK = _loader.reason() is None


def _spec(module):
    return module.spec


RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "kernels.json"


def _measured_winner(grid: list[dict], family: str, mode: str) -> str:
    """"cpu" or "native": the faster of lstmkit's fused kernels and torch's own path (the
    ``{family}/torch`` contestant, which ``native`` calls) at most of the 1-thread grid shapes."""
    rows = [r for r in grid if r["threads"] == 1 and r["mode"] == mode]
    by = {(tuple(r["shape"]), r["contestant"]): r["median_s"] for r in rows}
    shapes = sorted({s for s, _ in by})
    assert shapes, f"no 1-thread {mode!r} rows in {RESULTS}"
    cpu_wins = sum(by[(s, f"{family}/cpu")] < by[(s, f"{family}/torch")] for s in shapes)
    return "cpu" if 2 * cpu_wins > len(shapes) else "native"


@pytest.mark.parametrize("cls,family", [(lstmkit.LSTM, "lstm"), (lstmkit.GRU, "gru")])
def test_auto_order_follows_the_measurements(cls, family):
    """The committed benchmark (benchmarks/results/kernels.json) decides: for training
    (fwd+bwd, the input needing dx) and for inference (fwd), "auto" must try first whichever
    of cpu / native was faster at most shapes."""
    grid = json.loads(RESULTS.read_text())["grid"]
    m = cls(3, 4)
    x = torch.randn(5, 2, 3)
    for mode, needs_grad in (("fwd+bwd", True), ("fwd", False)):
        order = registry.AUTO_TRAIN if needs_grad else registry.AUTO_INFER[m.spec.cell.mode]
        first = next(name for name in order if name in ("cpu", "native"))
        assert first == _measured_winner(grid, family, mode), (family, mode)
        picked = registry.resolve("auto", m.spec, x, False, needs_grad=needs_grad).name
        assert picked == (first if CPU_OK else "native")


def test_auto_takes_the_reference_for_traces_and_cpu_for_options():
    m = lstmkit.LSTM(3, 4, peephole=True)
    x = torch.randn(5, 2, 3)
    assert registry.resolve("auto", m.spec, x, True).name == "reference"
    assert registry.resolve("auto", m.spec, x, False, needs_grad=False).name == (
        "cpu" if CPU_OK else "reference")


def test_layer_tells_the_registry_whether_gradients_are_needed(monkeypatch):
    seen = []
    original = registry.resolve

    def spy(name, spec, x, return_gates, needs_grad=True):
        seen.append(needs_grad)
        return original(name, spec, x, return_gates, needs_grad)

    monkeypatch.setattr(registry, "resolve", spy)
    m = lstmkit.GRU(3, 4)
    x = torch.randn(5, 2, 3)
    m(x)
    with torch.no_grad():
        m(x)
    m.requires_grad_(False)
    m(x)
    m(x.requires_grad_())
    assert seen == [True, False, False, True]


def test_unknown_backend_name():
    with pytest.raises(ValueError, match=r"backend: expected one of \['auto', 'reference', 'native', 'cpu'\]"):
        registry.check_name("triton")
