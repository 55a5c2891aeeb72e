"""Triton pointwise kernels: one launch per time step for the gate math.

The recurrent products run as cuBLAS GEMMs between these launches
(``lstm.py``, ``gru_rnn.py``); each kernel here fuses everything elementwise
in one step of one layer and direction: the gate nonlinearities, peepholes,
layer norm over each gate block, the cell update, zoneout and ``lengths``
masking (forward), and their derivatives (backward). The equations are those
of ``lstmkit.kernels.spec``; the derivatives are written out beside the code.

Layout: every per-step buffer is a contiguous (B, N) matrix; a program owns
one batch row and ``BLOCK`` consecutive hidden units (grid (B, ⌈H/BLOCK⌉)).
With layer norm a program owns the whole row (BLOCK ≥ H, one block), since
the normalisation needs the mean and variance over H. Arithmetic is in float32
(float64 for float64 tensors): the caller passes float32 buffers for half and
bfloat16 models.

A sequence ``b`` with ``lengths[b] <= t`` does not step: its state is copied,
its output is zero and its gradients pass through unchanged.
"""

from __future__ import annotations

import triton
import triton.language as tl

from lstmkit.kernels import spec

# A global read inside @triton.jit must be a constexpr: the compiler refuses a plain float (the
# interpreter does not; tests/kernels/test_triton_compile.py compiles every launch to catch it).
LN_EPS = tl.constexpr(spec.LN_EPS)


@triton.jit
def _tanh(x):
    # tanh(x) = 2σ(2x) - 1: tl.sigmoid is available on every backend and the
    # interpreter, a libdevice tanh is not.
    return 2.0 * tl.sigmoid(2.0 * x) - 1.0


@triton.jit
def _ln(v, mask, n):
    """(v - mean) / sqrt(var + eps) over the n valid entries -> (v̂, 1/std)."""
    mean = tl.sum(tl.where(mask, v, 0.0), axis=0) / n
    d = tl.where(mask, v - mean, 0.0)
    rstd = 1.0 / tl.sqrt(tl.sum(d * d, axis=0) / n + LN_EPS)
    return d * rstd, rstd


@triton.jit
def _ln_backward(dxh, xh, rstd, mask, n):
    """dL/dv from dL/dv̂: rstd * (dv̂ - mean(dv̂) - v̂ * mean(dv̂ * v̂))."""
    dxh = tl.where(mask, dxh, 0.0)
    m1 = tl.sum(dxh, axis=0) / n
    m2 = tl.sum(dxh * xh, axis=0) / n
    return tl.where(mask, rstd * (dxh - m1 - xh * m2), 0.0)


# ------------------------------------------------------------------------------ LSTM
@triton.jit
def _gate_in(a_ptr, ahat_ptr, grstd_ptr, gw_ptr, gb_ptr, b, row, k, H, offs, mask,
             G: tl.constexpr, LN: tl.constexpr):
    """Gate block k's pre-activation of row b, layer-normalised when LN (storing â, 1/std)."""
    v = tl.load(a_ptr + row + k * H + offs, mask=mask, other=0.0)
    if LN:
        vh, rstd = _ln(v, mask, H)
        tl.store(ahat_ptr + row + k * H + offs, vh, mask=mask)
        tl.store(grstd_ptr + b * G + k, rstd)
        v = vh * tl.load(gw_ptr + k * H + offs, mask=mask, other=0.0) \
            + tl.load(gb_ptr + k * H + offs, mask=mask, other=0.0)
    return v


@triton.jit
def lstm_forward_step(
    a_ptr, act_ptr, ahat_ptr, grstd_ptr, cp_ptr, ct_ptr, tc_ptr, chat_ptr, crstd_ptr, cout_ptr, htil_ptr,
    wch_ptr, gw_ptr, gb_ptr, cw_ptr, cb_ptr, zc_ptr, lens_ptr, t, H,
    G: tl.constexpr, PEEP: tl.constexpr, LN: tl.constexpr, ZC: tl.constexpr,
    LENS: tl.constexpr, BLOCK: tl.constexpr,
):
    """One LSTM step after the recurrent GEMM (G = 3: coupled gates, i = 1 - f).

    a (B, G·H): x_t W_ihᵀ + b_ih + h_in W_hhᵀ + b_hh. Writes the activations
    i|f|g|o (f|g|o when coupled) to act, c̃ to ct, tanh(LN_c(c̃)) to tc,
    o * tanh(LN_c(c̃)) to htil (before projection and zoneout) and the mixed
    cell state c_t to cout; with LN also â (ahat), 1/std per gate (grstd),
    ĉ (chat) and its 1/std (crstd).
    """
    b = tl.program_id(0)
    offs = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < H
    row = b * G * H
    cp = tl.load(cp_ptr + b * H + offs, mask=mask, other=0.0)
    a_f = _gate_in(a_ptr, ahat_ptr, grstd_ptr, gw_ptr, gb_ptr, b, row, G - 3, H, offs, mask, G, LN)
    a_g = _gate_in(a_ptr, ahat_ptr, grstd_ptr, gw_ptr, gb_ptr, b, row, G - 2, H, offs, mask, G, LN)
    a_o = _gate_in(a_ptr, ahat_ptr, grstd_ptr, gw_ptr, gb_ptr, b, row, G - 1, H, offs, mask, G, LN)
    if PEEP:
        a_f += tl.load(wch_ptr + H + offs, mask=mask, other=0.0) * cp
    f = tl.sigmoid(a_f)
    if G == 3:
        i = 1.0 - f
    else:
        a_i = _gate_in(a_ptr, ahat_ptr, grstd_ptr, gw_ptr, gb_ptr, b, row, 0, H, offs, mask, G, LN)
        if PEEP:
            a_i += tl.load(wch_ptr + offs, mask=mask, other=0.0) * cp
        i = tl.sigmoid(a_i)
        tl.store(act_ptr + row + offs, i, mask=mask)
    g = _tanh(a_g)
    ct = f * cp + i * g
    cn = ct
    if LN:
        chat, crstd = _ln(ct, mask, H)
        tl.store(chat_ptr + b * H + offs, chat, mask=mask)
        tl.store(crstd_ptr + b, crstd)
        cn = chat * tl.load(cw_ptr + offs, mask=mask, other=0.0) + tl.load(cb_ptr + offs, mask=mask, other=0.0)
    if PEEP:
        a_o += tl.load(wch_ptr + 2 * H + offs, mask=mask, other=0.0) * ct
    o = tl.sigmoid(a_o)
    th = _tanh(cn)
    tl.store(act_ptr + row + (G - 3) * H + offs, f, mask=mask)
    tl.store(act_ptr + row + (G - 2) * H + offs, g, mask=mask)
    tl.store(act_ptr + row + (G - 1) * H + offs, o, mask=mask)
    tl.store(ct_ptr + b * H + offs, ct, mask=mask)
    tl.store(tc_ptr + b * H + offs, th, mask=mask)
    tl.store(htil_ptr + b * H + offs, o * th, mask=mask)
    c_new = ct
    if ZC:
        z = tl.load(zc_ptr + b * H + offs, mask=mask, other=0.0)
        c_new = z * cp + (1.0 - z) * ct
    if LENS:
        c_new = tl.where(tl.load(lens_ptr + b) > t, c_new, cp)
    tl.store(cout_ptr + b * H + offs, c_new, mask=mask)


@triton.jit
def _gate_out(dk, dgate_ptr, da_ptr, ahat_ptr, grstd_ptr, gw_ptr, b, row, k, H, offs, mask,
              G: tl.constexpr, LN: tl.constexpr):
    """Store dL/d(gate input) of block k and, with LN, its gradient through the norm."""
    tl.store(dgate_ptr + row + k * H + offs, dk, mask=mask)
    if LN:
        ah = tl.load(ahat_ptr + row + k * H + offs, mask=mask, other=0.0)
        dk = _ln_backward(dk * tl.load(gw_ptr + k * H + offs, mask=mask, other=0.0), ah,
                          tl.load(grstd_ptr + b * G + k), mask, H)
        tl.store(da_ptr + row + k * H + offs, dk, mask=mask)


@triton.jit
def lstm_backward_step(
    act_ptr, ct_ptr, tc_ptr, cp_ptr, chat_ptr, crstd_ptr, ahat_ptr, grstd_ptr, dht_ptr, dc_ptr, zc_ptr,
    wch_ptr, gw_ptr, cw_ptr, lens_ptr, t, H,
    dgate_ptr, da_ptr, dcn_ptr, ndc_ptr,
    G: tl.constexpr, PEEP: tl.constexpr, LN: tl.constexpr, ZC: tl.constexpr,
    LENS: tl.constexpr, BLOCK: tl.constexpr,
):
    """The derivative of ``lstm_forward_step``.

    dht: dL/d(o * tanh(LN_c(c̃))); dc: dL/dc_t. Writes dgate (dL/d gate inputs
    after layer norm and peepholes), da (dL/da, through the gate layer norm:
    what the GEMMs need; without LN da is dgate), dcn (dL/d LN_c(c̃) before the
    gain, for the cell-norm parameter gradients) and ndc = dL/dc_{t-1}. A row
    that does not run writes zeros and passes dc through.

        dc̃  = dht·o·(1 - tanh²) [through LN_c] + (1 - z)·dc + da_o·w_co
        da_o = dht·tanh·o(1 - o)
        dc_{t-1} = dc̃·f + z·dc + da_i·w_ci + da_f·w_cf
        da_f = dc̃·c_{t-1}·f(1 - f)   (minus dc̃·g·f(1 - f) when coupled: i = 1 - f)
        da_i = dc̃·g·i(1 - i),  da_g = dc̃·i·(1 - g²)
    """
    b = tl.program_id(0)
    offs = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < H
    row = b * G * H
    keep = 1.0  # 0.0 for a row past its length: zero gradients, dc passed through
    if LENS:
        keep = tl.where(tl.load(lens_ptr + b) > t, 1.0, 0.0)
    dc = tl.load(dc_ptr + b * H + offs, mask=mask, other=0.0)
    f = tl.load(act_ptr + row + (G - 3) * H + offs, mask=mask, other=0.0)
    g = tl.load(act_ptr + row + (G - 2) * H + offs, mask=mask, other=0.0)
    o = tl.load(act_ptr + row + (G - 1) * H + offs, mask=mask, other=0.0)
    if G == 3:
        i = 1.0 - f
    else:
        i = tl.load(act_ptr + row + offs, mask=mask, other=0.0)
    th = tl.load(tc_ptr + b * H + offs, mask=mask, other=0.0)
    cp = tl.load(cp_ptr + b * H + offs, mask=mask, other=0.0)
    dht = tl.load(dht_ptr + b * H + offs, mask=mask, other=0.0)
    dcn = dht * o * (1.0 - th * th)
    dao = dht * th * o * (1.0 - o)
    if LN:
        tl.store(dcn_ptr + b * H + offs, dcn * keep, mask=mask)
        chat = tl.load(chat_ptr + b * H + offs, mask=mask, other=0.0)
        dcn = _ln_backward(dcn * tl.load(cw_ptr + offs, mask=mask, other=0.0), chat,
                           tl.load(crstd_ptr + b), mask, H)
    dct = dcn + dc
    if ZC:
        z = tl.load(zc_ptr + b * H + offs, mask=mask, other=0.0)
        dct = dcn + (1.0 - z) * dc
    if PEEP:
        dct += dao * tl.load(wch_ptr + 2 * H + offs, mask=mask, other=0.0)
    dcp = dct * f
    if ZC:
        dcp += z * dc
    df = dct * cp
    di = dct * g
    dg = dct * i
    if G == 3:
        df = df - di
    daf = df * f * (1.0 - f)
    dag = dg * (1.0 - g * g)
    if PEEP:
        dcp += daf * tl.load(wch_ptr + H + offs, mask=mask, other=0.0)
    if G == 4:
        dai = di * i * (1.0 - i)
        if PEEP:
            dcp += dai * tl.load(wch_ptr + offs, mask=mask, other=0.0)
        _gate_out(dai * keep, dgate_ptr, da_ptr, ahat_ptr, grstd_ptr, gw_ptr, b, row, 0, H, offs, mask, G, LN)
    _gate_out(daf * keep, dgate_ptr, da_ptr, ahat_ptr, grstd_ptr, gw_ptr, b, row, G - 3, H, offs, mask, G, LN)
    _gate_out(dag * keep, dgate_ptr, da_ptr, ahat_ptr, grstd_ptr, gw_ptr, b, row, G - 2, H, offs, mask, G, LN)
    _gate_out(dao * keep, dgate_ptr, da_ptr, ahat_ptr, grstd_ptr, gw_ptr, b, row, G - 1, H, offs, mask, G, LN)
    tl.store(ndc_ptr + b * H + offs, keep * dcp + (1.0 - keep) * dc, mask=mask)


# --------------------------------------------------------------------- state mixing
@triton.jit
def mix_forward_step(new_ptr, prev_ptr, z_ptr, lens_ptr, t, N, out_ptr, y_ptr,
                     Z: tl.constexpr, LENS: tl.constexpr, BLOCK: tl.constexpr):
    """h_t = z·h_{t-1} + (1 - z)·h̃ where the row runs, else h_{t-1}; y_t = h_t or 0."""
    b = tl.program_id(0)
    offs = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < N
    h = tl.load(new_ptr + b * N + offs, mask=mask, other=0.0)
    if Z:
        prev = tl.load(prev_ptr + b * N + offs, mask=mask, other=0.0)
        z = tl.load(z_ptr + b * N + offs, mask=mask, other=0.0)
        h = z * prev + (1.0 - z) * h
    y = h
    if LENS:
        prev = tl.load(prev_ptr + b * N + offs, mask=mask, other=0.0)
        run = tl.load(lens_ptr + b) > t
        y = tl.where(run, h, 0.0)
        h = tl.where(run, h, prev)
    tl.store(out_ptr + b * N + offs, h, mask=mask)
    tl.store(y_ptr + b * N + offs, y, mask=mask)


@triton.jit
def mix_backward_step(dh_ptr, dy_ptr, z_ptr, lens_ptr, t, N, dnew_ptr, carry_ptr,
                      DY: tl.constexpr, Z: tl.constexpr, LENS: tl.constexpr, BLOCK: tl.constexpr):
    """The derivative of ``mix_forward_step``: with G = dh_t (+ dy_t where the row
    runs), dh̃ = (1 - z)·G and the direct part of dh_{t-1} is z·G; a row that
    does not run gives dh̃ = 0 and passes G on."""
    b = tl.program_id(0)
    offs = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < N
    keep = 1.0
    if LENS:
        keep = tl.where(tl.load(lens_ptr + b) > t, 1.0, 0.0)
    grad = tl.load(dh_ptr + b * N + offs, mask=mask, other=0.0)
    if DY:
        grad += keep * tl.load(dy_ptr + b * N + offs, mask=mask, other=0.0)
    dnew = keep * grad
    carry = (1.0 - keep) * grad
    if Z:
        z = tl.load(z_ptr + b * N + offs, mask=mask, other=0.0)
        dnew = keep * (1.0 - z) * grad
        carry = keep * z * grad + (1.0 - keep) * grad
    tl.store(dnew_ptr + b * N + offs, dnew, mask=mask)
    tl.store(carry_ptr + b * N + offs, carry, mask=mask)


# ------------------------------------------------------------------------------- GRU
# Forward: reset_after runs ``gru_forward_after`` once per step on gh = h_in W_hhᵀ + b_hh
# (B, 3H); reset_before runs ``gru_forward_rz`` on gh = h_in W_hrzᵀ + b_hrz (B, 2H),
# then the caller forms gh_n = (r·h_in) W_hnᵀ + b_hn and ``gru_forward_n`` finishes.
# In both, h̃ = (1 - z)·n + z·h_{t-1}; act holds r|z|n (B, 3H).
@triton.jit
def gru_forward_after(gi_ptr, gh_ptr, hp_ptr, act_ptr, out_ptr, H, BLOCK: tl.constexpr):
    """r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r·gh_n)."""
    b = tl.program_id(0)
    offs = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < H
    base = b * 3 * H
    r = tl.sigmoid(tl.load(gi_ptr + base + offs, mask=mask, other=0.0)
                   + tl.load(gh_ptr + base + offs, mask=mask, other=0.0))
    z = tl.sigmoid(tl.load(gi_ptr + base + H + offs, mask=mask, other=0.0)
                   + tl.load(gh_ptr + base + H + offs, mask=mask, other=0.0))
    n = _tanh(tl.load(gi_ptr + base + 2 * H + offs, mask=mask, other=0.0)
              + r * tl.load(gh_ptr + base + 2 * H + offs, mask=mask, other=0.0))
    hp = tl.load(hp_ptr + b * H + offs, mask=mask, other=0.0)
    tl.store(act_ptr + base + offs, r, mask=mask)
    tl.store(act_ptr + base + H + offs, z, mask=mask)
    tl.store(act_ptr + base + 2 * H + offs, n, mask=mask)
    tl.store(out_ptr + b * H + offs, (1.0 - z) * n + z * hp, mask=mask)


@triton.jit
def gru_forward_rz(gi_ptr, gh_ptr, hin_ptr, act_ptr, rh_ptr, H, BLOCK: tl.constexpr):
    """r, z from gh (B, 2H); rh = r·h_in for the second GEMM."""
    b = tl.program_id(0)
    offs = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < H
    r = tl.sigmoid(tl.load(gi_ptr + b * 3 * H + offs, mask=mask, other=0.0)
                   + tl.load(gh_ptr + b * 2 * H + offs, mask=mask, other=0.0))
    z = tl.sigmoid(tl.load(gi_ptr + b * 3 * H + H + offs, mask=mask, other=0.0)
                   + tl.load(gh_ptr + b * 2 * H + H + offs, mask=mask, other=0.0))
    tl.store(act_ptr + b * 3 * H + offs, r, mask=mask)
    tl.store(act_ptr + b * 3 * H + H + offs, z, mask=mask)
    tl.store(rh_ptr + b * H + offs, r * tl.load(hin_ptr + b * H + offs, mask=mask, other=0.0), mask=mask)


@triton.jit
def gru_forward_n(gi_ptr, ghn_ptr, hp_ptr, act_ptr, out_ptr, H, BLOCK: tl.constexpr):
    """n = tanh(gi_n + gh_n) with gh_n = (r·h_in) W_hnᵀ + b_hn (B, H)."""
    b = tl.program_id(0)
    offs = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < H
    z = tl.load(act_ptr + b * 3 * H + H + offs, mask=mask, other=0.0)
    n = _tanh(tl.load(gi_ptr + b * 3 * H + 2 * H + offs, mask=mask, other=0.0)
              + tl.load(ghn_ptr + b * H + offs, mask=mask, other=0.0))
    hp = tl.load(hp_ptr + b * H + offs, mask=mask, other=0.0)
    tl.store(act_ptr + b * 3 * H + 2 * H + offs, n, mask=mask)
    tl.store(out_ptr + b * H + offs, (1.0 - z) * n + z * hp, mask=mask)


@triton.jit
def gru_backward_zn(act_ptr, gh_ptr, hp_ptr, dht_ptr, dgi_ptr, dgh_ptr, dh_ptr, H,
                    AFTER: tl.constexpr, BLOCK: tl.constexpr):
    """From dh̃: da_n = dh̃(1 - z)(1 - n²), da_z = dh̃(h_{t-1} - n)z(1 - z), and the
    direct part of dL/dh_{t-1}, z·dh̃ (into dh). dgi = [., da_z, da_n].

    reset_after (gh (B, 3H)): also da_r = da_n·gh_n·r(1 - r), dgi_r = da_r and
    dgh = [da_r, da_z, da_n·r]. reset_before: dgh (B, 2H) gets da_z only; the
    caller forms d(rh) = da_n W_hn and ``gru_backward_r`` does r."""
    b = tl.program_id(0)
    offs = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < H
    base = b * 3 * H
    r = tl.load(act_ptr + base + offs, mask=mask, other=0.0)
    z = tl.load(act_ptr + base + H + offs, mask=mask, other=0.0)
    n = tl.load(act_ptr + base + 2 * H + offs, mask=mask, other=0.0)
    hp = tl.load(hp_ptr + b * H + offs, mask=mask, other=0.0)
    dht = tl.load(dht_ptr + b * H + offs, mask=mask, other=0.0)
    dan = dht * (1.0 - z) * (1.0 - n * n)
    daz = dht * (hp - n) * z * (1.0 - z)
    tl.store(dgi_ptr + base + H + offs, daz, mask=mask)
    tl.store(dgi_ptr + base + 2 * H + offs, dan, mask=mask)
    tl.store(dh_ptr + b * H + offs, dht * z, mask=mask)
    if AFTER:
        dar = dan * tl.load(gh_ptr + base + 2 * H + offs, mask=mask, other=0.0) * r * (1.0 - r)
        tl.store(dgi_ptr + base + offs, dar, mask=mask)
        tl.store(dgh_ptr + base + offs, dar, mask=mask)
        tl.store(dgh_ptr + base + H + offs, daz, mask=mask)
        tl.store(dgh_ptr + base + 2 * H + offs, dan * r, mask=mask)
    else:
        tl.store(dgh_ptr + b * 2 * H + H + offs, daz, mask=mask)


@triton.jit
def gru_backward_r(act_ptr, hin_ptr, drh_ptr, dgi_ptr, dgh_ptr, dhin_ptr, H, BLOCK: tl.constexpr):
    """reset_before: da_r = d(rh)·h_in·r(1 - r) into dgi_r and dgh_r (B, 2H);
    dhin = d(rh)·r, the part of dL/dh_in through rh."""
    b = tl.program_id(0)
    offs = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < H
    r = tl.load(act_ptr + b * 3 * H + offs, mask=mask, other=0.0)
    drh = tl.load(drh_ptr + b * H + offs, mask=mask, other=0.0)
    dar = drh * tl.load(hin_ptr + b * H + offs, mask=mask, other=0.0) * r * (1.0 - r)
    tl.store(dgi_ptr + b * 3 * H + offs, dar, mask=mask)
    tl.store(dgh_ptr + b * 2 * H + offs, dar, mask=mask)
    tl.store(dhin_ptr + b * H + offs, drh * r, mask=mask)


# ------------------------------------------------------------------------------- RNN
@triton.jit
def rnn_forward_step(a_ptr, out_ptr, H, RELU: tl.constexpr, BLOCK: tl.constexpr):
    """h̃ = act(a), a = x_t W_ihᵀ + b_ih + h_in W_hhᵀ + b_hh (B, H)."""
    b = tl.program_id(0)
    offs = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < H
    a = tl.load(a_ptr + b * H + offs, mask=mask, other=0.0)
    if RELU:
        h = tl.maximum(a, 0.0)
    else:
        h = _tanh(a)
    tl.store(out_ptr + b * H + offs, h, mask=mask)


@triton.jit
def rnn_backward_step(h_ptr, dht_ptr, da_ptr, H, RELU: tl.constexpr, BLOCK: tl.constexpr):
    """da = dh̃·act'(a): 1 - h̃² for tanh, [h̃ > 0] for relu."""
    b = tl.program_id(0)
    offs = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < H
    h = tl.load(h_ptr + b * H + offs, mask=mask, other=0.0)
    dht = tl.load(dht_ptr + b * H + offs, mask=mask, other=0.0)
    if RELU:
        da = tl.where(h > 0.0, dht, 0.0)
    else:
        da = dht * (1.0 - h * h)
    tl.store(da_ptr + b * H + offs, da, mask=mask)
