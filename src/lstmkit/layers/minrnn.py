r"""MinGRU and MinLSTM layers (Feng et al. 2024): the parallel-scan RNNs.

Equations and the two forms (log-space scan, step loop): ``lstmkit.cells.minrnn``.
Inputs, states, ``lengths`` and ``return_gates`` as ``lstmkit.LSTM`` (see
``lstmkit.layers._stack``); the state is ``h`` (num_layers, N, H).
``mode="scan"`` runs the scan over the whole sequence, ``"loop"`` the steps one
by one; ``"auto"`` (default) takes the loop on the CPU, where one thread ran it
as fast as the scan or faster (forward and backward, T = 16 ... 4096) and more
precisely in float32 (benchmarks/min_scan.py), and the scan on other devices,
the parallel hardware it is made for. All give the same numbers, and a state
from either continues in the other.

>>> import torch, lstmkit
>>> m = lstmkit.MinGRU(10, 20, num_layers=2, batch_first=True)
>>> y, h = m(torch.randn(3, 5, 10), lengths=[5, 2, 4])
>>> tuple(y.shape), tuple(h.shape), bool((y[1, 2:] == 0).all())
((3, 5, 20), (2, 3, 20), True)
>>> y2, _ = lstmkit.MinLSTM(10, 20)(torch.randn(7, 3, 10))
>>> tuple(y2.shape)
(7, 3, 20)
"""

from __future__ import annotations

from typing import Any

from lstmkit.cells.minrnn import MODES, MinGRUCell, MinLSTMCell
from lstmkit.layers._stack import FamilyStack, set_mode


class _MinStack(FamilyStack):
    """A stack of one min-RNN cell type (``CELL``), with the layers' shared arguments."""

    CELL: type

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, device: Any = None,
                 dtype: Any = None, *, mode: str = "auto", forget_bias: float = 0.0) -> None:
        super().__init__(lambda i: self.CELL(i, hidden_size, bias, device, dtype, mode=mode,
                                             forget_bias=forget_bias),
                         input_size, hidden_size, num_layers, batch_first, dropout)

    @property
    def mode(self) -> str:
        """The form every layer's cell runs; setting it switches them all (checked)."""
        return self.cells[0].mode

    @mode.setter
    def mode(self, value: str) -> None:
        set_mode(self, value, MODES)


class MinGRU(_MinStack):
    r"""Stacked minGRU: ``z_t = σ(W_iz x_t + b_iz)``, ``h̃_t = g(W_ih x_t + b_ih)``,
    ``h_t = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t``. Gates traced: ``z``, ``h_tilde``.
    Parameters per layer: ``cells.{k}.weight_ih`` (2·H, in), ``cells.{k}.bias_ih``.
    ``forget_bias=b`` starts the kept fraction 1 - z at σ(b) (b_z = -b), for long lags."""

    CELL = MinGRUCell


class MinLSTM(_MinStack):
    r"""Stacked minLSTM: ``f'_t, i'_t`` = σ-gates of x_t normalised to sum to one,
    ``h_t = f'_t ⊙ h_{t-1} + i'_t ⊙ g(W_ih x_t + b_ih)``. Gates traced: ``f``, ``i``
    (normalised), ``h_tilde``. Parameters per layer: ``cells.{k}.weight_ih``
    (3·H, in), rows f|i|h, ``cells.{k}.bias_ih``. ``forget_bias=b`` sets b_f = b,
    b_i = -b, so f' starts at σ(b), for long lags."""

    CELL = MinLSTMCell
