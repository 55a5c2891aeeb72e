"""The reference backend: plain PyTorch with autograd, the executable specification.

Every option is supported; every other backend is tested against this one.
It is a Python loop over time, so it is slow: use it to check, not to train.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from lstmkit.cells.functional import gru_step, lstm_step, rnn_step, zoneout
from lstmkit.kernels.spec import CellSpec, DirParams, DirResult, LayerSpec, StepMasks
from lstmkit.kernels.stack import LoopBackend, RunDirection


def run_direction(
    x: Tensor,
    h0: Tensor,
    c0: Tensor | None,
    p: DirParams,
    cell: CellSpec,
    lengths: Tensor | None,
    reverse: bool,
    masks: StepMasks,
    return_gates: bool,
) -> DirResult:
    """One layer, one direction. x (T, B, I); h0 (B, H_out); c0 (B, H) or None."""
    steps = x.shape[0]
    gi_all = F.linear(x, p.w_ih, p.b_ih)  # (T, B, I) -> (T, B, G·H)
    h, c = h0, c0
    ys: list[Tensor] = [x.new_zeros(0)] * steps
    trace: dict[str, list[Tensor]] = {}
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    for t in order:
        gi = gi_all[t]
        if cell.mode == "LSTM":
            h_new, c_new, gates = lstm_step(gi, h, c, p, cell, masks.recurrent)
            c_new = zoneout(c, c_new, None if masks.zoneout_c is None else masks.zoneout_c[t])
        elif cell.mode == "GRU":
            h_new, gates = gru_step(gi, h, p, cell, masks.recurrent)
        else:
            h_new, gates = rnn_step(gi, h, p, cell, masks.recurrent)
        h_new = zoneout(h, h_new, None if masks.zoneout_h is None else masks.zoneout_h[t])
        if lengths is None:
            h, y = h_new, h_new
            if cell.mode == "LSTM":
                c = c_new
        else:
            run = (lengths > t).unsqueeze(1)  # (B, 1): still inside the sequence
            h = torch.where(run, h_new, h)
            y = torch.where(run, h_new, torch.zeros_like(h_new))
            if cell.mode == "LSTM":
                c = torch.where(run, c_new, c)
        ys[t] = y
        if return_gates:
            if cell.mode == "LSTM":
                gates = {**gates, "c": c}
            for name, value in {**gates, "h": h}.items():
                trace.setdefault(name, [x.new_zeros(0)] * steps)[t] = value
    gate_trace = {k: torch.stack(v, 0) for k, v in trace.items()} if return_gates else None
    return DirResult(y=torch.stack(ys, 0), h_n=h, c_n=c, gates=gate_trace)


class ReferenceBackend(LoopBackend):
    """Plain PyTorch; supports every configuration on every device and dtype."""

    name = "reference"

    def unsupported(self, spec: LayerSpec, x: Tensor, return_gates: bool) -> str | None:
        return None

    def direction_runner(self) -> RunDirection:
        return run_direction


BACKEND = ReferenceBackend()
