"""One layer and one direction through the fused C++ kernels (as custom operators).

``run_direction`` computes exactly the step of ``lstmkit.kernels.spec`` (the
same signature as the reference's) by calling the ``lstmkit::`` operators of
``ops``: their forward is the extension's forward and, when a gradient is
needed, their registered autograd formula is the extension's backward through
time. Masks are constants (no gradient); weight drop arrives pre-applied in
``params.w_hh``, so its gradient reaches the raw weight through ordinary
autograd. Because the operators have fake implementations, ``torch.compile``
and ``torch.export`` trace this function without graph breaks; eager calls on
plain tensors take ``ops.*_eager`` instead (the operators' own functions in an
``autograd.Function``, bitwise the same results without the dispatcher's
per-call argument handling).

Parameter order passed to C++: w_ih, w_hh, b_ih, b_hh, w_hr, w_ch,
ln_gates_weight, ln_gates_bias, ln_cell_weight, ln_cell_bias; masks: recurrent,
zoneout_c, zoneout_h. Cell kinds for GRU / RNN: 0 GRU reset-after,
1 GRU reset-before, 2 RNN tanh, 3 RNN relu.
"""

from __future__ import annotations

import torch
from torch import Tensor

from lstmkit.kernels.cpu import ops
from lstmkit.kernels.cpu.ops import ext
from lstmkit.kernels.spec import CellSpec, DirParams, DirResult, StepMasks

__all__ = ["run_direction", "ext", "kind_of", "param_list", "mask_list"]


def kind_of(cell: CellSpec) -> int:
    """The GRU / RNN kind code of the C++ side (``CellSpec.kind``)."""
    return cell.kind


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
    m_rec, z_c, z_h = mask_list(masks)
    lens = None if lengths is None else lengths.to(device="cpu", dtype=torch.long).contiguous()
    inputs = [x, h0, *(t for t in plist if t is not None)]
    if cell.mode == "LSTM":
        c0 = x.new_zeros(h0.shape[0], cell.hidden_size) if c0 is None else c0.contiguous()
        inputs.append(c0)
    keep = torch.is_grad_enabled() and any(t.requires_grad for t in inputs)  # backward will run
    # plain eager tensors skip the dispatcher's per-call cost; traced calls keep the operators
    eager = type(x) is Tensor and not torch.compiler.is_compiling()
    if cell.mode == "LSTM":
        forward = ops.lstm_forward_eager if eager else ops.lstm_forward
        y, h_n, c_n = forward(x, h0, c0, *plist, m_rec, z_c, z_h, lens, reverse, cell.coupled_gates, keep)[:3]
        return DirResult(y=y, h_n=h_n, c_n=c_n)
    forward = ops.gru_rnn_forward_eager if eager else ops.gru_rnn_forward
    y, h_n = forward(x, h0, *plist[:4], m_rec, z_h, lens, reverse, kind_of(cell), keep)[:2]
    return DirResult(y=y, h_n=h_n, c_n=None)
