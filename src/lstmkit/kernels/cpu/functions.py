"""One layer and one direction through the fused C++ kernels, with autograd.

``run_direction`` computes exactly the step of ``lstmkit.kernels.spec`` (the
same signature as the reference's) by calling the extension's forward; when a
gradient is needed it goes through a ``torch.autograd.Function`` whose backward
is the extension's backward through time. Masks are constants (no gradient);
weight drop arrives pre-applied in ``params.w_hh``, so its gradient reaches the
raw weight through ordinary autograd.

Parameter order passed to C++: w_ih, w_hh, b_ih, b_hh, w_hr, w_ch,
ln_gates_weight, ln_gates_bias, ln_cell_weight, ln_cell_bias; masks: recurrent,
zoneout_c, zoneout_h. Cell kinds for GRU / RNN: 0 GRU reset-after,
1 GRU reset-before, 2 RNN tanh, 3 RNN relu.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from lstmkit.kernels.cpu import _loader
from lstmkit.kernels.spec import CellSpec, DirParams, DirResult, StepMasks

_LSTM_HST = 4  # index of the state sequence in the LSTM's saved list (None without lengths)
_GRU_HST = 1  # the same in the GRU / RNN saved list


def ext() -> Any:
    module = _loader.load()
    if module is None:
        raise RuntimeError(f"lstmkit 'cpu' backend unavailable: {_loader.reason()}")
    return module


def kind_of(cell: CellSpec) -> int:
    """The GRU / RNN kind code of the C++ side."""
    if cell.mode == "GRU":
        return 0 if cell.reset_after else 1
    return 2 if cell.mode == "RNN_TANH" else 3


def _c(t: Tensor | None) -> Tensor | None:
    return None if t is None else t.contiguous()


def param_list(p: DirParams) -> list[Tensor | None]:
    return [
        _c(p.w_ih), _c(p.w_hh), _c(p.b_ih), _c(p.b_hh), _c(p.w_hr), _c(p.w_ch),
        _c(p.ln_gates_weight), _c(p.ln_gates_bias), _c(p.ln_cell_weight), _c(p.ln_cell_bias),
    ]  # fmt: skip


def _step_mask(z: Tensor | None) -> Tensor | None:
    """A (T, B, n) zoneout mask; one constant over time (stride 0 along T, as
    evaluation builds it) is passed as its (1, B, n) first step."""
    if z is None:
        return None
    if z.shape[0] > 1 and z.stride(0) == 0:
        return z[:1].contiguous()
    return z.contiguous()


def mask_list(m: StepMasks) -> list[Tensor | None]:
    return [_c(m.recurrent), _step_mask(m.zoneout_c), _step_mask(m.zoneout_h)]


class LSTMDirection(torch.autograd.Function):
    """(x, h0, c0, *params) -> (y, h_n, c_n) with the fused backward."""

    @staticmethod
    def forward(ctx: Any, opts: tuple, x: Tensor, h0: Tensor, c0: Tensor, *params: Tensor | None):
        masks, lengths, reverse, coupled = opts
        y, h_n, c_n, *saved = ext().lstm_forward(
            x, h0, c0, list(params), masks, lengths, reverse, coupled, True
        )  # fmt: skip
        ctx.set_materialize_grads(False)
        ctx.opts = opts
        ctx.saved = saved  # internal buffers (never outputs)
        ctx.save_for_backward(x, h0, c0, y, *params)
        return y, h_n, c_n

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, gy: Tensor | None, ghn: Tensor | None, gcn: Tensor | None):
        masks, lengths, reverse, coupled = ctx.opts
        x, h0, c0, y, *params = ctx.saved_tensors
        saved = list(ctx.saved)
        if saved[_LSTM_HST] is None:
            saved[_LSTM_HST] = y
        dx, dh0, dc0, *dparams = ext().lstm_backward(
            _c(gy), _c(ghn), _c(gcn), x, h0, c0, params, masks, lengths, reverse, coupled, saved,
            ctx.needs_input_grad[1],
        )  # fmt: skip
        return (None, dx, dh0, dc0, *dparams)


class GRURNNDirection(torch.autograd.Function):
    """(x, h0, *params) -> (y, h_n) for the GRU and the RNN, with the fused backward."""

    @staticmethod
    def forward(ctx: Any, opts: tuple, x: Tensor, h0: Tensor, *params: Tensor | None):
        masks, lengths, reverse, kind = opts
        y, h_n, *saved = ext().gru_rnn_forward(x, h0, list(params), masks, lengths, reverse, kind)
        ctx.set_materialize_grads(False)
        ctx.opts = opts
        ctx.saved = saved
        ctx.save_for_backward(x, h0, y, *params)
        return y, h_n

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, gy: Tensor | None, ghn: Tensor | None):
        masks, lengths, reverse, kind = ctx.opts
        x, h0, y, *params = ctx.saved_tensors
        saved = list(ctx.saved)
        if saved[_GRU_HST] is None:
            saved[_GRU_HST] = y
        dx, dh0, *dparams = ext().gru_rnn_backward(
            _c(gy), _c(ghn), x, h0, params, masks, lengths, reverse, kind, saved, ctx.needs_input_grad[1]
        )
        return (None, dx, dh0, *dparams, *([None] * (len(params) - len(dparams))))


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
    if return_gates:
        raise ValueError("return_gates: the 'cpu' backend does not trace gates; use backend='reference'")
    x, h0 = x.contiguous(), h0.contiguous()
    plist = param_list(params)
    mlist = mask_list(masks)
    lens = None if lengths is None else lengths.to(device="cpu", dtype=torch.long).contiguous()
    inputs = [x, h0, *(t for t in plist if t is not None)]
    if cell.mode == "LSTM":
        c0 = x.new_zeros(h0.shape[0], cell.hidden_size) if c0 is None else c0.contiguous()
        inputs.append(c0)
    grad = torch.is_grad_enabled() and any(t.requires_grad for t in inputs)
    if cell.mode == "LSTM":
        if grad:
            y, h_n, c_n = LSTMDirection.apply((mlist, lens, reverse, cell.coupled_gates), x, h0, c0, *plist)
        else:
            y, h_n, c_n = ext().lstm_forward(x, h0, c0, plist, mlist, lens, reverse, cell.coupled_gates, False)
        return DirResult(y=y, h_n=h_n, c_n=c_n)
    kind = kind_of(cell)
    if grad:
        y, h_n = GRURNNDirection.apply((mlist, lens, reverse, kind), x, h0, *plist)
    else:
        y, h_n = ext().gru_rnn_forward(x, h0, plist, mlist, lens, reverse, kind)[:2]
    return DirResult(y=y, h_n=h_n, c_n=None)
