"""One-step cells: LSTMCell, GRUCell, RNNCell, drop-ins for torch.nn's cells.

A cell is one step ``(x_t, state) -> state``; it stores no state between calls
(the caller passes it back). Parameter names follow torch.nn's cells
(``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``) plus ``weight_hr``
(projection), ``weight_ch`` (peephole) and ``ln_gate_*`` / ``ln_cell_*``
(layer norm). The step equations are those of ``lstmkit.kernels.spec``.

Sequence-level options (recurrent dropout, weight drop) belong to the layers,
which hold a mask for a whole sequence; a cell takes the recurrent-dropout
mask explicitly: ``cell(x, state, recurrent_mask=cell.recurrent_mask(batch))``
with the same mask passed at every step of a sequence.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit import init as rinit
from lstmkit.cells.functional import gru_step, lstm_step, rnn_step, zoneout
from lstmkit.checks import (
    check_shape,
    check_tensor,
    positive_int,
    probability,
    zoneout_rates,
)
from lstmkit.kernels.spec import CellSpec, DirParams


def add_gate_parameters(module: nn.Module, ih_shape: tuple[int, ...], hh_shape: tuple[int, ...],
                        bias: bool, factory: dict[str, Any]) -> None:
    """Registers ``weight_ih`` (``ih_shape``), ``weight_hh`` (``hh_shape``) and, with ``bias``,
    ``bias_ih`` / ``bias_hh`` of size ``ih_shape[0]`` (the stacked gates), else those two as
    ``None``: torch.nn's names and order, shared by the dense and the convolutional cells."""
    module.weight_ih = nn.Parameter(torch.empty(ih_shape, **factory))
    module.weight_hh = nn.Parameter(torch.empty(hh_shape, **factory))
    if bias:
        module.bias_ih = nn.Parameter(torch.empty(ih_shape[0], **factory))
        module.bias_hh = nn.Parameter(torch.empty(ih_shape[0], **factory))
    else:
        module.register_parameter("bias_ih", None)
        module.register_parameter("bias_hh", None)


class CellBase(nn.Module):
    """Shared parameters, checks and zoneout of the one-step cells."""

    def __init__(self, spec: CellSpec, input_size: int, device: Any = None, dtype: Any = None, *,
                 zoneout: float | tuple[float, float] = 0.0, recurrent_dropout: float = 0.0) -> None:
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.spec = spec
        self.input_size = positive_int("input_size", input_size)
        self.hidden_size = positive_int("hidden_size", spec.hidden_size)
        self.bias = spec.bias
        zc, zh = zoneout_rates(zoneout)
        self.zoneout_c, self.zoneout_h = (zc if spec.has_cell else 0.0), zh
        self.recurrent_dropout = probability("recurrent_dropout", recurrent_dropout)
        gates, out = spec.num_gates * spec.hidden_size, spec.out_size
        add_gate_parameters(self, (gates, input_size), (gates, out), spec.bias, factory)
        if spec.proj_size > 0:
            self.weight_hr = nn.Parameter(torch.empty(out, spec.hidden_size, **factory))
        if spec.peephole:
            self.weight_ch = nn.Parameter(torch.empty(3, spec.hidden_size, **factory))
        if spec.layer_norm:
            self.ln_gate_weight = nn.Parameter(torch.ones(gates, **factory))
            self.ln_gate_bias = nn.Parameter(torch.zeros(gates, **factory))
            self.ln_cell_weight = nn.Parameter(torch.ones(spec.hidden_size, **factory))
            self.ln_cell_bias = nn.Parameter(torch.zeros(spec.hidden_size, **factory))

    def reset_parameters(self) -> None:
        """torch's U(-1/√H, 1/√H) for every parameter; LN gains 1 and biases 0."""
        rinit.uniform_(list(self.parameters()), self.hidden_size)
        if self.spec.layer_norm:
            with torch.no_grad():
                self.ln_gate_weight.fill_(1.0), self.ln_cell_weight.fill_(1.0)
                self.ln_gate_bias.zero_(), self.ln_cell_bias.zero_()

    def params(self) -> DirParams:
        g = lambda name: getattr(self, name, None)  # noqa: E731
        return DirParams(
            w_ih=self.weight_ih, w_hh=self.weight_hh, b_ih=self.bias_ih, b_hh=self.bias_hh,
            w_hr=g("weight_hr"), w_ch=g("weight_ch"), ln_gates_weight=g("ln_gate_weight"),
            ln_gates_bias=g("ln_gate_bias"), ln_cell_weight=g("ln_cell_weight"),
            ln_cell_bias=g("ln_cell_bias"),
        )

    def recurrent_mask(self, batch: int) -> Tensor | None:
        """A recurrent-dropout mask (B, H_out) for one sequence, or None (eval or p = 0)."""
        if not (self.training and self.recurrent_dropout > 0):
            return None
        keep = 1.0 - self.recurrent_dropout
        w = self.weight_hh
        return torch.empty(batch, self.spec.out_size, dtype=w.dtype, device=w.device).bernoulli_(keep) / keep

    def _zone(self, prev: Tensor, new: Tensor, rate: float) -> Tensor:
        if rate == 0:
            return new
        z = torch.full_like(new, rate)
        if self.training:
            z = z.bernoulli_(rate)  # P(z = 1) = rate: keep the previous value
        return zoneout(prev, new, z)

    def _check_input(self, x: object) -> tuple[Tensor, bool]:
        w = self.weight_ih
        x = check_tensor("input", x, w.dtype, w.device)
        if x.dim() not in (1, 2):
            raise ValueError(f"input: expected a 2-D (batched) or 1-D (unbatched) tensor, got {x.dim()}-D")
        if x.shape[-1] != self.input_size:
            raise ValueError(f"input: expected last dimension input_size={self.input_size}, got {x.shape[-1]}")
        batched = x.dim() == 2
        return (x if batched else x.unsqueeze(0)), batched

    def _check_state(self, name: str, t: object, width: int, batch: int, batched: bool) -> Tensor:
        w = self.weight_ih
        t = check_tensor(name, t, w.dtype, w.device)
        check_shape(name, t, (batch, width) if batched else (width,))
        return t if batched else t.unsqueeze(0)

    def _check_mask(self, mask: Tensor | None, batch: int) -> Tensor | None:
        if mask is not None:
            w = self.weight_ih
            check_shape("recurrent_mask", check_tensor("recurrent_mask", mask, w.dtype, w.device),
                        (batch, self.spec.out_size))
        return mask

    def _input_projection(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight_ih, self.bias_ih)  # (B, I) -> (B, G·H)


class LSTMCell(CellBase):
    """One LSTM step, a drop-in for ``torch.nn.LSTMCell``; options as ``lstmkit.LSTM``.

    ``forward(input (B, I) or (I,), hx=(h (B, H_out), c (B, H)) or None,
    recurrent_mask=None) -> (h_t, c_t)``. Equations: ``lstmkit.kernels.spec``.

    >>> import torch, lstmkit
    >>> cell = lstmkit.LSTMCell(10, 20, peephole=True)
    >>> h, c = cell(torch.randn(3, 10))
    >>> tuple(h.shape), tuple(c.shape)
    ((3, 20), (3, 20))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None, *, proj_size: int = 0, peephole: bool = False,
                 coupled_gates: bool = False, layer_norm: bool = False, forget_bias: float = 0.0,
                 chrono_init: float | None = None, zoneout: float | tuple[float, float] = 0.0,
                 recurrent_dropout: float = 0.0) -> None:
        positive_int("hidden_size", hidden_size)
        if not 0 <= positive_int("proj_size", proj_size, 0) < hidden_size:
            raise ValueError(f"proj_size: expected 0 <= proj_size < hidden_size ({hidden_size}), got {proj_size}")
        if (forget_bias or chrono_init is not None) and not bias:
            raise ValueError("forget_bias / chrono_init: need bias=True (they set gate biases)")
        spec = CellSpec("LSTM", hidden_size, proj_size, bool(bias), bool(peephole),
                        bool(coupled_gates), bool(layer_norm))
        super().__init__(spec, input_size, device, dtype, zoneout=zoneout,
                         recurrent_dropout=recurrent_dropout)
        self.proj_size = proj_size
        self.forget_bias, self.chrono_init = float(forget_bias), chrono_init
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        if self.bias and self.chrono_init is not None:
            rinit.chrono_(self.bias_ih, self.bias_hh, self.chrono_init, self.hidden_size,
                          self.spec.coupled_gates)
        elif self.bias and self.forget_bias:
            rinit.forget_bias_(self.bias_ih, self.bias_hh, self.forget_bias, self.hidden_size,
                               self.spec.coupled_gates)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None,
                recurrent_mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        x, batched = self._check_input(input)
        batch = x.shape[0]
        if hx is None:
            h = x.new_zeros(batch, self.spec.out_size)
            c = x.new_zeros(batch, self.hidden_size)
        else:
            if not (isinstance(hx, (tuple, list)) and len(hx) == 2):
                raise TypeError(f"hx: expected a tuple (h, c), got {type(hx).__name__}")
            h = self._check_state("hx[0] (h)", hx[0], self.spec.out_size, batch, batched)
            c = self._check_state("hx[1] (c)", hx[1], self.hidden_size, batch, batched)
        mask = self._check_mask(recurrent_mask, batch)
        h_new, c_new, _ = lstm_step(self._input_projection(x), h, c, self.params(), self.spec, mask)
        c_new = self._zone(c, c_new, self.zoneout_c)
        h_new = self._zone(h, h_new, self.zoneout_h)
        return (h_new, c_new) if batched else (h_new.squeeze(0), c_new.squeeze(0))


class _SingleStateCell(CellBase):
    def forward(self, input: Tensor, hx: Tensor | None = None,
                recurrent_mask: Tensor | None = None) -> Tensor:
        x, batched = self._check_input(input)
        batch = x.shape[0]
        h = x.new_zeros(batch, self.hidden_size) if hx is None else self._check_state(
            "hx", hx, self.hidden_size, batch, batched)
        mask = self._check_mask(recurrent_mask, batch)
        step = gru_step if self.spec.mode == "GRU" else rnn_step
        h_new, _ = step(self._input_projection(x), h, self.params(), self.spec, mask)
        h_new = self._zone(h, h_new, self.zoneout_h)
        return h_new if batched else h_new.squeeze(0)


class GRUCell(_SingleStateCell):
    """One GRU step, a drop-in for ``torch.nn.GRUCell``; ``reset_after`` as ``lstmkit.GRU``.

    >>> import torch, lstmkit
    >>> tuple(lstmkit.GRUCell(4, 8, reset_after=False)(torch.randn(2, 4)).shape)
    (2, 8)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None, *, reset_after: bool = True, zoneout: float = 0.0,
                 recurrent_dropout: float = 0.0) -> None:
        spec = CellSpec("GRU", positive_int("hidden_size", hidden_size), bias=bool(bias),
                        reset_after=bool(reset_after))
        super().__init__(spec, input_size, device, dtype, zoneout=zoneout,
                         recurrent_dropout=recurrent_dropout)
        self.reset_parameters()


class RNNCell(_SingleStateCell):
    """One Elman RNN step, a drop-in for ``torch.nn.RNNCell`` (tanh or relu).

    >>> import torch, lstmkit
    >>> tuple(lstmkit.RNNCell(4, 8, nonlinearity="relu")(torch.randn(4)).shape)
    (8,)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device: Any = None, dtype: Any = None, *,
                 zoneout: float = 0.0, recurrent_dropout: float = 0.0) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity: expected 'tanh' or 'relu', got {nonlinearity!r}")
        spec = CellSpec(f"RNN_{nonlinearity.upper()}", positive_int("hidden_size", hidden_size),
                        bias=bool(bias))
        super().__init__(spec, input_size, device, dtype, zoneout=zoneout,
                         recurrent_dropout=recurrent_dropout)
        self.nonlinearity = nonlinearity
        self.reset_parameters()
