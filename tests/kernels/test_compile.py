"""The fused kernels as custom operators: torch.compile traces an lstmkit model in
one graph, torch.export round-trips, and torch.library's own checks pass.

Kept to a few small cases: compiling on CPU is slow. They run whether or not the
fused kernels are built (``auto`` then takes another backend, which must trace
too); the operator checks need the kernels.
"""

from __future__ import annotations

import pytest
import torch

import lstmkit
from lstmkit.kernels.cpu import _loader, ops

CPU_OK = _loader.reason(build=False) is None


@pytest.mark.parametrize("make", [
    lambda: lstmkit.LSTM(4, 6, peephole=True, layer_norm=True, zoneout=0.1),
    lambda: lstmkit.GRU(4, 6, reset_after=False, recurrent_dropout=0.2, bidirectional=True),
], ids=["lstm-peephole-ln-zoneout", "gru-reset-before-bidir"])
def test_dynamo_traces_without_graph_breaks(make):
    torch._dynamo.reset()
    model = make()  # training mode: auto picks the fused kernels (random masks drawn in the graph)
    explanation = torch._dynamo.explain(model)(torch.randn(5, 2, 4))
    assert explanation.graph_break_count == 0, explanation.break_reasons
    assert explanation.graph_count == 1
    if CPU_OK:
        graph = "\n".join(str(g.graph) for g in explanation.graphs)
        assert "lstmkit" in graph  # the custom operator is in the graph, not a Python call


def test_compiled_training_step_equals_eager():
    """Forward and backward through the traced operators (AOT autograd), lengths and masks included."""
    torch._dynamo.reset()
    model = lstmkit.LSTM(3, 5, proj_size=2, zoneout=0.2, layer_norm=True, num_layers=2)
    compiled = torch.compile(model, backend="aot_eager", fullgraph=True)
    x, lengths = torch.randn(6, 2, 3), torch.tensor([6, 4])
    grads = []
    for run in (compiled, model):
        torch.manual_seed(3)  # the same zoneout masks in both runs
        out, (h, c) = run(x, lengths=lengths)
        grads.append(torch.autograd.grad(out.square().sum() + c.sum(), list(model.parameters())))
        grads[-1] = (out.detach(), *grads[-1])
    for got, want in zip(*grads, strict=True):
        assert torch.allclose(got, want, rtol=1e-6, atol=1e-7)


def test_export_round_trips():
    model = lstmkit.GRU(4, 6, num_layers=2).eval()  # inference: auto picks the fused GRU
    x = torch.randn(7, 3, 4)
    program = torch.export.export(model, (x,))
    if CPU_OK:
        assert any("lstmkit.gru_rnn_forward" in str(n.target) for n in program.graph.nodes)
    y, h = program.module()(x)
    y_eager, h_eager = model(x)
    assert torch.equal(y, y_eager) and torch.equal(h, h_eager)


@pytest.mark.skipif(not CPU_OK, reason="needs the fused cpu kernels built")
def test_operators_pass_torch_library_checks():
    torch.manual_seed(0)
    T, B, I, H = 4, 2, 3, 5
    p = lambda *s: torch.randn(*s, dtype=torch.float64, requires_grad=True)  # noqa: E731
    lstm_args = (p(T, B, I), p(B, H), p(B, H), p(4 * H, I), p(4 * H, H), p(4 * H), p(4 * H), None,
                 p(3, H), None, None, None, None, None, None, None, torch.tensor([4, 2]), True, False, True)
    torch.library.opcheck(ops.lstm_forward, lstm_args)
    gru_args = (p(T, B, I), p(B, H), p(3 * H, I), p(3 * H, H), p(3 * H), None, None, None, None, False, 1, True)
    torch.library.opcheck(ops.gru_rnn_forward, gru_args)


@pytest.mark.skipif(not CPU_OK, reason="needs the built fused kernels")
@pytest.mark.parametrize("make", [
    lambda: lstmkit.LSTM(4, 6, backend="cpu", peephole=True, zoneout=0.2, recurrent_dropout=0.1),
    lambda: lstmkit.LSTM(4, 6, backend="cpu", layer_norm=True, proj_size=3, coupled_gates=True),
    lambda: lstmkit.GRU(4, 6, backend="cpu", reset_after=False, zoneout=0.2, bidirectional=True),
], ids=["lstm-peephole-zoneout-recdrop", "lstm-ln-proj-coupled", "gru-reset-before-zoneout-bidir"])
def test_eager_path_equals_the_operator(make, monkeypatch):
    """Eager calls go through ops._eager (the operators' own forward, setup and
    backward functions without the dispatcher's per-call cost): outputs and every
    gradient are bitwise the operators'."""
    model = make()
    x, lengths = torch.randn(7, 3, 4), torch.tensor([7, 2, 5])
    results = []
    for via_operator in (False, True):
        if via_operator:  # route the layer to the operators, as traced code is
            monkeypatch.setattr(ops, "lstm_forward_eager", ops.lstm_forward)
            monkeypatch.setattr(ops, "gru_rnn_forward_eager", ops.gru_rnn_forward)
        torch.manual_seed(5)
        xx = x.clone().requires_grad_()
        out, state = model(xx, lengths=lengths)
        h, c = state if isinstance(state, tuple) else (state, state)
        grads = torch.autograd.grad((out * out.cos()).sum() + h.sum() + c.square().sum(),
                                    [xx, *model.parameters()])
        results.append((out, h, c, *grads))
    for got, want in zip(*results, strict=True):
        assert torch.equal(got, want)


@pytest.mark.skipif(not CPU_OK, reason="needs the built fused kernels")
def test_eager_calls_skip_the_operator(monkeypatch):
    """A plain eager forward and backward never call the dispatcher's operator."""
    def fail(*args):
        raise AssertionError("the eager path called the operator")

    for name in ("lstm_forward", "lstm_backward", "gru_rnn_forward", "gru_rnn_backward"):
        monkeypatch.setattr(ops, name, fail)
    for model in (lstmkit.LSTM(4, 6, backend="cpu", peephole=True), lstmkit.GRU(4, 6, backend="cpu")):
        out, _ = model(torch.randn(5, 2, 4, requires_grad=True))
        out.sum().backward()
        with torch.no_grad():
            model(torch.randn(5, 2, 4))
        assert model.weight_hh_l0.grad is not None
