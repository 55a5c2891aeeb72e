"""sLSTM and mLSTM against the ``xlstm`` package (v2, plain-PyTorch backends on CPU),
against the unstabilised paper equations, and mLSTM's three forms against each other.

What is compared with ``xlstm`` (weights copied, float64):

- sLSTM: ``xlstm.blocks.slstm.cell.sLSTMCell_vanilla`` (the recurrence with its
  head-wise R and bias, fed our input projection ``x W_ihᵀ`` as its ``Wx``):
  every output and the final ``(h, c, n, m)``, from the zero state and from a
  nonzero one. Its only forget gate is the sigmoid; the exponential one is checked
  against the unstabilised equations instead.
- mLSTM: the functions of ``xlstm.blocks.mlstm.backends`` (its cell adds gate
  projections from (q, k, v) and a head-wise layer norm, which ours leaves to a
  block): ``recurrent_step_stabilized_simple`` (step by step, states too),
  ``parallel_stabilized_simple`` (no initial state) and ``chunkwise_simple``
  (initial state, final state), against our ``mlstm_step`` / ``mlstm_parallel``.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

import lstmkit
from lstmkit.cells.mlstm import mlstm_parallel, mlstm_step

D = torch.float64
xlstm_slstm = pytest.importorskip("xlstm.blocks.slstm.cell")
xlstm_mlstm = pytest.importorskip("xlstm.blocks.mlstm.backends")


def _reference_slstm(cell: lstmkit.SLSTMCell, perm=(1, 0, 2, 3)):
    heads, hid = cell.num_heads, cell.hidden_size
    cfg = xlstm_slstm.sLSTMCellConfig(hidden_size=hid, num_heads=heads, backend="vanilla",
                                      dtype="float32", input_shape="SBGNH", output_shape="SBH")
    ref = xlstm_slstm.sLSTMCell_vanilla(cfg).double()
    with torch.no_grad():  # its internal R is (heads, gates·D_out, D_in); its bias is laid out as ours
        ref._recurrent_kernel_.copy_(cell.weight_hh.permute(*perm).reshape(heads, 4 * hid // heads, -1))
        ref._bias_.copy_(cell.bias_ih)
    return ref


@pytest.mark.parametrize("heads", [1, 2, 4])
def test_slstm_equals_xlstm_vanilla_cell(heads):
    torch.manual_seed(heads)
    cell = lstmkit.SLSTMCell(3, 8, num_heads=heads, dtype=D)
    with torch.no_grad():
        cell.weight_hh.mul_(4.0)  # a recurrence that matters
    ref = _reference_slstm(cell)
    x = 2 * torch.randn(25, 4, 3, dtype=D)
    wx = F.linear(x, cell.weight_ih)  # its Wx; it adds the bias itself
    y, state, _ = cell.sequence(x[:15])
    y_ref, state_ref = ref(wx[:15])
    torch.testing.assert_close(y, y_ref, atol=1e-13, rtol=0)
    for ours, theirs in zip(state, state_ref.unbind(0)):  # (h, c, n, m): the stabiliser m too
        torch.testing.assert_close(ours, theirs, atol=1e-12, rtol=1e-12)
    # from a nonzero state: continue both
    y2, state2, _ = cell.sequence(x[15:], state)
    y2_ref, state2_ref = ref(wx[15:], state_ref)
    torch.testing.assert_close(y2, y2_ref, atol=1e-13, rtol=0)
    for ours, theirs in zip(state2, state2_ref.unbind(0)):
        torch.testing.assert_close(ours, theirs, atol=1e-12, rtol=1e-12)


def test_slstm_comparison_sees_the_head_blocks():
    """The check above can fail: a wrongly laid-out R (blocks transposed) differs."""
    torch.manual_seed(0)
    cell = lstmkit.SLSTMCell(3, 8, num_heads=2, dtype=D)
    with torch.no_grad():
        cell.weight_hh.mul_(4.0)
    ref = _reference_slstm(cell, perm=(1, 0, 3, 2))
    x = 2 * torch.randn(10, 4, 3, dtype=D)
    y, _, _ = cell.sequence(x)
    assert (y - ref(F.linear(x, cell.weight_ih))[0]).abs().max() > 1e-3


@pytest.mark.parametrize("forget_gate", ["sigmoid", "exp"])
def test_slstm_equals_the_unstabilised_equations(forget_gate):
    """c_t = f c + e^ĩ tanh(z̃), n_t = f n + e^ĩ, h = σ(õ) c / n with f = σ(f̃) or e^f̃."""
    torch.manual_seed(2)
    cell = lstmkit.SLSTMCell(3, 6, num_heads=3, forget_gate=forget_gate, dtype=D)
    x = torch.randn(12, 2, 3, dtype=D)
    y, (h_n, c_n, n_n, m_n), _ = cell.sequence(x)
    gi = cell.project(x)
    h = c = n = torch.zeros(2, 6, dtype=D)
    w = cell.weight_hh  # (4, K, D, D)
    for t in range(12):
        rec = torch.stack([torch.block_diag(*w[g]) for g in range(4)])  # (4, H, H) block-diagonal
        a = gi[t] + torch.einsum("geh,bh->bge", rec, h).reshape(2, -1)
        a_i, a_f, a_z, a_o = a.chunk(4, -1)
        f = torch.sigmoid(a_f) if forget_gate == "sigmoid" else torch.exp(a_f)
        c = f * c + torch.exp(a_i) * torch.tanh(a_z)
        n = f * n + torch.exp(a_i)
        h = torch.sigmoid(a_o) * c / n
        torch.testing.assert_close(y[t], h, atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(c_n * torch.exp(m_n), c, atol=1e-10, rtol=1e-10)  # stored c = c e^{-m}
    torch.testing.assert_close(n_n * torch.exp(m_n), n, atol=1e-10, rtol=1e-10)


def test_slstm_stabiliser_keeps_float32_finite():
    """Input-gate pre-activations of 500 overflow exp() in float32; the stabiliser avoids it."""
    torch.manual_seed(3)
    cell = lstmkit.SLSTMCell(2, 4, num_heads=2)
    with torch.no_grad():
        cell.bias_ih[:4] = 500.0
    x = torch.randn(30, 2, 2)
    y, _, _ = cell.sequence(x)
    c64 = lstmkit.SLSTMCell(2, 4, num_heads=2, dtype=D)
    c64.load_state_dict({k: v.double() for k, v in cell.state_dict().items()})
    y64, _, _ = c64.sequence(x.double())
    assert torch.isfinite(y).all()
    torch.testing.assert_close(y.double(), y64, atol=1e-5, rtol=1e-5)


def _mlstm_inputs(seed, b=2, k=3, t=16, d=4):
    torch.manual_seed(seed)
    q, key, v = (torch.randn(b, k, t, d, dtype=D) for _ in range(3))
    a_i = 2 * torch.randn(b, k, t, dtype=D)
    a_f = 2 * torch.randn(b, k, t, dtype=D) + 2
    state = (torch.randn(b, k, d, d, dtype=D), torch.randn(b, k, d, dtype=D), torch.randn(b, k, dtype=D))
    return q, key, v, a_i, a_f, state


def _to_xlstm_state(state, d):
    """Ours C = Σ v kᵀ with k/√D; its chunkwise C = Σ k vᵀ with k unscaled (it scales q)."""
    c, n, m = state
    return c.transpose(-1, -2) * math.sqrt(d), n * math.sqrt(d), m


def test_mlstm_step_equals_xlstm_recurrent_step():
    q, k, v, a_i, a_f, state = _mlstm_inputs(0)
    d = q.shape[-1]
    theirs = (state[0].transpose(-1, -2).clone(), state[1][..., None].clone(), state[2][..., None, None].clone())
    ours = state
    for t in range(q.shape[2]):
        h, ours, _, _ = mlstm_step(q[:, :, t], k[:, :, t] / math.sqrt(d), v[:, :, t], a_i[:, :, t],
                                   F.logsigmoid(a_f[:, :, t]), ours, 1e-6)
        h_ref, theirs = xlstm_mlstm.recurrent_step_stabilized_simple(
            theirs[0], theirs[1], theirs[2], q[:, :, t : t + 1].clone(), k[:, :, t : t + 1].clone(),
            v[:, :, t : t + 1].clone(), a_i[:, :, t, None, None], a_f[:, :, t, None, None], eps=1e-6)
        torch.testing.assert_close(h, h_ref[:, :, 0], atol=1e-13, rtol=0)
    torch.testing.assert_close(ours[0].transpose(-1, -2), theirs[0], atol=1e-13, rtol=0)
    torch.testing.assert_close(ours[1], theirs[1][..., 0], atol=1e-13, rtol=0)
    torch.testing.assert_close(ours[2], theirs[2][..., 0, 0], atol=1e-13, rtol=0)


def test_mlstm_parallel_equals_xlstm_parallel_without_initial_state():
    """eps = 0: its stabiliser leaves out the (empty) initial state's term, ours keeps it;
    the rescaled max(|nᵀq|, 1) is the same for any stabiliser, so only eps could differ."""
    q, k, v, a_i, a_f, _ = _mlstm_inputs(1)
    d = q.shape[-1]
    zero = (torch.zeros(2, 3, d, d, dtype=D), torch.zeros(2, 3, d, dtype=D), torch.zeros(2, 3, dtype=D))
    h, _, _ = mlstm_parallel(q, k / math.sqrt(d), v, a_i, F.logsigmoid(a_f), zero, 0.0)
    h_ref = xlstm_mlstm.parallel_stabilized_simple(q, k, v, a_i[..., None], a_f[..., None], eps=0.0)
    torch.testing.assert_close(h, h_ref, atol=1e-12, rtol=0)


@pytest.mark.parametrize("chunk", [4, 8, 16])
def test_mlstm_parallel_and_chunkwise_equal_xlstm_chunkwise_with_state(chunk):
    q, k, v, a_i, a_f, state = _mlstm_inputs(2)
    d = q.shape[-1]
    h_ref, last_ref = xlstm_mlstm.chunkwise_simple(
        q, k, v, a_i, a_f, *_to_xlstm_state(state, d), chunk_size=chunk, return_last_state=True,
        eps=1e-6)
    h, last, _ = mlstm_parallel(q, k / math.sqrt(d), v, a_i, F.logsigmoid(a_f), state, 1e-6)
    torch.testing.assert_close(h, h_ref, atol=1e-12, rtol=0)
    ours = _to_xlstm_state(last, d)
    torch.testing.assert_close(ours[0], last_ref[0], atol=1e-12, rtol=0)
    torch.testing.assert_close(ours[1], last_ref[1], atol=1e-12, rtol=0)
    torch.testing.assert_close(ours[2], last_ref[2][..., 0, 0], atol=1e-12, rtol=0)


@pytest.mark.parametrize("forget_gate", ["sigmoid", "exp"])
def test_mlstm_equals_the_unstabilised_equations(forget_gate):
    """C_t = f C + e^ĩ v kᵀ, n_t = f n + e^ĩ k, h = σ(o) C q / max(|nᵀq|, 1) (eps = 0)."""
    torch.manual_seed(4)
    cell = lstmkit.MLSTMCell(3, 6, num_heads=2, forget_gate=forget_gate, eps=0.0, dtype=D)
    with torch.no_grad():
        cell.bias_ih[-2:] = torch.tensor([0.5, -0.3])  # keep e^f̃ moderate for the exp gate
    x = torch.randn(10, 2, 3, dtype=D)
    y, _, _ = cell.sequence(x)
    q, k, v, a_i, log_f, o = cell.split(cell.project(x))
    c = torch.zeros(2, 2, 3, 3, dtype=D)
    n = torch.zeros(2, 2, 3, dtype=D)
    for t in range(10):
        f, i = torch.exp(log_f[t]), torch.exp(a_i[t])
        c = f[..., None, None] * c + i[..., None, None] * torch.einsum("bke,bkd->bked", v[t], k[t])
        n = f[..., None] * n + i[..., None] * k[t]
        num = torch.einsum("bked,bkd->bke", c, q[t])
        den = torch.clamp((n * q[t]).sum(-1).abs(), min=1.0)
        torch.testing.assert_close(y[t], o[t] * (num / den[..., None]).flatten(-2), atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("chunk", [1, 3, 5, 64])
def test_mlstm_forms_agree_with_lengths_and_state(chunk):
    """parallel = chunkwise = recurrent: outputs, final (C, n, m), gates and gradients."""
    torch.manual_seed(5)
    layers = {mode: lstmkit.MLSTM(4, 6, num_layers=2, num_heads=3, mode=mode, chunk_size=chunk,
                                  dtype=D) for mode in ("parallel", "chunkwise", "recurrent")}
    base = layers["parallel"].state_dict()
    for m in layers.values():
        m.load_state_dict(base)
    with torch.no_grad():
        _, s0 = layers["recurrent"](torch.randn(7, 3, 4, dtype=D))
    x = 2 * torch.randn(11, 3, 4, dtype=D)
    results = {}
    for mode, m in layers.items():
        y, state, gates = m(x, s0, lengths=[11, 4, 7], return_gates=True)
        grads = torch.autograd.grad(y.sin().sum() + sum(s.sum() for s in state), list(m.parameters()))
        results[mode] = (y, state, gates, grads)
    y_r, s_r, g_r, gr_r = results["recurrent"]
    for mode in ("parallel", "chunkwise"):
        y, s, g, gr = results[mode]
        torch.testing.assert_close(y, y_r, atol=1e-12, rtol=1e-12)
        for a, b in zip(s, s_r):
            torch.testing.assert_close(a, b, atol=1e-12, rtol=1e-12)
        for layer in g_r:
            for name in g_r[layer]:
                torch.testing.assert_close(g[layer][name], g_r[layer][name], atol=1e-12, rtol=1e-12)
        for a, b in zip(gr, gr_r):
            torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-10)


def test_mlstm_bad_options_are_refused():
    with pytest.raises(ValueError, match="mode: expected one of"):
        lstmkit.MLSTM(3, 4, mode="fast")
    with pytest.raises(ValueError, match="num_heads: expected a divisor"):
        lstmkit.MLSTM(3, 4, num_heads=3)
    with pytest.raises(ValueError, match="forget_gate"):
        lstmkit.SLSTM(3, 4, forget_gate="tanh")
