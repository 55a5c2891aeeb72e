"""One step of each cell as a pure function: the executable specification.

``gi`` is the input projection of the step, ``x_t W_ihᵀ + b_ih`` (B, G·H),
computed by the caller (for a whole sequence at once, by the reference
backend). Each function returns the candidate state ``h̃`` (and ``c̃``) before
zoneout and length masking, plus the gate activations for inspection. The
equations are in ``lstmkit.kernels.spec``; the notation is the same here.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from lstmkit.kernels.spec import LN_EPS, CellSpec, DirParams


def _layer_norm_gates(a: Tensor, spec: CellSpec, p: DirParams) -> Tensor:
    """LN over H inside each gate block: (B, G·H) -> (B, G, H) -> normalise -> (B, G·H)."""
    batch, width = a.shape
    g = spec.num_gates
    a = F.layer_norm(a.reshape(batch, g, width // g), (width // g,), eps=LN_EPS)  # (B, G, H)
    return a.reshape(batch, width) * p.ln_gates_weight + p.ln_gates_bias


def recurrent_input(h: Tensor, m_rec: Tensor | None) -> Tensor:
    """h_{t-1} as the recurrent product sees it: with the recurrent-dropout mask."""
    return h if m_rec is None else h * m_rec


def lstm_step(
    gi: Tensor, h: Tensor, c: Tensor, p: DirParams, spec: CellSpec, m_rec: Tensor | None = None
) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
    """LSTM candidate step -> (h̃ (B, H_out), c̃ (B, H), gates i, f, g, o)."""
    a = gi + F.linear(recurrent_input(h, m_rec), p.w_hh, p.b_hh)  # (B, G·H)
    if spec.layer_norm:
        a = _layer_norm_gates(a, spec, p)
    if spec.coupled_gates:
        a_f, a_g, a_o = a.chunk(3, dim=1)
        a_i = None
    else:
        a_i, a_f, a_g, a_o = a.chunk(4, dim=1)
    if spec.peephole:
        w_ci, w_cf, w_co = p.w_ch.unbind(0)
        a_f = a_f + w_cf * c
        if a_i is not None:
            a_i = a_i + w_ci * c
    f = torch.sigmoid(a_f)
    i = 1.0 - f if a_i is None else torch.sigmoid(a_i)
    g = torch.tanh(a_g)
    c_new = f * c + i * g
    if spec.peephole:
        a_o = a_o + w_co * c_new
    o = torch.sigmoid(a_o)
    c_out = c_new
    if spec.layer_norm:
        c_out = F.layer_norm(c_new, (c_new.shape[1],), p.ln_cell_weight, p.ln_cell_bias, LN_EPS)
    h_new = o * torch.tanh(c_out)
    if p.w_hr is not None:
        h_new = F.linear(h_new, p.w_hr)  # (B, H) -> (B, H_out)
    return h_new, c_new, {"i": i, "f": f, "g": g, "o": o}


def gru_step(
    gi: Tensor, h: Tensor, p: DirParams, spec: CellSpec, m_rec: Tensor | None = None
) -> tuple[Tensor, dict[str, Tensor]]:
    """GRU candidate step (both reset conventions) -> (h̃ (B, H), gates r, z, n)."""
    hidden = spec.hidden_size
    h_in = recurrent_input(h, m_rec)
    gi_r, gi_z, gi_n = gi.chunk(3, dim=1)
    if spec.reset_after:
        gh_r, gh_z, gh_n = F.linear(h_in, p.w_hh, p.b_hh).chunk(3, dim=1)
        r = torch.sigmoid(gi_r + gh_r)
        z = torch.sigmoid(gi_z + gh_z)
        n = torch.tanh(gi_n + r * gh_n)
    else:
        b_rz = None if p.b_hh is None else p.b_hh[: 2 * hidden]
        b_n = None if p.b_hh is None else p.b_hh[2 * hidden :]
        gh_r, gh_z = F.linear(h_in, p.w_hh[: 2 * hidden], b_rz).chunk(2, dim=1)
        r = torch.sigmoid(gi_r + gh_r)
        z = torch.sigmoid(gi_z + gh_z)
        n = torch.tanh(gi_n + F.linear(r * h_in, p.w_hh[2 * hidden :], b_n))
    h_new = (1.0 - z) * n + z * h
    return h_new, {"r": r, "z": z, "n": n}


def rnn_step(
    gi: Tensor, h: Tensor, p: DirParams, spec: CellSpec, m_rec: Tensor | None = None
) -> tuple[Tensor, dict[str, Tensor]]:
    """Vanilla RNN step (Elman): h̃ = act(gi + h W_hhᵀ + b_hh), act = tanh or relu."""
    a = gi + F.linear(recurrent_input(h, m_rec), p.w_hh, p.b_hh)
    return (torch.tanh(a) if spec.mode == "RNN_TANH" else torch.relu(a)), {}


def zoneout(prev: Tensor, new: Tensor, z: Tensor | None) -> Tensor:
    """z * prev + (1 - z) * new (Krueger et al. 2016); ``new`` when z is None."""
    return new if z is None else z * prev + (1.0 - z) * new
