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


def _wins(grid: list[dict], family: str, mode: str) -> dict[str, int]:
    """At how many 1-thread grid shapes each of lstmkit's fused kernels ("cpu") and torch's own
    path (the ``{family}/torch`` contestant, which ``native`` calls) had the lower median process
    CPU time (the robust measure at 1 thread on a shared machine)."""
    rows = [r for r in grid if r["threads"] == 1 and r["mode"] == mode]
    by = {(tuple(r["shape"]), r["contestant"]): r["median_cpu_s"] for r in rows}
    shapes = sorted({s for s, _ in by})
    assert shapes, f"no 1-thread {mode!r} rows in {RESULTS}"
    cpu = sum(by[(s, f"{family}/cpu")] < by[(s, f"{family}/torch")] for s in shapes)
    return {"cpu": cpu, "native": len(shapes) - cpu}


@pytest.mark.parametrize("cls,family", [(lstmkit.LSTM, "lstm"), (lstmkit.GRU, "gru")])
def test_auto_order_follows_the_measurements(cls, family):
    """The committed benchmark (benchmarks/results/kernels.json) decides: for training
    (fwd+bwd, the input needing dx) and for inference (fwd), the backend "auto" tries first
    among cpu / native must not be beaten by the other at most of the measured shapes."""
    grid = json.loads(RESULTS.read_text())["grid"]
    m = cls(3, 4)
    x = torch.randn(5, 2, 3)
    for mode, needs_grad in (("fwd+bwd", True), ("fwd", False)):
        order = registry.AUTO_TRAIN if needs_grad else registry.AUTO_INFER[m.spec.cell.mode]
        first = next(name for name in order if name in ("cpu", "native"))
        other = "native" if first == "cpu" else "cpu"
        wins = _wins(grid, family, mode)
        assert 2 * wins[other] <= sum(wins.values()), (family, mode, wins)
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
    with pytest.raises(ValueError, match=r"backend: expected one of \['auto', 'reference', 'native', 'cpu', 'triton'\]"):
        registry.check_name("cuda")


def test_auto_sends_a_projected_lstms_inference_to_the_fused_kernels():
    """torch runs a projected LSTM without oneDNN (its slow path): inference takes "cpu" first."""
    m = lstmkit.LSTM(3, 4, proj_size=2)
    x = torch.randn(5, 2, 3)
    assert registry.auto_order(m.spec, needs_grad=False)[0] == "cpu"
    assert registry.auto_order(lstmkit.LSTM(3, 4).spec, needs_grad=False)[0] == "native"
    assert registry.resolve("auto", m.spec, x, False, needs_grad=False).name == ("cpu" if CPU_OK else "native")


def test_evaluation_drops_train_only_regularisers_from_the_spec():
    """In eval mode recurrent dropout, weight drop and dropout are no-ops, so torch's own
    (oneDNN) inference can run such a layer; zoneout stays (its eval blend is not a no-op)."""
    m = lstmkit.LSTM(3, 4, recurrent_dropout=0.3, weight_drop=0.2, num_layers=2, dropout=0.1).eval()
    x = torch.randn(5, 2, 3)
    assert registry.resolve("auto", m.spec.for_evaluation(), x, False, needs_grad=False).name == "native"
    plain = lstmkit.LSTM(3, 4, num_layers=2, backend="reference").eval()
    plain.load_state_dict(m.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(m(x)[0], plain(x)[0])
    z = lstmkit.LSTM(3, 4, zoneout=0.2).eval()
    assert z.spec.for_evaluation() is z.spec
