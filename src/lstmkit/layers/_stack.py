"""The stacked layer shared by MinGRU, MinLSTM, SLSTM and MLSTM.

A layer is ``num_layers`` cells (``self.cells[k]``, see ``lstmkit.cells._family``)
run one after the other, with dropout between them in training, and the same
input conventions as ``lstmkit.LSTM``::

    input            (L, N, H_in), (N, L, H_in) if batch_first, or (L, H_in)
    state (each)     (num_layers, N, *shape), or (num_layers, *shape) unbatched
    output           (L, N, H), (N, L, H) if batch_first

``forward(input, state=None, lengths=None, return_gates=False) -> (output, state)``
(``gates`` third when asked: per layer ``"l0"``, ``"l1"``, ... a dict of per-step
values laid out like ``output``). The state is a tensor for one-state cells
(minGRU, minLSTM: ``h``) and a tuple otherwise (sLSTM ``(h, c, n, m)``, mLSTM
``(C, n, m)``). With ``lengths`` (N,), outputs past a sequence's length are
exactly zero and its state is the one after its last valid step, so a padded
batch gives each sequence what it gets alone. Feeding a sequence in chunks
with the state passed back gives what one call gives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.cells._family import FamilyCell
from lstmkit.checks import check_sequence, check_tensor, positive_int, probability, time_major


class FamilyStack(nn.Module):
    """Stacked cells with LSTM-style inputs, states, lengths and gates."""

    def __init__(self, make_cell: Callable[[int], FamilyCell], input_size: int, hidden_size: int,
                 num_layers: int = 1, batch_first: bool = False, dropout: float = 0.0) -> None:
        super().__init__()
        self.input_size = positive_int("input_size", input_size)
        self.hidden_size = positive_int("hidden_size", hidden_size)
        self.num_layers = positive_int("num_layers", num_layers)
        self.batch_first = bool(batch_first)
        self.dropout = probability("dropout", dropout)
        self.cells = nn.ModuleList(
            make_cell(input_size if k == 0 else hidden_size) for k in range(num_layers))

    @property
    def _ref(self) -> Tensor:
        return self.cells[0].weight_ih

    def reset_parameters(self) -> None:
        for cell in self.cells:
            cell.reset_parameters()

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        for name, default in (("num_layers", 1), ("batch_first", False), ("dropout", 0.0)):
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        return s

    def forward(self, input: Tensor, state: Any = None, lengths: Tensor | list[int] | None = None,
                return_gates: bool = False) -> tuple[Tensor, Any] | tuple[Tensor, Any, dict]:
        ref = self._ref
        x, batched = time_major(input, ref.dtype, ref.device, self.batch_first)
        lengths = check_sequence(x, self.input_size, lengths, tuple(input.shape))
        batch = x.shape[1]
        states = self._split_state(state, batch, batched)
        finals, gates = [], {}
        for k, cell in enumerate(self.cells):
            if k > 0 and self.dropout > 0 and self.training:
                x = F.dropout(x, self.dropout, training=True)
            x, st, g = cell.sequence(x, states[k], lengths, return_gates)
            finals.append(st)
            if return_gates:
                gates[f"l{k}"] = g
        out_state = tuple(torch.stack(parts) for parts in zip(*finals))  # each (layers, N, ...)
        if not batched:
            x = x.squeeze(1)
            out_state = tuple(s.squeeze(1) for s in out_state)
            gates = {k: {n: v.squeeze(1) for n, v in d.items()} for k, d in gates.items()}
        elif self.batch_first:
            x = x.transpose(0, 1)
            gates = {k: {n: v.transpose(0, 1) for n, v in d.items()} for k, d in gates.items()}
        public = out_state[0] if len(self.cells[0].state_names) == 1 else out_state
        return (x, public, gates) if return_gates else (x, public)

    def _split_state(self, state: Any, batch: int, batched: bool) -> list[tuple[Tensor, ...] | None]:
        if state is None:
            return [None] * self.num_layers
        cell = self.cells[0]
        names = cell.state_names
        if len(names) == 1:
            if not isinstance(state, Tensor):
                raise TypeError(f"state: expected a Tensor {names[0]}, got {type(state).__name__}")
            items = (state,)
        else:
            if not (isinstance(state, (tuple, list)) and len(state) == len(names)):
                got = type(state).__name__ + (f" of {len(state)}" if isinstance(state, (tuple, list)) else "")
                raise TypeError(f"state: expected a tuple ({', '.join(names)}), got {got}")
            items = tuple(state)
        ref = self._ref
        for name, t, shape in zip(names, items, cell.state_shapes()):
            check_tensor(f"state ({name})", t, ref.dtype, ref.device)
            expected = (self.num_layers, batch, *shape) if batched else (self.num_layers, *shape)
            if tuple(t.shape) != expected:
                raise ValueError(f"state ({name}): expected shape {expected}, got {tuple(t.shape)}")
        if not batched:
            items = tuple(t.unsqueeze(1) for t in items)
        return [tuple(t[k] for t in items) for k in range(self.num_layers)]


def set_mode(stack: FamilyStack, value: str, modes: tuple[str, ...]) -> None:
    """Switch the form every cell of ``stack`` runs (``mode`` of MinGRU, MinLSTM, MLSTM)."""
    if value not in modes:
        raise ValueError(f"mode: expected one of {list(modes)}, got {value!r}")
    for cell in stack.cells:
        cell.mode = value
