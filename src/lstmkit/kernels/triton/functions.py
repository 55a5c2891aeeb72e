"""One layer and one direction on the GPU: cuBLAS GEMMs + fused Triton pointwise steps.

Forward, per step t (in the direction's order):

    a_t  += h_in W_hhᵀ              one GEMM into the precomputed x_t W_ihᵀ + b
    gates = pointwise(a_t, c_{t-1})  one Triton launch (``pointwise.py``)
    h̃    = h̃ W_hrᵀ                  one GEMM, with projection only
    h_t, y_t = mix(h̃, h_{t-1})       one Triton launch: zoneout and lengths

Backward walks the steps in reverse with the derivative of each launch and
one GEMM per step for dL/dh_{t-1} = dA_t W_hh (times the recurrent-dropout
mask); the weight gradients are then single GEMMs over all steps, as in the
``cpu`` backend. Everything between the GEMMs is computed in float32 (float64
for float64 tensors); half and bfloat16 layers are cast up on entry and the
results cast back, so accumulation is always at least float32.

The autograd functions are ``once_differentiable``: they have a first
derivative (the backward above), not a second.
"""

from __future__ import annotations

import torch
import triton
from torch import Tensor
from torch.autograd.function import once_differentiable

from lstmkit.kernels.spec import CellSpec, DirParams, DirResult, StepMasks
from lstmkit.kernels.triton import pointwise as pw

_MAX_BLOCK = 256  # hidden units per program without layer norm


def _compute_dtype(x: Tensor) -> torch.dtype:
    return torch.float64 if x.dtype == torch.float64 else torch.float32


def _grid(batch: int, width: int, whole_row: bool) -> tuple[tuple[int, int], int]:
    """(grid, BLOCK): one program per row and block of units; the whole row with LN."""
    block = triton.next_power_of_2(max(width, 1))
    if whole_row:
        return (batch, 1), block
    block = min(block, _MAX_BLOCK)
    return (batch, triton.cdiv(width, block)), block


def _order(steps: int, reverse: bool) -> list[int]:
    return list(range(steps - 1, -1, -1)) if reverse else list(range(steps))


def _previous(seq: Tensor, first: Tensor, reverse: bool) -> Tensor:
    """(T, B, N): the state each step starts from (``first`` at the direction's first step)."""
    if reverse:
        return torch.cat([seq[1:], first.unsqueeze(0)], 0)
    return torch.cat([first.unsqueeze(0), seq[:-1]], 0)


def _step_mask(z: Tensor | None, t: int) -> Tensor | None:
    """Step t of a (T, B, n) zoneout mask (evaluation: one constant step, stride 0 in T)."""
    if z is None:
        return None
    return z[t if z.shape[0] > 1 and z.stride(0) != 0 else 0].contiguous()


def _bias_sum(b_ih: Tensor | None, b_hh: Tensor | None) -> Tensor | None:
    """b_ih + b_hh, folded into the input projection (either may be absent)."""
    if b_ih is None or b_hh is None:
        return b_ih if b_hh is None else b_hh
    return b_ih + b_hh


def _or(t: Tensor | None, dummy: Tensor) -> Tensor:
    """An absent optional buffer as a harmless pointer (its kernel flag is off)."""
    return dummy if t is None else t


def _mm_out(a: Tensor, b: Tensor, out: Tensor) -> Tensor:
    torch.mm(a, b, out=out)
    return out


def _weight_grads(dA: Tensor, x: Tensor, w_ih: Tensor, hin: Tensor | None, need_dx: bool
                  ) -> tuple[Tensor | None, Tensor, Tensor | None, Tensor]:
    """dx = dA W_ih, dW_ih = Σ dAᵀ x, dW_hh = Σ dAᵀ h_in (when hin is given), db = Σ dA:
    one GEMM each over all steps."""
    steps, batch, width = dA.shape
    flat = dA.reshape(steps * batch, width)
    dx = (flat @ w_ih).reshape(steps, batch, -1) if need_dx else None
    dw_ih = flat.t() @ x.reshape(steps * batch, -1)
    dw_hh = None if hin is None else flat.t() @ hin.reshape(steps * batch, -1)
    return dx, dw_ih, dw_hh, flat.sum(0)


def _cast_back(grads: list[Tensor | None], like: list[Tensor | None]) -> list[Tensor | None]:
    return [None if g is None or ref is None else g.to(ref.dtype) for g, ref in zip(grads, like)]


def _mix_forward(new: Tensor, prev: Tensor, z: Tensor | None, lens: Tensor | None, t: int,
                 out: Tensor, y: Tensor, dummy: Tensor) -> None:
    batch, width = new.shape
    grid, block = _grid(batch, width, False)
    pw.mix_forward_step[grid](new, prev, _or(z, dummy), _or(lens, dummy), t, width, out, y,
                              Z=z is not None, LENS=lens is not None, BLOCK=block)


def _mix_backward(dh: Tensor, dy: Tensor | None, z: Tensor | None, lens: Tensor | None, t: int,
                  dnew: Tensor, carry: Tensor, dummy: Tensor) -> None:
    batch, width = dh.shape
    grid, block = _grid(batch, width, False)
    pw.mix_backward_step[grid](dh, _or(dy, dummy), _or(z, dummy), _or(lens, dummy), t, width, dnew, carry,
                               DY=dy is not None, Z=z is not None, LENS=lens is not None, BLOCK=block)


# ---------------------------------------------------------------------------- LSTM
class LSTMDirection(torch.autograd.Function):
    """One LSTM layer and direction; inputs as ``DirParams`` and ``StepMasks`` name them."""

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, w_ch, gw, gb, cw, cb,
                m_rec, z_c, z_h, lens, reverse, coupled):
        dt = _compute_dtype(x)
        inputs = [x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, w_ch, gw, gb, cw, cb]
        ctx.like = [t if t is None else t.detach() for t in inputs]
        x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, w_ch, gw, gb, cw, cb = (
            None if t is None else t.detach().to(dt).contiguous() for t in inputs)
        m_rec, z_c, z_h = (None if t is None else t.to(dt) for t in (m_rec, z_c, z_h))
        steps, batch = x.shape[0], x.shape[1]
        G = 3 if coupled else 4
        width = w_ih.shape[0]
        H, HO = width // G, w_hh.shape[1]
        ln, proj, peep = gw is not None, w_hr is not None, w_ch is not None
        new = lambda *shape: x.new_empty(shape)  # noqa: E731
        dummy = x.new_zeros(1)
        A = torch.nn.functional.linear(x, w_ih, _bias_sum(b_ih, b_hh)).contiguous()  # (T, B, G·H)
        ACT, CT, TC, CST = new(steps, batch, width), new(steps, batch, H), new(steps, batch, H), new(steps, batch, H)
        HT, HST, Y = new(steps, batch, H), new(steps, batch, HO), new(steps, batch, HO)
        HP = new(steps, batch, HO) if proj else None
        AHAT, GRSTD = (new(steps, batch, width), new(steps, batch, G)) if ln else (None, None)
        CHAT, CRSTD = (new(steps, batch, H), new(steps, batch)) if ln else (None, None)
        grid, block = _grid(batch, H, ln)
        order = _order(steps, reverse)
        hp, cp = h0, c0
        for t in order:
            hin = hp if m_rec is None else hp * m_rec
            A[t].addmm_(hin, w_hh.t())
            pw.lstm_forward_step[grid](
                A[t], ACT[t], AHAT[t] if ln else dummy, GRSTD[t] if ln else dummy, cp, CT[t], TC[t],
                CHAT[t] if ln else dummy, CRSTD[t] if ln else dummy, CST[t], HT[t],
                _or(w_ch, dummy), _or(gw, dummy), _or(gb, dummy), _or(cw, dummy), _or(cb, dummy),
                _or(_step_mask(z_c, t), dummy), _or(lens, dummy), t, H,
                G=G, PEEP=peep, LN=ln, ZC=z_c is not None, LENS=lens is not None, BLOCK=block)
            h_new = _mm_out(HT[t], w_hr.t(), HP[t]) if proj else HT[t]
            _mix_forward(h_new, hp, _step_mask(z_h, t), lens, t, HST[t], Y[t], dummy)
            hp, cp = HST[t], CST[t]
        ctx.reverse, ctx.coupled = reverse, coupled
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, w_hr, w_ch, gw, cw, m_rec, z_c, z_h, lens,
                              ACT, CT, TC, CST, HT, HST, AHAT, GRSTD, CHAT, CRSTD)
        out_dtype = ctx.like[0].dtype
        ctx.mark_non_differentiable(ACT, CST, HST)
        return (Y.to(out_dtype), hp.to(out_dtype).clone(), cp.to(out_dtype).clone(), ACT, CST, HST)

    @staticmethod
    @once_differentiable
    def backward(ctx, gy, ghn, gcn, _g_act, _g_cst, _g_hst):
        (x, h0, c0, w_ih, w_hh, w_hr, w_ch, gw, cw, m_rec, z_c, z_h, lens,
         ACT, CT, TC, CST, HT, HST, AHAT, GRSTD, CHAT, CRSTD) = ctx.saved_tensors
        dt = x.dtype
        steps, batch = x.shape[0], x.shape[1]
        G = 3 if ctx.coupled else 4
        width = w_ih.shape[0]
        H, HO = width // G, w_hh.shape[1]
        ln, proj, peep = gw is not None, w_hr is not None, w_ch is not None
        dummy = x.new_zeros(1)
        gy = None if gy is None else gy.to(dt).contiguous()
        dh = x.new_zeros(batch, HO) if ghn is None else ghn.to(dt).clone()
        dc = x.new_zeros(batch, H) if gcn is None else gcn.to(dt).clone()
        ndc, carry, dht = x.new_empty(batch, H), x.new_empty(batch, HO), x.new_empty(batch, H)
        DGATE = x.new_empty(steps, batch, width)
        DA = x.new_empty(steps, batch, width) if ln else DGATE
        DCN = x.new_empty(steps, batch, H) if ln else None
        DHP = x.new_empty(steps, batch, HO) if proj else None
        cprev = _previous(CST, c0, ctx.reverse)
        grid, block = _grid(batch, H, ln)
        for t in reversed(_order(steps, ctx.reverse)):
            _mix_backward(dh, None if gy is None else gy[t], _step_mask(z_h, t), lens, t,
                          DHP[t] if proj else dht, carry, dummy)
            if proj:
                torch.mm(DHP[t], w_hr, out=dht)
            pw.lstm_backward_step[grid](
                ACT[t], CT[t], TC[t], cprev[t], CHAT[t] if ln else dummy, CRSTD[t] if ln else dummy,
                AHAT[t] if ln else dummy, GRSTD[t] if ln else dummy, dht, dc, _or(_step_mask(z_c, t), dummy),
                _or(w_ch, dummy), _or(gw, dummy), _or(cw, dummy), _or(lens, dummy), t, H,
                DGATE[t], DA[t], DCN[t] if ln else dummy, ndc,
                G=G, PEEP=peep, LN=ln, ZC=z_c is not None, LENS=lens is not None, BLOCK=block)
            ndh = DA[t] @ w_hh
            if m_rec is not None:
                ndh *= m_rec
            dh = carry + ndh
            dc, ndc = ndc, dc
        hin = _previous(HST, h0, ctx.reverse)
        if m_rec is not None:
            hin = hin * m_rec
        dx, dw_ih, dw_hh, db = _weight_grads(DA, x, w_ih, hin, ctx.needs_input_grad[0])
        dw_hr = DHP.reshape(-1, HO).t() @ HT.reshape(-1, H) if proj else None
        dw_ch = None
        if peep:
            gate = lambda k: DGATE[..., k * H:(k + 1) * H]  # noqa: E731
            d_i = (gate(0) * cprev).sum((0, 1)) if G == 4 else torch.zeros_like(w_ch[0])
            dw_ch = torch.stack([d_i, (gate(G - 3) * cprev).sum((0, 1)), (gate(G - 1) * CT).sum((0, 1))])
        dgw = dgb = dcw = dcb = None
        if ln:
            dgw, dgb = (DGATE * AHAT).sum((0, 1)), DGATE.sum((0, 1))
            dcw, dcb = (DCN * CHAT).sum((0, 1)), DCN.sum((0, 1))
        like = ctx.like
        grads = [dx, dh, dc, dw_ih, dw_hh, db if like[5] is not None else None,
                 db if like[6] is not None else None, dw_hr, dw_ch, dgw, dgb, dcw, dcb]
        return (*_cast_back(grads, like), None, None, None, None, None, None)


# ----------------------------------------------------------------------- GRU and RNN
class GRURNNDirection(torch.autograd.Function):
    """One GRU (either reset convention) or RNN (tanh / relu) layer and direction.

    kind: 0 GRU reset-after, 1 GRU reset-before, 2 RNN tanh, 3 RNN relu."""

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, m_rec, z_h, lens, reverse, kind):
        dt = _compute_dtype(x)
        inputs = [x, h0, w_ih, w_hh, b_ih, b_hh]
        ctx.like = [t if t is None else t.detach() for t in inputs]
        x, h0, w_ih, w_hh, b_ih, b_hh = (None if t is None else t.detach().to(dt).contiguous() for t in inputs)
        m_rec, z_h = (None if t is None else t.to(dt) for t in (m_rec, z_h))
        steps, batch = x.shape[0], x.shape[1]
        H = w_hh.shape[1]
        gru = kind < 2
        new = lambda *shape: x.new_empty(shape)  # noqa: E731
        dummy = x.new_zeros(1)
        grid, block = _grid(batch, H, False)
        if gru:
            GI = torch.nn.functional.linear(x, w_ih, b_ih).contiguous()  # (T, B, 3H)
        else:
            GI = torch.nn.functional.linear(x, w_ih, _bias_sum(b_ih, b_hh)).contiguous()  # (T, B, H)
        ACT = new(steps, batch, 3 * H) if gru else None
        GH = new(steps, batch, 3 * H if kind == 0 else 2 * H) if gru else None
        RH = new(steps, batch, H) if kind == 1 else None
        GHN = new(steps, batch, H) if kind == 1 else None
        HT, HST, Y = new(steps, batch, H), new(steps, batch, H), new(steps, batch, H)
        hp = h0
        for t in _order(steps, reverse):
            hin = hp if m_rec is None else hp * m_rec
            if kind == 0:
                torch.mm(hin, w_hh.t(), out=GH[t])
                if b_hh is not None:
                    GH[t] += b_hh
                pw.gru_forward_after[grid](GI[t], GH[t], hp, ACT[t], HT[t], H, BLOCK=block)
            elif kind == 1:
                torch.mm(hin, w_hh[: 2 * H].t(), out=GH[t])
                if b_hh is not None:
                    GH[t] += b_hh[: 2 * H]
                hin = hin.contiguous()
                pw.gru_forward_rz[grid](GI[t], GH[t], hin, ACT[t], RH[t], H, BLOCK=block)
                torch.mm(RH[t], w_hh[2 * H:].t(), out=GHN[t])
                if b_hh is not None:
                    GHN[t] += b_hh[2 * H:]
                pw.gru_forward_n[grid](GI[t], GHN[t], hp, ACT[t], HT[t], H, BLOCK=block)
            else:
                GI[t].addmm_(hin, w_hh.t())
                pw.rnn_forward_step[grid](GI[t], HT[t], H, RELU=kind == 3, BLOCK=block)
            _mix_forward(HT[t], hp, _step_mask(z_h, t), lens, t, HST[t], Y[t], dummy)
            hp = HST[t]
        ctx.reverse, ctx.kind = reverse, kind
        ctx.save_for_backward(x, h0, w_ih, w_hh, m_rec, z_h, lens, ACT, GH, RH, HT, HST)
        out_dtype = ctx.like[0].dtype
        gates = ACT if gru else HT
        ctx.mark_non_differentiable(gates, HST)
        return Y.to(out_dtype), hp.to(out_dtype).clone(), gates, HST

    @staticmethod
    @once_differentiable
    def backward(ctx, gy, ghn, _g_gates, _g_hst):
        x, h0, w_ih, w_hh, m_rec, z_h, lens, ACT, GH, RH, HT, HST = ctx.saved_tensors
        kind, dt = ctx.kind, x.dtype
        steps, batch = x.shape[0], x.shape[1]
        H = w_hh.shape[1]
        gru = kind < 2
        dummy = x.new_zeros(1)
        grid, block = _grid(batch, H, False)
        gy = None if gy is None else gy.to(dt).contiguous()
        dh = x.new_zeros(batch, H) if ghn is None else ghn.to(dt).clone()
        carry, dht, dhd = x.new_empty(batch, H), x.new_empty(batch, H), x.new_empty(batch, H)
        DGI = x.new_empty(steps, batch, 3 * H if gru else H)
        DGH = x.new_empty(steps, batch, GH.shape[2]) if gru else DGI
        drh, dhin = x.new_empty(batch, H), x.new_empty(batch, H)
        hprev = _previous(HST, h0, ctx.reverse)
        hin_seq = hprev if m_rec is None else hprev * m_rec
        for t in reversed(_order(steps, ctx.reverse)):
            _mix_backward(dh, None if gy is None else gy[t], _step_mask(z_h, t), lens, t, dht, carry, dummy)
            if kind == 0:
                pw.gru_backward_zn[grid](ACT[t], GH[t], hprev[t], dht, DGI[t], DGH[t], dhd, H,
                                         AFTER=True, BLOCK=block)
                ndh = DGH[t] @ w_hh
            elif kind == 1:
                pw.gru_backward_zn[grid](ACT[t], dummy, hprev[t], dht, DGI[t], DGH[t], dhd, H,
                                         AFTER=False, BLOCK=block)
                torch.mm(DGI[t][:, 2 * H:], w_hh[2 * H:], out=drh)
                pw.gru_backward_r[grid](ACT[t], hin_seq[t], drh, DGI[t], DGH[t], dhin, H, BLOCK=block)
                ndh = DGH[t] @ w_hh[: 2 * H] + dhin
            else:
                pw.rnn_backward_step[grid](HT[t], dht, DGI[t], H, RELU=kind == 3, BLOCK=block)
                ndh = DGI[t] @ w_hh
            if m_rec is not None:
                ndh *= m_rec
            dh = carry + ndh + dhd if gru else carry + ndh
        dx, dw_ih, _, db_ih = _weight_grads(DGI, x, w_ih, None, ctx.needs_input_grad[0])
        flat_gh = DGH.reshape(steps * batch, -1)
        dw_hh, db_hh = flat_gh.t() @ hin_seq.reshape(steps * batch, H), flat_gh.sum(0)
        if kind == 1:  # W_hn and b_hn saw r·h_in, with gradient da_n
            dan = DGI[..., 2 * H:].reshape(steps * batch, H)
            dw_hh = torch.cat([dw_hh, dan.t() @ RH.reshape(steps * batch, H)], 0)
            db_hh = torch.cat([db_hh, dan.sum(0)], 0)
        like = ctx.like
        grads = [dx, dh, dw_ih, dw_hh, db_ih if like[4] is not None else None,
                 db_hh if like[5] is not None else None]
        return (*_cast_back(grads, like), None, None, None, None, None)


# ---------------------------------------------------------------------- entry point
def _gate_trace(cell: CellSpec, act: Tensor, cst: Tensor | None, hst: Tensor, dtype: torch.dtype
                ) -> dict[str, Tensor]:
    """The reference backend's gate trace from the saved activations."""
    H = cell.hidden_size
    if cell.mode == "LSTM":
        blocks = act.split(H, dim=2)
        f, g, o = blocks[-3:]
        i = 1.0 - f if cell.coupled_gates else blocks[0]
        trace = {"i": i, "f": f, "g": g, "o": o, "c": cst}
    elif cell.mode == "GRU":
        r, z, n = act.split(H, dim=2)
        trace = {"r": r, "z": z, "n": n}
    else:
        trace = {}
    trace["h"] = hst
    return {k: v.to(dtype) for k, v in trace.items()}


def run_direction(
    x: Tensor,
    h0: Tensor,
    c0: Tensor | None,
    params: DirParams,
    cell: CellSpec,
    lengths: Tensor | None,
    reverse: bool,
    masks: StepMasks,
    return_gates: bool,
) -> DirResult:
    """One layer, one direction (see ``lstmkit.kernels.spec``). x (T, B, I)."""
    lens = None if lengths is None else lengths.to(device=x.device, dtype=torch.long).contiguous()
    p = params
    if cell.mode == "LSTM":
        c0 = x.new_zeros(h0.shape[0], cell.hidden_size) if c0 is None else c0
        y, h_n, c_n, act, cst, hst = LSTMDirection.apply(
            x, h0, c0, p.w_ih, p.w_hh, p.b_ih, p.b_hh, p.w_hr, p.w_ch, p.ln_gates_weight, p.ln_gates_bias,
            p.ln_cell_weight, p.ln_cell_bias, masks.recurrent, masks.zoneout_c, masks.zoneout_h, lens,
            reverse, cell.coupled_gates)
    else:
        y, h_n, act, hst = GRURNNDirection.apply(x, h0, p.w_ih, p.w_hh, p.b_ih, p.b_hh, masks.recurrent,
                                                  masks.zoneout_h, lens, reverse, cell.kind)
        c_n, cst = None, None
    gates = _gate_trace(cell, act, cst, hst, x.dtype) if return_gates else None
    return DirResult(y=y, h_n=h_n, c_n=c_n, gates=gates)
