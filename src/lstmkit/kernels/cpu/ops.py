"""The fused kernels as PyTorch custom operators (``torch.library``).

Four operators in the ``lstmkit`` namespace wrap the extension's entry points:

    lstmkit::lstm_forward(x, h0, c0, w_ih, w_hh, b_ih?, b_hh?, w_hr?, w_ch?,
        ln_gates_weight?, ln_gates_bias?, ln_cell_weight?, ln_cell_bias?,
        m_rec?, z_c?, z_h?, lengths?, reverse, coupled, keep) -> Tensor[]
    lstmkit::lstm_backward(...)                                -> Tensor[]
    lstmkit::gru_rnn_forward(x, h0, w_ih, w_hh, b_ih?, b_hh?, m_rec?, z_h?,
        lengths?, reverse, kind, keep) -> Tensor[]
    lstmkit::gru_rnn_backward(...)                             -> Tensor[]

Each has a fake (meta) implementation that gives the output shapes from the
input shapes alone, so ``torch.compile`` and ``torch.export`` trace through them
without running C++ and without graph breaks; the forward operators carry an
autograd formula (``register_autograd``) whose backward is the backward
operator. Random masks are drawn outside (``kernels/stack.py``) and arrive as
inputs, so the operators are pure functions of their arguments. Eager calls
use ``lstm_forward_eager`` / ``gru_rnn_forward_eager``: the same forward,
setup and backward functions in an ``autograd.Function``, which skips the
dispatcher's per-call argument handling (see ``_eager``).

Outputs are lists of tensors: the forward gives ``[y, h_n, c_n]`` (LSTM) or
``[y, h_n]`` (GRU / RNN), followed, when ``keep`` (backward will run), by the
buffers the backward reads. A buffer the configuration does not use is an
empty tensor (an operator cannot return None); ``*_layout`` says which are used
and their shapes. The backward gives ``dx`` (empty unless asked for), the state
gradients and one gradient per weight (empty for an absent weight).

Shapes: x (T, B, I); h0 (B, H_out); c0 (B, H); weights as in ``DirParams``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from lstmkit.kernels.cpu import _loader

_LIB = torch.library.Library("lstmkit", "DEF")  # noqa: TOR901 (the operators' namespace)
_LSTM_W = ("Tensor w_ih, Tensor w_hh, Tensor? b_ih, Tensor? b_hh, Tensor? w_hr, Tensor? w_ch, "
           "Tensor? ln_gates_weight, Tensor? ln_gates_bias, Tensor? ln_cell_weight, Tensor? ln_cell_bias, "
           "Tensor? m_rec, Tensor? z_c, Tensor? z_h, Tensor? lengths")
_GRU_W = "Tensor w_ih, Tensor w_hh, Tensor? b_ih, Tensor? b_hh, Tensor? m_rec, Tensor? z_h, Tensor? lengths"
# Defined with explicit schemas and plain kernels (not torch.library.custom_op,
# whose kernels import torch._dynamo on their first call: seconds on the first
# forward of every process).
_LIB.define(f"lstm_forward(Tensor x, Tensor h0, Tensor c0, {_LSTM_W}, bool reverse, bool coupled, "
            "bool keep) -> Tensor[]")
_LIB.define(f"lstm_backward(Tensor? gy, Tensor? ghn, Tensor? gcn, Tensor x, Tensor h0, Tensor c0, {_LSTM_W}, "
            "bool reverse, bool coupled, Tensor[] saved, bool need_dx) -> Tensor[]")
_LIB.define(f"gru_rnn_forward(Tensor x, Tensor h0, {_GRU_W}, bool reverse, int kind, bool keep) -> Tensor[]")
_LIB.define(f"gru_rnn_backward(Tensor? gy, Tensor? ghn, Tensor x, Tensor h0, {_GRU_W}, bool reverse, "
            "int kind, Tensor[] saved, bool need_dx) -> Tensor[]")
lstm_forward = torch.ops.lstmkit.lstm_forward.default
lstm_backward = torch.ops.lstmkit.lstm_backward.default
gru_rnn_forward = torch.ops.lstmkit.gru_rnn_forward.default
gru_rnn_backward = torch.ops.lstmkit.gru_rnn_backward.default

_LSTM_PARAMS = 10  # w_ih, w_hh, b_ih, b_hh, w_hr, w_ch, ln_gw, ln_gb, ln_cw, ln_cb
_LSTM_HST = 4  # the state sequence among the LSTM's saved buffers (absent without lengths: it is y)
_GRU_HST = 1  # the same among the GRU / RNN's


def ext() -> Any:
    """The compiled extension, built on demand (with messages) if need be."""
    module = _loader.load(build=True)
    if module is None:
        raise RuntimeError(f"lstmkit 'cpu' backend unavailable: {_loader.reason()}")
    return module


def _none_to_empty(tensors: list[Tensor | None], like: Tensor) -> list[Tensor]:
    return [like.new_empty(0) if t is None else t for t in tensors]


def _empty_batch_grads(x: Tensor, states: list[Tensor], params: list[Tensor | None],
                       need_dx: bool) -> list[Tensor]:
    """The backward's outputs for a batch of zero sequences (the C++ kernels read saved
    activations, which an empty batch does not have): zeros, in the backward's layout."""
    return [torch.zeros_like(x) if need_dx else x.new_empty(0),
            *(torch.zeros_like(s) for s in states),
            *(x.new_empty(0) if p is None else torch.zeros_like(p) for p in params)]


def _used(tensors: list[Tensor], layout: list[tuple[int, ...] | None]) -> list[Tensor | None]:
    """The placeholders of unused buffers back to None, as the C++ side expects."""
    return [t if shape is not None else None for t, shape in zip(tensors, layout, strict=True)]


# ---------------------------------------------------------------------------- LSTM
def lstm_layout(x: Tensor, w_ih: Tensor, w_hh: Tensor, w_hr: Tensor | None, ln: bool,
                lengths: Tensor | None, zoneout: bool, coupled: bool,
                keep: bool) -> list[tuple[int, ...] | None]:
    """Shapes of the LSTM forward's outputs (None: an unused buffer, returned empty).

    y (T, B, H_out), h_n (B, H_out), c_n (B, H); when kept: pre-activations A
    (T, B, G·H), cell states (T, B, H), tanh(c) (T, B, H), mixed cell states
    (zoneout or lengths), hidden states (lengths), h̃ before projection, and the
    layer-norm buffers (normalised gates, 1/std per gate, normalised c, 1/std)."""
    steps, batch = x.shape[0], x.shape[1]
    gates = 3 if coupled else 4
    gh, out = w_ih.shape[0], w_hh.shape[1]
    hid = gh // gates
    shapes: list[tuple[int, ...] | None] = [(steps, batch, out), (batch, out), (batch, hid)]
    if not keep:
        return shapes
    mix = zoneout or lengths is not None
    norm = lambda *s: s if ln else None  # noqa: E731
    return shapes + [
        (steps, batch, gh), (steps, batch, hid), (steps, batch, hid),
        (steps, batch, hid) if mix else None,
        (steps, batch, out) if lengths is not None else None,
        (steps, batch, hid) if w_hr is not None else None,
        norm(steps, batch, gh), norm(steps, batch, gates), norm(steps, batch, hid), norm(steps, batch),
    ]  # fmt: skip


def _lstm_forward_cpu(
    x: Tensor, h0: Tensor, c0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
    b_hh: Tensor | None, w_hr: Tensor | None, w_ch: Tensor | None, ln_gates_weight: Tensor | None,
    ln_gates_bias: Tensor | None, ln_cell_weight: Tensor | None, ln_cell_bias: Tensor | None,
    m_rec: Tensor | None, z_c: Tensor | None, z_h: Tensor | None, lengths: Tensor | None,
    reverse: bool, coupled: bool, keep: bool,
) -> list[Tensor]:
    params = [w_ih, w_hh, b_ih, b_hh, w_hr, w_ch, ln_gates_weight, ln_gates_bias, ln_cell_weight,
              ln_cell_bias]  # fmt: skip
    out = ext().lstm_forward(x, h0, c0, params, [m_rec, z_c, z_h], lengths, reverse, coupled, keep)
    return _none_to_empty(out, x)


@torch.library.register_fake("lstmkit::lstm_forward", lib=_LIB)
def _lstm_forward_fake(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, w_ch, ln_gates_weight, ln_gates_bias,
                       ln_cell_weight, ln_cell_bias, m_rec, z_c, z_h, lengths, reverse, coupled, keep):
    layout = lstm_layout(x, w_ih, w_hh, w_hr, ln_gates_weight is not None, lengths,
                         z_c is not None or z_h is not None, coupled, keep)
    return [x.new_empty(0 if s is None else s) for s in layout]


def _lstm_backward_cpu(
    gy: Tensor | None, ghn: Tensor | None, gcn: Tensor | None, x: Tensor, h0: Tensor, c0: Tensor,
    w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None, b_hh: Tensor | None, w_hr: Tensor | None,
    w_ch: Tensor | None, ln_gates_weight: Tensor | None, ln_gates_bias: Tensor | None,
    ln_cell_weight: Tensor | None, ln_cell_bias: Tensor | None, m_rec: Tensor | None,
    z_c: Tensor | None, z_h: Tensor | None, lengths: Tensor | None, reverse: bool, coupled: bool,
    saved: list[Tensor], need_dx: bool,
) -> list[Tensor]:
    """[dx (empty unless need_dx), dh0, dc0, one gradient per weight (empty when absent)]."""
    params = [w_ih, w_hh, b_ih, b_hh, w_hr, w_ch, ln_gates_weight, ln_gates_bias, ln_cell_weight,
              ln_cell_bias]  # fmt: skip
    if x.size(1) == 0:  # an empty batch: every saved tensor is empty, every gradient zero
        return _empty_batch_grads(x, [h0, c0], params, need_dx)
    out = ext().lstm_backward(
        gy, ghn, gcn, x, h0, c0, params, [m_rec, z_c, z_h], lengths, reverse, coupled,
        [t if t.numel() else None for t in saved], need_dx,
    )  # fmt: skip
    return _none_to_empty(out, x)


@torch.library.register_fake("lstmkit::lstm_backward", lib=_LIB)
def _lstm_backward_fake(gy, ghn, gcn, x, h0, c0, *rest):
    params, need_dx = rest[:_LSTM_PARAMS], rest[-1]
    return [torch.empty_like(x) if need_dx else x.new_empty(0), torch.empty_like(h0),
            torch.empty_like(c0), *(x.new_empty(0) if p is None else torch.empty_like(p) for p in params)]


def _lstm_setup(ctx: Any, inputs: tuple, output: list[Tensor]) -> None:
    x, h0, c0, w_ih, w_hh, *rest = inputs
    params = [w_ih, w_hh, *rest[:_LSTM_PARAMS - 2]]
    masks, lengths = rest[_LSTM_PARAMS - 2:_LSTM_PARAMS + 1], rest[_LSTM_PARAMS + 1]
    reverse, coupled, keep = rest[_LSTM_PARAMS + 2:]
    if not keep:
        raise RuntimeError("lstmkit::lstm_forward: differentiated with keep=False (nothing saved)")
    layout = lstm_layout(x, w_ih, w_hh, params[4], params[6] is not None, lengths,
                         masks[1] is not None or masks[2] is not None, coupled, keep)
    saved = output[3:]
    ctx.mark_non_differentiable(*saved)
    ctx.set_materialize_grads(False)
    ctx.present = [p is not None for p in params]
    ctx.nmasks = [m is not None for m in masks]
    ctx.has_lengths = lengths is not None
    ctx.flags = (reverse, coupled)
    # Unused buffers are kept as their empty placeholders; the hidden-state
    # sequence without lengths is y itself.
    ctx.save_for_backward(x, h0, c0, output[0], lengths, *(p for p in params if p is not None),
                          *(m for m in masks if m is not None), *saved)
    ctx.layout = layout[3:]


def _unpack(flags: list[bool], tensors: list[Tensor]) -> tuple[list[Tensor | None], list[Tensor]]:
    """Rebuild a list with None where ``flags`` is False from the present tensors."""
    it = iter(tensors)
    return [next(it) if f else None for f in flags], list(it)


def _lstm_backward(ctx: Any, grads: list[Tensor | None], backward: Any = None) -> tuple:
    """Gradients of every input from those of [y, h_n, c_n] (the buffers have none).
    ``backward``: the function to call (default the ``lstm_backward`` operator)."""
    gy, ghn, gcn = grads[:3]
    x, h0, c0, y, lengths, *rest = ctx.saved_tensors
    params, rest = _unpack(ctx.present, rest)
    masks, saved = _unpack(ctx.nmasks, rest)
    saved = list(saved)
    if ctx.layout[_LSTM_HST] is None:
        saved[_LSTM_HST] = y
    out = (backward or lstm_backward)(_c(gy), _c(ghn), _c(gcn), x, h0, c0, *params, *masks,
                                      lengths if ctx.has_lengths else None, *ctx.flags, saved,
                                      ctx.needs_input_grad[0])
    dx = out[0] if ctx.needs_input_grad[0] else None
    grads = [g if p else None for g, p in zip(out[3:], ctx.present, strict=True)]
    return (dx, out[1], out[2], *grads, None, None, None, None, None, None, None)


_LIB.impl("lstm_forward", _lstm_forward_cpu, "CPU")
_LIB.impl("lstm_backward", _lstm_backward_cpu, "CPU")
torch.library.register_autograd("lstmkit::lstm_forward", _lstm_backward, setup_context=_lstm_setup, lib=_LIB)


# ---------------------------------------------------------------------------- GRU / RNN
def gru_rnn_layout(x: Tensor, w_ih: Tensor, w_hh: Tensor, lengths: Tensor | None, kind: int,
                   keep: bool) -> list[tuple[int, ...] | None]:
    """Shapes of the GRU / RNN forward's outputs: y (T, B, H), h_n (B, H); when kept:
    activations (T, B, G·H), hidden states (lengths only), and the GRU's extra
    buffer (T, B, H) (gh_n, or r * h_in for reset-before)."""
    steps, batch, hid = x.shape[0], x.shape[1], w_hh.shape[1]
    shapes: list[tuple[int, ...] | None] = [(steps, batch, hid), (batch, hid)]
    if not keep:
        return shapes
    return shapes + [(steps, batch, w_ih.shape[0]),
                     (steps, batch, hid) if lengths is not None else None,
                     (steps, batch, hid) if kind in (0, 1) else None]


def _gru_rnn_forward_cpu(
    x: Tensor, h0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None, b_hh: Tensor | None,
    m_rec: Tensor | None, z_h: Tensor | None, lengths: Tensor | None, reverse: bool, kind: int,
    keep: bool,
) -> list[Tensor]:
    params = [w_ih, w_hh, b_ih, b_hh, *([None] * (_LSTM_PARAMS - 4))]
    out = ext().gru_rnn_forward(x, h0, params, [m_rec, None, z_h], lengths, reverse, kind)
    return _none_to_empty(out if keep else out[:2], x)


@torch.library.register_fake("lstmkit::gru_rnn_forward", lib=_LIB)
def _gru_rnn_forward_fake(x, h0, w_ih, w_hh, b_ih, b_hh, m_rec, z_h, lengths, reverse, kind, keep):
    return [x.new_empty(0 if s is None else s)
            for s in gru_rnn_layout(x, w_ih, w_hh, lengths, kind, keep)]


def _gru_rnn_backward_cpu(
    gy: Tensor | None, ghn: Tensor | None, x: Tensor, h0: Tensor, w_ih: Tensor, w_hh: Tensor,
    b_ih: Tensor | None, b_hh: Tensor | None, m_rec: Tensor | None, z_h: Tensor | None,
    lengths: Tensor | None, reverse: bool, kind: int, saved: list[Tensor], need_dx: bool,
) -> list[Tensor]:
    """[dx (empty unless need_dx), dh0, dw_ih, dw_hh, db_ih, db_hh (empty when absent)]."""
    params = [w_ih, w_hh, b_ih, b_hh, *([None] * (_LSTM_PARAMS - 4))]
    if x.size(1) == 0:  # an empty batch: every saved tensor is empty, every gradient zero
        return _empty_batch_grads(x, [h0], params[:4], need_dx)
    out = ext().gru_rnn_backward(
        gy, ghn, x, h0, params, [m_rec, None, z_h], lengths, reverse, kind,
        [t if t.numel() else None for t in saved], need_dx,
    )  # fmt: skip
    return _none_to_empty(out, x)


@torch.library.register_fake("lstmkit::gru_rnn_backward", lib=_LIB)
def _gru_rnn_backward_fake(gy, ghn, x, h0, w_ih, w_hh, b_ih, b_hh, *rest):
    need_dx = rest[-1]
    return [torch.empty_like(x) if need_dx else x.new_empty(0), torch.empty_like(h0),
            *(x.new_empty(0) if p is None else torch.empty_like(p) for p in (w_ih, w_hh, b_ih, b_hh))]


def _gru_setup(ctx: Any, inputs: tuple, output: list[Tensor]) -> None:
    x, h0, w_ih, w_hh, b_ih, b_hh, m_rec, z_h, lengths, reverse, kind, keep = inputs
    if not keep:
        raise RuntimeError("lstmkit::gru_rnn_forward: differentiated with keep=False (nothing saved)")
    saved = output[2:]
    ctx.mark_non_differentiable(*saved)
    ctx.set_materialize_grads(False)
    params, masks = [w_ih, w_hh, b_ih, b_hh], [m_rec, z_h]
    ctx.present = [p is not None for p in params]
    ctx.nmasks = [m is not None for m in masks]
    ctx.has_lengths = lengths is not None
    ctx.flags = (reverse, kind)
    ctx.save_for_backward(x, h0, output[0], lengths, *(p for p in params if p is not None),
                          *(m for m in masks if m is not None), *saved)
    ctx.layout = gru_rnn_layout(x, w_ih, w_hh, lengths, kind, keep)[2:]


def _gru_backward(ctx: Any, grads: list[Tensor | None], backward: Any = None) -> tuple:
    """Gradients of every input from those of [y, h_n] (the buffers have none).
    ``backward``: the function to call (default the ``gru_rnn_backward`` operator)."""
    gy, ghn = grads[:2]
    x, h0, y, lengths, *rest = ctx.saved_tensors
    params, rest = _unpack(ctx.present, rest)
    masks, saved = _unpack(ctx.nmasks, rest)
    saved = list(saved)
    if ctx.layout[_GRU_HST] is None:
        saved[_GRU_HST] = y
    out = (backward or gru_rnn_backward)(_c(gy), _c(ghn), x, h0, *params, *masks,
                                         lengths if ctx.has_lengths else None, *ctx.flags, saved,
                                         ctx.needs_input_grad[0])
    dx = out[0] if ctx.needs_input_grad[0] else None
    grads = [g if p else None for g, p in zip(out[2:], ctx.present, strict=True)]
    return (dx, out[1], *grads, None, None, None, None, None, None)


_LIB.impl("gru_rnn_forward", _gru_rnn_forward_cpu, "CPU")
_LIB.impl("gru_rnn_backward", _gru_rnn_backward_cpu, "CPU")
torch.library.register_autograd("lstmkit::gru_rnn_forward", _gru_backward, setup_context=_gru_setup, lib=_LIB)


# ---------------------------------------------------------------------------- eager calls
def _eager(forward: Any, setup: Any, formula: Any, backward: Any) -> Any:
    """A forward operator's result for plain tensors outside tracing, without the
    dispatcher: an autograd.Function made of the operator's own forward, setup and
    backward functions (so bitwise the same results, tested), minus torch.library's
    per-call argument handling (``fill_defaults`` and pytree flattening, about 0.2 ms
    a call: half of a (50, 8, 32, 32) LSTM training step). ``functions`` routes
    traced calls (torch.compile, torch.export, fake tensors) to the operators."""

    class Eager(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, *args: Any) -> tuple[Tensor, ...]:
            out = forward(*args)
            setup(ctx, args, out)
            return tuple(out)

        @staticmethod
        def backward(ctx: Any, *grads: Tensor | None) -> tuple:
            return formula(ctx, list(grads), backward)

    def call(*args: Any) -> list[Tensor]:
        if not args[-1]:  # keep=False: no backward will run
            return forward(*args)
        return list(Eager.apply(*args))

    return call


lstm_forward_eager = _eager(_lstm_forward_cpu, _lstm_setup, _lstm_backward, _lstm_backward_cpu)
gru_rnn_forward_eager = _eager(_gru_rnn_forward_cpu, _gru_setup, _gru_backward, _gru_rnn_backward_cpu)


def _c(t: Tensor | None) -> Tensor | None:
    return None if t is None else t.contiguous()
