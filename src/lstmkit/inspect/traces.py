"""Gate and cell-state traces: what an LSTM did at every step, as numbers.

``trace(module, x)`` runs a layer with ``return_gates=True`` in evaluation
mode and returns a ``GateTrace`` per layer and direction. ``saturation``
summarises how often each gate is nearly shut or nearly open, the statistic of
Karpathy, Johnson & Fei-Fei (2016, "Visualizing and understanding recurrent
networks"): the fraction of steps with the gate below 0.1 (left-saturated) or
above 0.9 (right-saturated), per unit. A forget gate right-saturated on most
steps marks a unit that remembers over long spans.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn


@dataclass(frozen=True)
class GateTrace:
    """One layer and direction of one sequence.

    values: name -> (T, H) for each gate (LSTM i, f, g, o; GRU r, z, n), the
    cell state c (LSTM) and the output h (T, H_out). ``length`` is the number
    of valid steps (the rest is padding and is cut away here).
    """

    key: str
    values: dict[str, Tensor]
    length: int

    @property
    def gate_names(self) -> list[str]:
        return [n for n in self.values if n not in ("c", "h")]


def trace(module: nn.Module, x: Tensor, lengths: list[int] | Tensor | None = None,
          index: int = 0, hx: object = None) -> dict[str, GateTrace]:
    """Per layer and direction ("l0", "l0_reverse", ...), the traces of sequence ``index``.

    ``x`` is laid out as the module expects (batch_first or not, or unbatched);
    ``hx``: the initial state, as the module takes it (None: zeros).
    The module is run in evaluation mode, under no_grad, and restored after.
    """
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            _, _, gates = module(x, hx, lengths=lengths, return_gates=True)
    finally:
        module.train(was_training)
    batched = x.dim() == 3
    batch_first = getattr(module, "batch_first", False)
    n = x.shape[1 if batch_first else 0] if batched else x.shape[0]
    if lengths is not None:
        n = int(torch.as_tensor(lengths)[index])
    out = {}
    for key, values in gates.items():
        per_seq = {}
        for name, v in values.items():
            if batched:
                v = v[index] if batch_first else v[:, index]  # (T, H)
            per_seq[name] = v[:n].detach().cpu()
        out[key] = GateTrace(key=key, values=per_seq, length=n)
    return out


def saturation(tr: GateTrace, low: float = 0.1, high: float = 0.9) -> dict[str, dict[str, Tensor]]:
    """Per gate: fractions of steps with the gate < low ("left") and > high ("right"), per unit."""
    if not 0 <= low < high <= 1:
        raise ValueError(f"low, high: expected 0 <= low < high <= 1, got {low}, {high}")
    result = {}
    for name in tr.gate_names:
        if name in ("g", "n"):  # tanh candidates, not gates
            continue
        v = tr.values[name]
        result[name] = {"left": (v < low).double().mean(0), "right": (v > high).double().mean(0)}
    return result
