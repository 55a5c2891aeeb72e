"""The backend registry: what "auto" picks, and named backends are never replaced."""

import pytest
import torch

import lstmkit
from lstmkit.kernels import registry
from lstmkit.kernels.cpu import _loader

CPU_OK = _loader.reason() is None


def _spec(module):
    return module.spec


@pytest.mark.parametrize("cls,train_first,infer_first", [
    (lstmkit.LSTM, "cpu", "native"),
    (lstmkit.GRU, "cpu", "cpu"),
    (lstmkit.RNN, "cpu", "cpu"),
])
def test_auto_order_follows_the_measurements(cls, train_first, infer_first):
    m = cls(3, 4)
    x = torch.randn(5, 2, 3)
    fallback = "native"  # what auto takes where the fused kernels cannot be built
    train = registry.resolve("auto", m.spec, x, False, needs_grad=True).name
    infer = registry.resolve("auto", m.spec, x, False, needs_grad=False).name
    assert train == (train_first if CPU_OK else fallback)
    assert infer == (infer_first if CPU_OK else fallback)


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
