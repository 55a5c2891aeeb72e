r"""sLSTM (Beck et al. 2024, "xLSTM: Extended Long Short-Term Memory"), one layer.

Exponential input gate, sigmoid or exponential forget gate, a normaliser state
n and a stabiliser state m, and a recurrence that is block-diagonal over heads
(each head of D = H / num_heads units sees only its own part of h_{t-1}).
Notation as ``lstmkit.kernels.spec``; ``R_·`` is block-diagonal, stored as
``weight_hh[gate, head]`` (D × D), gates i|f|z|o on dim 0::

    a       = x_t W_ihᵀ + b_ih + R h_{t-1}                gates ĩ|f̃|z̃|õ   (B, 4·H)
    log f   = log σ(f̃)   (forget_gate="sigmoid")   or   f̃   ("exp")
    m_t     = max(log f + m_{t-1}, ĩ)         (m_t = ĩ where n_{t-1} = 0: an empty state)
    i'      = exp(ĩ - m_t),   f' = exp(log f + m_{t-1} - m_t)      (both <= 1)
    c_t     = f' * c_{t-1} + i' * tanh(z̃)
    n_t     = f' * n_{t-1} + i'
    h_t     = σ(õ) * c_t / n_t

The stored c, n are the paper's ``c, n`` times ``exp(-m_t)``: the same h for any
stabiliser, without overflow (exp(ĩ) would overflow for ĩ > 88 in float32).
State: ``(h, c, n, m)``, each (B, H); the zero state is empty (n = 0).

>>> import torch, lstmkit
>>> cell = lstmkit.SLSTMCell(3, 8, num_heads=2)
>>> h, (h_, c, n, m) = cell(torch.randn(5, 3))
>>> tuple(h.shape), bool((n > 0).all())
((5, 8), True)
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit import init as rinit
from lstmkit.cells._family import FamilyCell, Gates, StateT
from lstmkit.checks import positive_int

FORGET_GATES = ("sigmoid", "exp")


def check_heads(hidden_size: int, num_heads: int, forget_gate: str) -> int:
    """The checks sLSTM and mLSTM share: ``num_heads`` divides ``hidden_size`` and the
    forget gate is one of :data:`FORGET_GATES`; returns the head size ``hidden_size // num_heads``."""
    positive_int("num_heads", num_heads)
    if hidden_size % num_heads:
        raise ValueError(f"num_heads: expected a divisor of hidden_size ({hidden_size}), got {num_heads}")
    if forget_gate not in FORGET_GATES:
        raise ValueError(f"forget_gate: expected one of {list(FORGET_GATES)}, got {forget_gate!r}")
    return hidden_size // num_heads


def headwise(h: Tensor, weight_hh: Tensor) -> Tensor:
    """R h for a block-diagonal R: ``h`` (B, H), ``weight_hh`` (G, K, D, D) -> (B, G·H).

    Output unit e of gate g in head k is ``Σ_d weight_hh[g, k, e, d] h[k·D + d]``.
    """
    gates, heads, dim, _ = weight_hh.shape
    r = torch.einsum("bkd,gked->bgke", h.reshape(h.shape[0], heads, dim), weight_hh)
    return r.reshape(h.shape[0], gates * heads * dim)


def slstm_step(a: Tensor, state: StateT, forget_gate: str = "sigmoid"
               ) -> tuple[Tensor, StateT, Gates]:
    """One sLSTM step from the full pre-activations ``a`` (B, 4·H) -> (h, (h, c, n, m), gates)."""
    _, c, n, m = state
    a_i, a_f, a_z, a_o = a.chunk(4, dim=-1)
    log_f = F.logsigmoid(a_f) if forget_gate == "sigmoid" else a_f
    m_new = torch.where(n == 0, a_i, torch.maximum(log_f + m, a_i))
    i = torch.exp(a_i - m_new)
    f = torch.exp(log_f + m - m_new)
    z, o = torch.tanh(a_z), torch.sigmoid(a_o)
    c_new = f * c + i * z
    n_new = f * n + i
    h_new = o * c_new / n_new
    return h_new, (h_new, c_new, n_new, m_new), {"i": i, "f": f, "z": z, "o": o, "c": c_new,
                                                 "n": n_new, "m": m_new}


class SLSTMCell(FamilyCell):
    """One sLSTM layer (see the module docstring); ``forward(x_t, (h, c, n, m)) -> (h_t, state)``.

    Parameters: ``weight_ih`` (4·H, I) rows i|f|z|o, ``weight_hh`` (4, K, D, D) the
    head blocks of R, ``bias_ih`` (4·H). Initialisation: U(-1/√H, 1/√H), then the
    forget-gate bias spread evenly over [3, 6] so that the cell starts by remembering.
    """

    state_names = ("h", "c", "n", "m")

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None, *, num_heads: int = 1, forget_gate: str = "sigmoid") -> None:
        super().__init__(input_size, hidden_size)
        self.head_size = check_heads(hidden_size, num_heads, forget_gate)
        self.num_heads = num_heads
        self.forget_gate = forget_gate
        factory = {"device": device, "dtype": dtype}
        self._input_projection(4 * hidden_size, bias, factory)
        self.weight_hh = nn.Parameter(torch.empty(4, num_heads, self.head_size, self.head_size,
                                                  **factory))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        rinit.uniform_(list(self.parameters()), self.hidden_size)
        if self.bias_ih is not None:
            with torch.no_grad():
                h = self.hidden_size
                self.bias_ih[h : 2 * h] = torch.linspace(3.0, 6.0, h)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}, num_heads={self.num_heads}"
        return s + ("" if self.forget_gate == "sigmoid" else f", forget_gate={self.forget_gate!r}")

    def state_shapes(self) -> tuple[tuple[int, ...], ...]:
        return ((self.hidden_size,),) * 4

    def step(self, gi: Tensor, state: StateT) -> tuple[Tensor, StateT, Gates]:
        a = gi + headwise(state[0], self.weight_hh)
        return slstm_step(a, state, self.forget_gate)
