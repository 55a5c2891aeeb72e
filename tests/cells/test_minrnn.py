"""minGRU / minLSTM: the log-space parallel scan equals the sequential form (float64).

The sequential form is the paper's equations one step at a time; the scan is
``h_t = exp(L_t) h_0 + exp(L_t + logcumsumexp(log b - L))``. They are held equal
with lengths and a nonzero (also negative) initial state, and the pieces
(g, log g, the normalised minLSTM gates) against their definitions.
"""

from __future__ import annotations

import math

import pytest
import torch

import lstmkit
from lstmkit.cells.minrnn import g, log_g, scan

D = torch.float64


@pytest.mark.parametrize("cls", [lstmkit.MinGRU, lstmkit.MinLSTM])
@pytest.mark.parametrize("seed,scale", [(0, 3.0), (1, 3.0), (2, 3.0), (3, 60.0)])
def test_scan_equals_loop_with_lengths_and_initial_state(cls, seed, scale):
    """scale 60 puts pre-activations past 20, where torch's F.softplus turns linear."""
    torch.manual_seed(seed)
    scan_m = cls(5, 6, num_layers=2, mode="scan", dtype=D)
    loop_m = cls(5, 6, num_layers=2, mode="loop", dtype=D)
    loop_m.load_state_dict(scan_m.state_dict())
    x = scale * torch.randn(40, 4, 5, dtype=D)
    h0 = 2 * torch.randn(2, 4, 6, dtype=D)  # negative entries too: h_0 stays outside the log
    lengths = [40, 17, 1, 33]
    ys, hs, gs = scan_m(x, h0, lengths=lengths, return_gates=True)
    yl, hl, gl = loop_m(x, h0, lengths=lengths, return_gates=True)
    torch.testing.assert_close(ys, yl, atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(hs, hl, atol=1e-12, rtol=1e-12)
    for layer in gs:
        assert gs[layer].keys() == gl[layer].keys()
        for k in gs[layer]:
            torch.testing.assert_close(gs[layer][k], gl[layer][k], atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("cls", [lstmkit.MinGRU, lstmkit.MinLSTM])
def test_scan_gradients_equal_loop_gradients(cls):
    torch.manual_seed(9)
    a = cls(3, 4, mode="scan", dtype=D)
    b = cls(3, 4, mode="loop", dtype=D)
    b.load_state_dict(a.state_dict())
    x = torch.randn(12, 2, 3, dtype=D)
    h0 = torch.randn(1, 2, 4, dtype=D)
    grads = []
    for m in (a, b):
        y, h = m(x, h0, lengths=[12, 7])
        grads.append(torch.autograd.grad((y.sin().sum() + h.sum()), list(m.parameters())))
    for ga, gb in zip(*grads):
        torch.testing.assert_close(ga, gb, atol=1e-11, rtol=0)


def test_g_and_log_g_follow_their_definition():
    v = torch.linspace(-30, 30, 601, dtype=D)
    expected = torch.where(v >= 0, v + 0.5, 1 / (1 + torch.exp(-v)))
    torch.testing.assert_close(g(v), expected, atol=1e-15, rtol=0)
    torch.testing.assert_close(log_g(v), torch.log(expected), atol=1e-12, rtol=0)
    assert float(g(torch.tensor(0.0, dtype=D))) == 0.5  # continuous at 0: σ(0) = 0 + 1/2
    assert torch.isfinite(log_g(torch.tensor([-800.0, 800.0], dtype=D))).all()


def test_scan_solves_the_linear_recurrence():
    torch.manual_seed(0)
    a = torch.rand(30, 2, 3, dtype=D)
    b = torch.rand(30, 2, 3, dtype=D) + 0.01
    h0 = torch.randn(2, 3, dtype=D)
    h, ref = scan(a.log(), b.log(), h0), []
    prev = h0
    for t in range(30):
        prev = a[t] * prev + b[t]
        ref.append(prev)
    torch.testing.assert_close(h, torch.stack(ref), atol=1e-12, rtol=0)


def test_one_min_gru_step_by_hand():
    """I = H = 1: h_1 = (1 - σ(w_z x + b_z)) h_0 + σ(w_z x + b_z) g(w_h x + b_h)."""
    cell = lstmkit.MinGRUCell(1, 1, dtype=D)
    with torch.no_grad():
        cell.weight_ih.copy_(torch.tensor([[0.5], [-2.0]], dtype=D))
        cell.bias_ih.copy_(torch.tensor([0.1, 0.3], dtype=D))
    x, h0 = 0.8, -0.4
    z = 1 / (1 + math.exp(-(0.5 * x + 0.1)))
    k = -2.0 * x + 0.3  # negative: g = σ
    expected = (1 - z) * h0 + z / (1 + math.exp(-k))
    h, _ = cell(torch.tensor([x], dtype=D), torch.tensor([h0], dtype=D))
    assert abs(float(h.detach()) - expected) < 1e-14


def test_min_lstm_gates_are_normalised():
    torch.manual_seed(1)
    m = lstmkit.MinLSTM(3, 4, dtype=D)
    _, _, gates = m(torch.randn(6, 2, 3, dtype=D), return_gates=True)
    torch.testing.assert_close(gates["l0"]["f"] + gates["l0"]["i"],
                               torch.ones(6, 2, 4, dtype=D), atol=1e-15, rtol=0)


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="mode: expected one of"):
        lstmkit.MinGRU(3, 4, mode="fast")


def test_auto_mode_loops_on_the_cpu(monkeypatch):
    calls: list[str] = []
    original = lstmkit.MinGRUCell.loop

    def counting_loop(self, *args, **kwargs):
        calls.append("loop")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(lstmkit.MinGRUCell, "loop", counting_loop)
    x = torch.randn(5, 2, 3, dtype=D)
    auto = lstmkit.MinGRU(3, 4, dtype=D)
    y_auto, _ = auto(x)
    assert calls == ["loop"]
    scan_m = lstmkit.MinGRU(3, 4, mode="scan", dtype=D)
    scan_m.load_state_dict(auto.state_dict())
    y_scan, _ = scan_m(x)
    assert calls == ["loop"]  # mode="scan" never loops
    torch.testing.assert_close(y_auto, y_scan, atol=1e-12, rtol=0)


@pytest.mark.parametrize("cls,modes", [(lstmkit.MinGRU, ("scan", "loop")),
                                       (lstmkit.MinLSTM, ("scan", "loop")),
                                       (lstmkit.MLSTM, ("parallel", "recurrent"))])
def test_setting_a_layers_mode_switches_every_cell(cls, modes):
    m = cls(3, 4, num_layers=3)
    for mode in modes:
        m.mode = mode
        assert m.mode == mode and all(cell.mode == mode for cell in m.cells)
    with pytest.raises(ValueError, match="mode: expected one of"):
        m.mode = "fast"
    assert m.mode == modes[-1]


@pytest.mark.parametrize("cls,gate", [(lstmkit.MinGRU, "z"), (lstmkit.MinLSTM, "f")])
def test_forget_bias_sets_the_kept_fraction_at_zero_input(cls, gate):
    b = 3.0
    m = cls(3, 4, num_layers=2, forget_bias=b, dtype=D)
    _, _, gates = m(torch.zeros(2, 1, 3, dtype=D), return_gates=True)
    kept = gates["l0"][gate] if gate == "f" else 1 - gates["l0"][gate]
    torch.testing.assert_close(kept, torch.full_like(kept, 1 / (1 + math.exp(-b))), atol=1e-15, rtol=0)
    plain = cls(3, 4, dtype=D)
    _, _, g0 = plain(torch.zeros(2, 1, 3, dtype=D), return_gates=True)
    assert (g0["l0"][gate] - 0.5).abs().max() < 0.3  # without it: near 1/2


def test_forget_bias_is_checked():
    with pytest.raises(ValueError, match="forget_bias: expected a finite float"):
        lstmkit.MinGRU(3, 4, forget_bias=float("nan"))
    with pytest.raises(ValueError, match="forget_bias: needs bias=True"):
        lstmkit.MinLSTM(3, 4, bias=False, forget_bias=1.0)


def test_the_step_loop_graph_has_no_per_step_selects():
    """The loop unbinds the input projections once: T ``gi[t]`` selects would each scatter
    a full (T, B, G) zero tensor in the backward, O(T²) (5.6 s instead of 0.6 s at T = 1024)."""
    m = lstmkit.MinGRU(3, 4, mode="loop", dtype=D)
    y, _ = m(torch.randn(30, 2, 3, dtype=D))
    seen, stack, names = set(), [y.grad_fn], []
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        names.append(type(fn).__name__)
        stack.extend(f for f, _ in fn.next_functions)
    assert names.count("UnbindBackward0") == 1
    assert not any(n.startswith("SelectBackward") for n in names)
