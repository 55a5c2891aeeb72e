"""The native backend: torch's own fused LSTM / GRU / RNN (cuDNN on GPU).

It runs exactly the configurations torch.nn supports: the standard cells,
stacked, bidirectional, projection, dropout between layers, and weight drop
(applied to W_hh before the call). Variable lengths go through a
PackedSequence, as torch.nn does.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstmkit.kernels.spec import DirParams, LayerSpec, StackResult
from lstmkit.kernels.stack import drop_weight

_OPS = {
    "LSTM": torch._VF.lstm,
    "GRU": torch._VF.gru,
    "RNN_TANH": torch._VF.rnn_tanh,
    "RNN_RELU": torch._VF.rnn_relu,
}


class NativeBackend:
    """torch.nn's fused implementation; only torch's own options."""

    name = "native"

    def unsupported(self, spec: LayerSpec, x: Tensor, return_gates: bool) -> str | None:
        cell = spec.cell
        extras = {
            "peephole": cell.peephole,
            "coupled_gates": cell.coupled_gates,
            "layer_norm": cell.layer_norm,
            "reset_after=False": cell.mode == "GRU" and not cell.reset_after,
            "recurrent_dropout": spec.recurrent_dropout > 0,
            "zoneout": spec.zoneout_c > 0 or spec.zoneout_h > 0,
            "residual": spec.residual,
            "return_gates": return_gates,
        }
        used = [name for name, on in extras.items() if on]
        if used:
            return "torch.nn has no " + ", ".join(used)
        return None

    def run(
        self,
        spec: LayerSpec,
        x: Tensor,
        h0: Tensor,
        c0: Tensor | None,
        params: list[DirParams],
        lengths: Tensor | None,
        training: bool,
        return_gates: bool,
    ) -> StackResult:
        flat: list[Tensor] = []
        for p in params:
            p = drop_weight(p, spec, training)
            flat += [p.w_ih, p.w_hh]
            if spec.cell.bias:
                flat += [p.b_ih, p.b_hh]
            if p.w_hr is not None:
                flat.append(p.w_hr)
        hx = (h0, c0) if spec.cell.mode == "LSTM" else h0
        args = (flat, spec.cell.bias, spec.num_layers, spec.dropout, training, spec.bidirectional)
        op = _OPS[spec.cell.mode]
        if lengths is None:
            result = op(x, hx, *args, False)
            return _stack_result(result, spec)
        steps = x.shape[0]
        packed = pack_padded_sequence(x, lengths.cpu(), enforce_sorted=False)
        order, unorder = packed.sorted_indices, packed.unsorted_indices
        hx = tuple(s.index_select(1, order) for s in hx) if isinstance(hx, tuple) else (
            hx.index_select(1, order)
        )
        result = op(packed.data, packed.batch_sizes, hx, *args)
        out_packed = torch.nn.utils.rnn.PackedSequence(result[0], packed.batch_sizes, order, unorder)
        output, _ = pad_packed_sequence(out_packed, total_length=steps)  # (T, B, D·H_out)
        states = [s.index_select(1, unorder) for s in result[1:]]
        return _stack_result((output, *states), spec)


def _stack_result(result: tuple[Tensor, ...], spec: LayerSpec) -> StackResult:
    if spec.cell.mode == "LSTM":
        output, h_n, c_n = result
        return StackResult(output=output, h_n=h_n, c_n=c_n)
    output, h_n = result
    return StackResult(output=output, h_n=h_n, c_n=None)


BACKEND = NativeBackend()
