r"""mLSTM (Beck et al. 2024, "xLSTM"), one layer: a matrix memory per head.

Per head (K heads of D = H / K units), with scalar input and forget gates and
the key scaled by 1/√D; notation as ``lstmkit.kernels.spec``. The rows of
``weight_ih`` are q|k|v|o (H each), then i|f (K each)::

    q_t = W_q x_t + b_q,  k_t = (W_k x_t + b_k) / √D,  v_t = W_v x_t + b_v     (D per head)
    ĩ_t = w_i x_t + b_i,  f̃_t = w_f x_t + b_f                               (1 per head)
    log f_t = log σ(f̃_t)   (forget_gate="sigmoid")   or   f̃_t   ("exp")
    m_t = max(log f_t + m_{t-1}, ĩ_t)
    i'_t = exp(ĩ_t - m_t),   f'_t = exp(log f_t + m_{t-1} - m_t)
    C_t = f'_t C_{t-1} + i'_t v_t k_tᵀ                                       (D × D)
    n_t = f'_t n_{t-1} + i'_t k_t                                            (D)
    h̃_t = C_t q_t / (max(|n_tᵀ q_t|, exp(-m_t)) + eps)
    h_t = σ(W_o x_t + b_o) * h̃_t

The stored C, n are the paper's times ``exp(-m_t)``, so ``max(|nᵀq|, exp(-m))``
is the paper's ``max(|nᵀq|, 1)`` rescaled (exact for eps = 0). State:
``(C (B, K, D, D), n (B, K, D), m (B, K))``, zero by default.

Three forms compute the same h and final state (``tests/cells/test_xlstm.py``):

- **recurrent**: the step above, one t at a time (``mlstm_step``);
- **parallel** (quadratic in T), with ``F_t = Σ_{r≤t} log f_r`` and
  ``log D_ts = F_t - F_s + ĩ_s`` for s ≤ t: ``m_t = max(m_0 + F_t, max_s log D_ts)``
  (the recurrent m unrolled), ``h̃_t = (Σ_s e^{log D_ts - m_t} (q_tᵀk_s) v_s
  + e^{m_0 + F_t - m_t} C_0 q_t) / (max(|Σ_s e^{log D_ts - m_t} q_tᵀk_s
  + e^{m_0 + F_t - m_t} n_0ᵀq_t|, e^{-m_t}) + eps)`` (``mlstm_parallel``);
- **chunkwise**: the parallel form inside chunks of ``chunk_size`` steps, the
  state carried between chunks (memory O(T·chunk) instead of O(T²)).

>>> import torch, lstmkit
>>> cell = lstmkit.MLSTMCell(3, 8, num_heads=2)
>>> h, (C, n, m) = cell(torch.randn(5, 3))
>>> tuple(h.shape), tuple(C.shape), tuple(n.shape), tuple(m.shape)
((5, 8), (5, 2, 4, 4), (5, 2, 4), (5, 2))
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from lstmkit import init as rinit
from lstmkit.cells._family import FamilyCell, Gates, StateT, step_mask
from lstmkit.cells.slstm import check_heads
from lstmkit.checks import positive_int

MODES = ("parallel", "chunkwise", "recurrent")


def _log_f(a_f: Tensor, forget_gate: str) -> Tensor:
    return F.logsigmoid(a_f) if forget_gate == "sigmoid" else a_f


def mlstm_step(q: Tensor, k: Tensor, v: Tensor, a_i: Tensor, log_f: Tensor, state: StateT,
               eps: float) -> tuple[Tensor, StateT, Tensor, Tensor]:
    """One recurrent step. q, k (scaled), v (B, K, D); a_i, log_f (B, K).

    -> (h̃ (B, K, D), (C, n, m), i', f')."""
    c, n, m = state
    m_new = torch.maximum(log_f + m, a_i)
    i = torch.exp(a_i - m_new)
    f = torch.exp(log_f + m - m_new)
    c_new = f[..., None, None] * c + i[..., None, None] * (v.unsqueeze(-1) * k.unsqueeze(-2))
    n_new = f[..., None] * n + i[..., None] * k
    num = torch.einsum("bked,bkd->bke", c_new, q)
    den = torch.maximum((n_new * q).sum(-1).abs(), torch.exp(-m_new)) + eps
    return num / den[..., None], (c_new, n_new, m_new), i, f


def mlstm_parallel(q: Tensor, k: Tensor, v: Tensor, a_i: Tensor, log_f: Tensor, state: StateT,
                   eps: float, lengths: Tensor | None = None) -> tuple[Tensor, StateT, Tensor]:
    """The parallel form over T steps. q, k (scaled), v (B, K, T, D); a_i, log_f (B, K, T);
    state (C_0, n_0, m_0); ``lengths`` (B,) in [0, T] (default T): the final state is
    taken after each sequence's last valid step.

    -> (h̃ (B, K, T, D), (C, n, m) final, m_t (B, K, T))."""
    c0, n0, m0 = state
    steps = q.shape[2]
    cum = torch.cumsum(log_f, dim=-1)  # F_t
    causal = torch.ones(steps, steps, dtype=torch.bool, device=q.device).tril()
    log_d = torch.where(causal, cum[..., :, None] - cum[..., None, :] + a_i[..., None, :],
                        torch.tensor(float("-inf"), dtype=q.dtype, device=q.device))
    log_d0 = cum + m0[..., None]  # the initial state's decay, (B, K, T)
    m = torch.maximum(log_d0, log_d.max(dim=-1).values)  # (B, K, T)
    dm = torch.exp(log_d - m[..., None])
    d0 = torch.exp(log_d0 - m)
    s = (q @ k.transpose(-1, -2)) * dm  # (B, K, T, T)
    num = s @ v + d0[..., None] * torch.einsum("bked,bktd->bkte", c0, q)
    den = s.sum(-1) + d0 * torch.einsum("bkd,bktd->bkt", n0, q)
    h = num / (torch.maximum(den.abs(), torch.exp(-m)) + eps)[..., None]
    # the final state: decays from each step s < L to L (L = lengths[b], or T)
    cum0 = F.pad(cum, (1, 0))  # F_0 = 0, F_1, ..., F_T
    if lengths is None:
        last = cum0[..., -1]
        valid = None
    else:
        idx = lengths.to(q.device).view(-1, 1, 1).expand(*cum0.shape[:2], 1)
        last = cum0.gather(-1, idx).squeeze(-1)  # F_L, (B, K)
        valid = torch.arange(steps, device=q.device) < lengths.to(q.device).view(-1, 1, 1)
    w = a_i + last[..., None] - cum  # (B, K, T)
    if valid is not None:
        w = torch.where(valid, w, torch.tensor(float("-inf"), dtype=q.dtype, device=q.device))
    m_last = torch.maximum(m0 + last, w.max(dim=-1).values)
    e = torch.exp(w - m_last[..., None])  # (B, K, T)
    e0 = torch.exp(m0 + last - m_last)
    c_last = e0[..., None, None] * c0 + torch.einsum("bkt,bkte,bktd->bked", e, v, k)
    n_last = e0[..., None] * n0 + torch.einsum("bkt,bktd->bkd", e, k)
    return h, (c_last, n_last, m_last), m


class MLSTMCell(FamilyCell):
    """One mLSTM layer (see the module docstring); ``forward(x_t, (C, n, m)) -> (h_t, state)``.

    ``mode`` ("chunkwise", the default, "parallel", "recurrent") picks the form
    ``sequence`` uses; all agree. "parallel" holds T × T weights per head (memory
    grows as T²); "chunkwise" holds T × chunk_size. Parameters: ``weight_ih`` (4·H + 2·K, I), ``bias_ih``. The
    forget-gate biases start spread over [3, 6] (long memory first).
    """

    state_names = ("C", "n", "m")

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None, *, num_heads: int = 1, forget_gate: str = "sigmoid",
                 mode: str = "chunkwise", chunk_size: int = 64, eps: float = 1e-6) -> None:
        super().__init__(input_size, hidden_size)
        head_size = check_heads(hidden_size, num_heads, forget_gate)
        self.num_heads = num_heads
        if mode not in MODES:
            raise ValueError(f"mode: expected one of {list(MODES)}, got {mode!r}")
        if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not 0 <= eps < 1:
            raise ValueError(f"eps: expected a float in [0, 1), got {eps!r}")
        self.forget_gate, self.mode, self.eps = forget_gate, mode, float(eps)
        self.chunk_size = positive_int("chunk_size", chunk_size)
        self.head_size = head_size
        factory = {"device": device, "dtype": dtype}
        self._input_projection(4 * hidden_size + 2 * num_heads, bias, factory)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        rinit.uniform_(list(self.parameters()), self.hidden_size)
        if self.bias_ih is not None:
            with torch.no_grad():
                start = 4 * self.hidden_size + self.num_heads
                self.bias_ih[start:] = torch.linspace(3.0, 6.0, self.num_heads)

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, num_heads={self.num_heads}, "
                f"mode={self.mode!r}, forget_gate={self.forget_gate!r}")

    def state_shapes(self) -> tuple[tuple[int, ...], ...]:
        k, d = self.num_heads, self.head_size
        return ((k, d, d), (k, d), (k,))

    def split(self, gi: Tensor) -> tuple[Tensor, ...]:
        """Pre-activations (..., 4·H + 2·K) -> q, k (scaled), v (..., K, D), ĩ, log f (..., K), o (..., H)."""
        h, heads, d = self.hidden_size, self.num_heads, self.head_size
        q, k, v, o = (gi[..., j * h : (j + 1) * h].unflatten(-1, (heads, d)) for j in range(4))
        a_i = gi[..., 4 * h : 4 * h + heads]
        log_f = _log_f(gi[..., 4 * h + heads :], self.forget_gate)
        return q, k / math.sqrt(d), v, a_i, log_f, torch.sigmoid(o.flatten(-2))

    def step(self, gi: Tensor, state: StateT) -> tuple[Tensor, StateT, Gates]:
        q, k, v, a_i, log_f, o = self.split(gi)
        h_tilde, new, i, f = mlstm_step(q, k, v, a_i, log_f, state, self.eps)
        return o * h_tilde.flatten(-2), new, {"i": i, "f": f, "o": o, "m": new[2]}

    def sequence(self, x: Tensor, state: StateT | None = None, lengths: Tensor | None = None,
                 return_gates: bool = False) -> tuple[Tensor, StateT, Gates | None]:
        if self.mode == "recurrent":
            return self.loop(x, state, lengths, return_gates)
        steps, batch = x.shape[0], x.shape[1]
        st = self.zero_state(batch) if state is None else state
        q, k, v, a_i, log_f, o = self.split(self.project(x))  # (T, B, K, D) / (T, B, K)
        to_bktd = lambda t: t.permute(1, 2, 0, 3)  # noqa: E731
        to_bkt = lambda t: t.permute(1, 2, 0)  # noqa: E731
        size = steps if self.mode == "parallel" else self.chunk_size
        outs, ms = [], []
        for start in range(0, steps, size):
            sl = slice(start, start + size)
            n_steps = min(size, steps - start)
            lens = None if lengths is None else (lengths.to(x.device) - start).clamp(0, n_steps)
            h, st, m = mlstm_parallel(to_bktd(q[sl]), to_bktd(k[sl]), to_bktd(v[sl]),
                                      to_bkt(a_i[sl]), to_bkt(log_f[sl]), st, self.eps, lens)
            outs.append(h.permute(2, 0, 1, 3))  # (T_c, B, K, D)
            ms.append(m.permute(2, 0, 1))
        y = o * torch.cat(outs).flatten(-2)
        gates = None
        if return_gates:
            m_seq = torch.cat(ms)  # (T, B, K)
            m_prev = torch.cat([(state[2] if state is not None else torch.zeros_like(m_seq[0]))[None],
                                m_seq[:-1]])
            gates = {"i": torch.exp(a_i - m_seq), "f": torch.exp(log_f + m_prev - m_seq), "o": o,
                     "m": m_seq}
        mask = step_mask(lengths, steps, x.device)
        if mask is not None:
            y = y * mask.unsqueeze(-1).to(y.dtype)
            if gates is not None:
                gates = {n: t * mask.view(*mask.shape, *([1] * (t.dim() - 2))).to(t.dtype)
                         for n, t in gates.items()}
        return y, st, gates
