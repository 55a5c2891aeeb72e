"""The regularisers against their definitions, observed through the layers' outputs.

Comparing backends cannot see a wrong regulariser: every backend gets its masks
from ``kernels/stack.py``. These tests build layers whose weights make the
candidate state a known function of the input (biases saturate the gates, the
input or recurrent weights are the identity), run them, and read the
regulariser off the outputs with arithmetic written here, not the code under test:

- zoneout (Krueger et al. 2016): in training each unit keeps its previous value
  with probability p (z = 1) and takes the candidate otherwise; in evaluation
  ``h_t = p h_{t-1} + (1 - p) h̃_t`` (z = p);
- recurrent dropout (Gal & Ghahramani 2016): one Bernoulli(1 - p) mask per
  sequence, constant over its steps, scaled by 1 / (1 - p);
- weight drop (DropConnect on W_hh, Merity et al. 2017): one mask of W_hh per
  forward call, shared by every sequence and step, scaled by 1 / (1 - p), a
  fresh one on the next call;
- evaluation mode: deterministic and equal to the layer without the
  stochastic regularisers (zoneout aside, which uses its expectation).

Fractions are checked against a 5-sigma binomial bound, so a correct
implementation fails about once in 1.7 million runs (the seeds are fixed anyway).
"""

from __future__ import annotations

import math

import pytest
import torch

import lstmkit
from lstmkit.kernels.cpu import _loader

D = torch.float64
BIG = 30.0  # sigmoid(30) = 1 - 9e-14: a gate that is open (or, negated, shut)
TOL = 1e-9
BACKENDS = ["reference"] + (["cpu"] if _loader.reason() is None else [])
FAMILIES = ["lstm", "gru", "rnn"]


def candidate(family: str, u: torch.Tensor) -> torch.Tensor:
    """The output a unit takes when it updates, given its pre-activation u (see ``build``)."""
    return torch.tanh(torch.tanh(u)) if family == "lstm" else torch.tanh(u)


def build(family: str, size: int, w_in: torch.Tensor, w_rec: torch.Tensor, backend: str, **opts):
    """A one-layer module whose update is ``candidate(family, w_in x_t + w_rec (m * h_{t-1}))``.

    LSTM: i and o open, f shut, g takes the pre-activation, so c̃ = tanh(u) and
    h̃ = tanh(c̃). GRU: r open, update gate z shut, n = tanh(u). RNN: tanh(u).
    """
    cls = {"lstm": lstmkit.LSTM, "gru": lstmkit.GRU, "rnn": lstmkit.RNN}[family]
    m = cls(size, size, dtype=D, backend=backend, **opts)
    gates = {"lstm": 4, "gru": 3, "rnn": 1}[family]
    slot = {"lstm": 2, "gru": 2, "rnn": 0}[family]  # the block that carries u
    bias = {"lstm": [BIG, -BIG, 0.0, BIG], "gru": [BIG, -BIG, 0.0], "rnn": [0.0]}[family]
    w_ih = torch.zeros(gates * size, size, dtype=D)
    w_hh = torch.zeros(gates * size, size, dtype=D)
    w_ih[slot * size : (slot + 1) * size] = w_in
    w_hh[slot * size : (slot + 1) * size] = w_rec
    with torch.no_grad():
        m.weight_ih_l0.copy_(w_ih)
        m.weight_hh_l0.copy_(w_hh)
        m.bias_ih_l0.copy_(torch.tensor(bias, dtype=D).repeat_interleave(size))
        m.bias_hh_l0.zero_()
    return m


def within_5_sigma(hits: int, n: int, p: float) -> bool:
    return abs(hits / n - p) <= 5 * math.sqrt(p * (1 - p) / n)


def run(m, x, h0):
    hx = (h0, torch.atanh(h0)) if isinstance(m, lstmkit.LSTM) else h0  # LSTM: h0 = tanh(c0), o open
    return m(x, hx)[0]


# ---------------------------------------------------------------------------------- zoneout
H_CASES = [("lstm", (0.0, 0.3)), ("gru", 0.3), ("rnn", 0.3), ("rnn", 0.7)]
ZONEOUT_CASES = [("lstm", (0.3, 0.0)), *H_CASES]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("family,rate", H_CASES)
def test_zoneout_keeps_the_previous_state_with_probability_p(family, rate, backend):
    """Zoneout on h: each unit and step is either the previous output (kept) or the
    candidate (updated); the kept fraction is p."""
    torch.manual_seed(1)
    size, steps, batch = 16, 40, 32
    m = build(family, size, torch.eye(size, dtype=D), torch.zeros(size, size, dtype=D), backend,
              zoneout=rate).train()
    p = rate[1] if isinstance(rate, tuple) else rate
    x = torch.rand(steps, batch, size, dtype=D) * 4 - 2  # distinct candidates at every step
    h0 = torch.rand(1, batch, size, dtype=D) * 1.2 - 0.6
    y = run(m, x, h0).detach()
    prev = torch.cat([h0, y[:-1]])
    kept = (y - prev).abs() < TOL
    updated = (y - candidate(family, x)).abs() < TOL
    assert not (kept & updated).any()  # the two outcomes are told apart
    assert (kept | updated).all(), "every unit must either keep its state or take the candidate"
    assert within_5_sigma(int(kept.sum()), kept.numel(), p), f"kept fraction {kept.double().mean():.4f}, p = {p}"


@pytest.mark.parametrize("backend", BACKENDS)
def test_zoneout_on_the_cell_state_keeps_c_with_probability_p(backend):
    """Zoneout on c (LSTM): with f shut, c̃_t = tanh(x_t), so c_t is either c_{t-1} (kept) or
    tanh(x_t). Observed through c_n, one step per call with the state passed back. (h_t is
    computed from c̃_t, Krueger et al.'s equations, so zoneout on c shows only in c.)"""
    torch.manual_seed(9)
    p, size, batch, calls = 0.3, 16, 64, 10
    m = build("lstm", size, torch.eye(size, dtype=D), torch.zeros(size, size, dtype=D), backend,
              zoneout=(p, 0.0)).train()
    h = torch.zeros(1, batch, size, dtype=D)
    c = torch.rand(1, batch, size, dtype=D) * 1.2 - 0.6
    kept_total = 0
    for _ in range(calls):
        x = torch.rand(1, batch, size, dtype=D) * 4 - 2
        y, (h, c_new) = m(x, (h, c))
        h, c_new = h.detach(), c_new.detach()
        torch.testing.assert_close(y[0].detach(), torch.tanh(torch.tanh(x[0])), atol=TOL, rtol=0)
        kept = (c_new - c).abs() < TOL
        updated = (c_new - torch.tanh(x)).abs() < TOL
        assert not (kept & updated).any() and (kept | updated).all()
        kept_total += int(kept.sum())
        c = c_new
    assert within_5_sigma(kept_total, calls * batch * size, p)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("family,rate", ZONEOUT_CASES)
def test_zoneout_in_evaluation_uses_the_expectation(family, rate, backend):
    torch.manual_seed(2)
    size, steps, batch = 8, 12, 5
    m = build(family, size, torch.eye(size, dtype=D), torch.zeros(size, size, dtype=D), backend,
              zoneout=rate).eval()
    p_c, p_h = rate if isinstance(rate, tuple) else (0.0, rate)
    x = torch.rand(steps, batch, size, dtype=D) * 4 - 2
    h0 = torch.rand(1, batch, size, dtype=D) * 1.2 - 0.6
    c0 = torch.atanh(h0)
    out = m(x, (h0, c0) if family == "lstm" else h0)
    y = out[0].detach()
    h, c = h0[0], c0[0]
    for t in range(steps):
        cand = candidate(family, x[t])
        if family == "lstm":  # c̃ = tanh(x_t), h̃ = tanh(c̃); c_t = p_c c_{t-1} + (1 - p_c) c̃
            c = p_c * c + (1 - p_c) * torch.tanh(x[t])
        h = p_h * h + (1 - p_h) * cand
        torch.testing.assert_close(y[t], h, atol=TOL, rtol=0)
    if family == "lstm":
        torch.testing.assert_close(out[1][1][0].detach(), c, atol=TOL, rtol=0)
    assert torch.equal(m(x, (h0, c0) if family == "lstm" else h0)[0], out[0])  # deterministic


# ------------------------------------------------------------------------- recurrent dropout
def _identity_recurrence(family, size, backend, **opts):
    """u_t = m * h_{t-1} (no input): from h_0 = 0.5 a unit whose mask is 0 drops to exactly 0."""
    return build(family, size, torch.zeros(size, size, dtype=D), torch.eye(size, dtype=D), backend, **opts)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("family", FAMILIES)
def test_recurrent_dropout_is_one_scaled_mask_per_sequence(family, backend):
    """h_1 = F(m * h_0) reveals the mask m; every later step must use the same m:
    h_t = F(m * h_{t-1}). The dropped fraction is p and the kept units are scaled by 1/(1-p)."""
    torch.manual_seed(3)
    p, size, steps, batch = 0.4, 32, 6, 64
    m = _identity_recurrence(family, size, backend, recurrent_dropout=p).train()
    x = torch.zeros(steps, batch, size, dtype=D)
    h0 = torch.full((1, batch, size), 0.5, dtype=D)
    y = run(m, x, h0).detach()
    dropped = y[0].abs() < TOL
    assert within_5_sigma(int(dropped.sum()), dropped.numel(), p)
    scale = 1 / (1 - p)
    torch.testing.assert_close(y[0][~dropped], candidate(family, torch.tensor(0.5 * scale, dtype=D)).expand(
        int((~dropped).sum())), atol=TOL, rtol=0)  # the rescale: F(0.5 / (1 - p)), not F(0.5)
    mask = (~dropped).to(D) * scale
    for t in range(1, steps):  # the same mask at every step of the sequence
        torch.testing.assert_close(y[t], candidate(family, mask * y[t - 1]), atol=TOL, rtol=0)
    assert not (dropped == dropped[0]).all(dim=1).all(), "each sequence draws its own mask"
    y2 = run(m, x, h0).detach()
    assert not torch.equal(y2[0].abs() < TOL, dropped), "a fresh mask on the next call"


@pytest.mark.parametrize("backend", BACKENDS)
def test_recurrent_dropout_mean_is_unbiased(backend):
    """E[m] = 1: averaged over many sequences, m * h_0 is h_0 (the RNN's h_1 = tanh(m h_0)
    inverts to the mask values)."""
    family = "rnn"
    torch.manual_seed(4)
    p, size, batch = 0.25, 64, 400
    m = _identity_recurrence(family, size, backend, recurrent_dropout=p).train()
    h0 = torch.full((1, batch, size), 0.5, dtype=D)
    y = run(m, torch.zeros(1, batch, size, dtype=D), h0).detach()
    masks = torch.atanh(y[0]) / 0.5  # the mask values themselves, 0 or 1/(1-p)
    n = masks.numel()
    sd = math.sqrt(p / (1 - p) / n)  # sd of the mean of n draws of m: var m = p / (1 - p)
    assert abs(float(masks.mean()) - 1.0) <= 5 * sd


# ------------------------------------------------------------------------------- weight drop
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("family", FAMILIES)
def test_weight_drop_is_one_dropconnect_mask_per_call(family, backend):
    """With W_hh = all ones and h_0 = e_j for sequence j, h_1[j, i] = F(M_ij / (1-p)): the whole
    mask M of W_hh. It is shared by every sequence (a second copy of the batch sees the same),
    drops a fraction p, scales by 1/(1-p), and the next call draws a fresh one."""
    torch.manual_seed(5)
    p, size = 0.3, 48
    m = build(family, size, torch.zeros(size, size, dtype=D), torch.ones(size, size, dtype=D), backend,
              weight_drop=p).train()
    eye = torch.eye(size, dtype=D)
    h0 = torch.cat([eye, eye]).unsqueeze(0) * 0.5  # (1, 2·size, size): two copies of the basis
    x = torch.zeros(1, 2 * size, size, dtype=D)
    masks = []
    for _ in range(4):
        y = run(m, x, h0).detach()[0]  # (2·size, size): row j is column j of the mask
        kept = y.abs() > TOL
        assert torch.equal(kept[:size], kept[size:]), "one mask for every sequence of the batch"
        torch.testing.assert_close(y[kept], candidate(family, torch.tensor(0.5 / (1 - p), dtype=D)).expand(
            int(kept.sum())), atol=TOL, rtol=0)
        masks.append(kept[:size])
    dropped = sum(int((~k).sum()) for k in masks)
    assert within_5_sigma(dropped, 4 * size * size, p)
    assert not any(torch.equal(masks[i], masks[i + 1]) for i in range(3)), "a fresh mask per call"


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("family", FAMILIES)
def test_weight_drop_mask_is_constant_over_the_steps_of_a_call(family, backend):
    """W_hh = I: h_t = F(M_ii h_{t-1} / (1-p)) with the same diagonal mask at every step."""
    torch.manual_seed(6)
    p, size, steps, batch = 0.5, 200, 5, 3
    m = _identity_recurrence(family, size, backend, weight_drop=p).train()
    h0 = torch.full((1, batch, size), 0.5, dtype=D)
    y = run(m, torch.zeros(steps, batch, size, dtype=D), h0).detach()
    kept = (y[0].abs() > TOL).to(D)
    assert torch.equal(kept, kept[:1].expand_as(kept)), "the same weights for every sequence"
    assert within_5_sigma(int((kept[0] == 0).sum()), size, p)
    for t in range(1, steps):
        torch.testing.assert_close(y[t], candidate(family, kept / (1 - p) * y[t - 1]), atol=TOL, rtol=0)


# --------------------------------------------------------------------------- evaluation mode
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("family", FAMILIES)
def test_evaluation_turns_the_stochastic_regularisers_off(family, backend):
    """Dropout between layers, recurrent dropout and weight drop: in eval the layer is
    deterministic and equals the same weights without them."""
    torch.manual_seed(7)
    cls = {"lstm": lstmkit.LSTM, "gru": lstmkit.GRU, "rnn": lstmkit.RNN}[family]
    plain = cls(5, 6, num_layers=2, dtype=D, backend=backend)
    reg = cls(5, 6, num_layers=2, dtype=D, backend=backend, dropout=0.5, recurrent_dropout=0.5,
              weight_drop=0.5)
    reg.load_state_dict(plain.state_dict())
    reg.eval()
    x = torch.randn(7, 3, 5, dtype=D)
    y1, y2, want = reg(x)[0], reg(x)[0], plain.eval()(x)[0]
    assert torch.equal(y1, y2)
    torch.testing.assert_close(y1, want, atol=1e-12, rtol=0)
    reg.train()  # and the regularisers are really on in training
    assert not torch.allclose(reg(x)[0], want)


# -------------------------------------------------------------------------------- the cells
def test_cell_zoneout_and_recurrent_mask_definitions():
    """The one-step cells draw their own masks: zoneout keeps with probability p, the
    recurrent mask is Bernoulli(1 - p) / (1 - p), evaluation uses z = p and no mask."""
    torch.manual_seed(8)
    p, size, batch = 0.3, 32, 500
    cell = lstmkit.RNNCell(size, size, dtype=D, zoneout=p)
    with torch.no_grad():
        cell.weight_ih.copy_(torch.eye(size, dtype=D))
        cell.weight_hh.zero_()
        cell.bias_ih.zero_()
        cell.bias_hh.zero_()
    x = torch.rand(batch, size, dtype=D) * 4 - 2
    h = torch.rand(batch, size, dtype=D) * 1.2 - 0.6
    y = cell(x, h).detach()
    kept = (y - h).abs() < TOL
    assert ((y - torch.tanh(x)).abs() < TOL).logical_xor(kept).all()
    assert within_5_sigma(int(kept.sum()), kept.numel(), p)
    cell.eval()
    torch.testing.assert_close(cell(x, h), p * h + (1 - p) * torch.tanh(x), atol=TOL, rtol=0)
    lstm_cell = lstmkit.LSTMCell(4, size, dtype=D, recurrent_dropout=0.4)
    mask = lstm_cell.recurrent_mask(batch)
    dropped = mask == 0
    assert within_5_sigma(int(dropped.sum()), mask.numel(), 0.4)
    torch.testing.assert_close(mask[~dropped], torch.full_like(mask[~dropped], 1 / 0.6), atol=1e-15, rtol=0)
    lstm_cell.eval()
    assert lstm_cell.recurrent_mask(batch) is None
