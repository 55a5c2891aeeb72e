r"""SLSTM and MLSTM layers (Beck et al. 2024, xLSTM): stacked sLSTM / mLSTM cells.

The equations are in ``lstmkit.cells.slstm`` and ``lstmkit.cells.mlstm``;
inputs, states, ``lengths`` and ``return_gates`` as ``lstmkit.LSTM`` (see
``lstmkit.layers._stack``). These are the recurrent layers alone, not the xLSTM
blocks (no up-projection, causal convolution, group norm or residual MLP):
put them in a block of your own, as the paper does, if you want one.

- ``SLSTM`` state ``(h, c, n, m)``, each (num_layers, N, H); traced gates
  ``i, f`` (stabilised), ``z, o`` and the states ``c, n, m``.
- ``MLSTM`` state ``(C, n, m)``: (num_layers, N, K, D, D), (num_layers, N, K, D),
  (num_layers, N, K); ``mode`` "chunkwise" (default), "parallel" or "recurrent"
  give the same numbers; traced gates ``i, f`` (stabilised, per head), ``o``, ``m``.

>>> import torch, lstmkit
>>> s = lstmkit.SLSTM(10, 16, num_layers=2, num_heads=4, batch_first=True)
>>> y, (h, c, n, m) = s(torch.randn(3, 5, 10), lengths=[5, 2, 4])
>>> tuple(y.shape), tuple(h.shape)
((3, 5, 16), (2, 3, 16))
>>> ml = lstmkit.MLSTM(10, 16, num_heads=2, mode="chunkwise", chunk_size=4)
>>> y, (C, n, m) = ml(torch.randn(9, 3, 10))
>>> tuple(y.shape), tuple(C.shape)
((9, 3, 16), (1, 3, 2, 8, 8))
"""

from __future__ import annotations

from typing import Any

from lstmkit.cells.mlstm import MODES as MLSTM_MODES
from lstmkit.cells.mlstm import MLSTMCell
from lstmkit.cells.slstm import SLSTMCell
from lstmkit.layers._stack import FamilyStack, set_mode


class SLSTM(FamilyStack):
    r"""Stacked sLSTM: exponential input gate, stabiliser m, normaliser n and a
    head-wise block-diagonal recurrence; ``h_t = σ(õ) ⊙ c_t / n_t``.
    Parameters per layer: ``cells.{k}.weight_ih`` (4·H, in), ``cells.{k}.weight_hh``
    (4, num_heads, D, D), ``cells.{k}.bias_ih`` (4·H)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, device: Any = None,
                 dtype: Any = None, *, num_heads: int = 1, forget_gate: str = "sigmoid") -> None:
        super().__init__(
            lambda i: SLSTMCell(i, hidden_size, bias, device, dtype, num_heads=num_heads,
                                forget_gate=forget_gate),
            input_size, hidden_size, num_layers, batch_first, dropout)
        self.num_heads, self.forget_gate = num_heads, forget_gate


class MLSTM(FamilyStack):
    r"""Stacked mLSTM: per head a D × D matrix memory ``C_t = f'_t C_{t-1} + i'_t v_t k_tᵀ``
    read by the query, ``h_t = σ(W_o x_t + b_o) ⊙ C_t q_t / max(|n_tᵀ q_t|, e^{-m_t})``.
    Parameters per layer: ``cells.{k}.weight_ih`` (4·H + 2·num_heads, in), rows
    q|k|v|o|i|f, ``cells.{k}.bias_ih``."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, device: Any = None,
                 dtype: Any = None, *, num_heads: int = 1, forget_gate: str = "sigmoid",
                 mode: str = "chunkwise", chunk_size: int = 64, eps: float = 1e-6) -> None:
        super().__init__(
            lambda i: MLSTMCell(i, hidden_size, bias, device, dtype, num_heads=num_heads,
                                forget_gate=forget_gate, mode=mode, chunk_size=chunk_size, eps=eps),
            input_size, hidden_size, num_layers, batch_first, dropout)
        self.num_heads, self.forget_gate = num_heads, forget_gate

    @property
    def chunk_size(self) -> int:
        return self.cells[0].chunk_size

    @property
    def mode(self) -> str:
        """The form every layer's cell runs; setting it switches them all (checked)."""
        return self.cells[0].mode

    @mode.setter
    def mode(self, value: str) -> None:
        set_mode(self, value, MLSTM_MODES)
