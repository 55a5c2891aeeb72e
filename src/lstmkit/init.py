"""Initialisations of the recurrent weights and biases.

- torch's default: every parameter from U(-1/√H, 1/√H) (``uniform_``), drawn
  in torch.nn's parameter order, so a seeded lstmkit module starts from the
  same weights as the torch.nn module.
- Forget-gate bias (Gers et al. 2000; Jozefowicz, Zaremba & Sutskever 2015):
  b_f = b (e.g. 1) so the cell remembers by default.
- Chrono initialisation (Tallec & Ollivier 2018): b_f = log(u), u ~ U(1, T_max - 1),
  and b_i = -b_f, so forget-gate time constants spread over [1, T_max].
- GRU chrono initialisation: the update gate z keeps the state
  (h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}), so b_z = log(u), u ~ U(1, T_max - 1).
- Orthogonal recurrent weights (Saxe et al. 2014), per gate block.

With two bias vectors (b_ih, b_hh), a set gate bias is put in b_ih and the
matching rows of b_hh are zeroed: their sum is what the gate sees.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


def uniform_(params: list[Tensor], hidden_size: int) -> None:
    """torch.nn's RNN initialisation: U(-1/√H, 1/√H) for every tensor, in order."""
    bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
    for p in params:
        nn.init.uniform_(p, -bound, bound)


def gate_rows(gate: str, hidden_size: int, coupled_gates: bool = False) -> slice:
    """The rows of gate ``gate`` in an LSTM weight or bias (i|f|g|o, or f|g|o with CIFG)."""
    order = "fgo" if coupled_gates else "ifgo"
    if gate not in order:
        raise ValueError(f"gate: expected one of {list(order)}, got {gate!r}")
    k = order.index(gate)
    return slice(k * hidden_size, (k + 1) * hidden_size)


@torch.no_grad()
def set_gate_bias_(
    b_ih: Tensor, b_hh: Tensor, gate: str, value: Tensor | float, hidden_size: int,
    coupled_gates: bool = False,
) -> None:
    """Make the total bias of one LSTM gate equal ``value``: b_ih[gate] = value, b_hh[gate] = 0."""
    rows = gate_rows(gate, hidden_size, coupled_gates)
    b_ih[rows] = value
    b_hh[rows] = 0.0


def forget_bias_(b_ih: Tensor, b_hh: Tensor, value: float, hidden_size: int,
                 coupled_gates: bool = False) -> None:
    """Forget-gate bias initialisation: b_f = value."""
    set_gate_bias_(b_ih, b_hh, "f", float(value), hidden_size, coupled_gates)


@torch.no_grad()
def chrono_(b_ih: Tensor, b_hh: Tensor, t_max: float, hidden_size: int,
            coupled_gates: bool = False) -> None:
    """Chrono initialisation: b_f = log(U(1, T_max - 1)), b_i = -b_f."""
    if not t_max > 2:
        raise ValueError(f"chrono_init: expected T_max > 2, got {t_max!r}")
    u = torch.empty(hidden_size, dtype=b_ih.dtype, device=b_ih.device).uniform_(1.0, t_max - 1.0)
    b_f = torch.log(u)
    set_gate_bias_(b_ih, b_hh, "f", b_f, hidden_size, coupled_gates)
    if not coupled_gates:
        set_gate_bias_(b_ih, b_hh, "i", -b_f, hidden_size, coupled_gates)


@torch.no_grad()
def chrono_gru_(b_ih: Tensor, b_hh: Tensor, t_max: float, hidden_size: int) -> None:
    """Chrono initialisation of a GRU (gates r|z|n): b_z = log(U(1, T_max - 1))."""
    if not t_max > 2:
        raise ValueError(f"chrono_init: expected T_max > 2, got {t_max!r}")
    u = torch.empty(hidden_size, dtype=b_ih.dtype, device=b_ih.device).uniform_(1.0, t_max - 1.0)
    rows = slice(hidden_size, 2 * hidden_size)
    b_ih[rows] = torch.log(u)
    b_hh[rows] = 0.0


@torch.no_grad()
def orthogonal_(w_hh: Tensor, num_gates: int) -> None:
    """Orthogonal initialisation of each (H, H_out) gate block of W_hh."""
    for block in w_hh.chunk(num_gates, dim=0):
        nn.init.orthogonal_(block)
