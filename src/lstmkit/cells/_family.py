"""What the newer family members' cells share (minLSTM, minGRU, sLSTM, mLSTM).

Each such cell is a ``torch.nn.Module`` that holds one layer's parameters and
computes the layer two ways:

- ``forward(input (B, I) or (I,), state=None) -> (h_t, state_t)``: one step,
  for streaming (state passed back by the caller);
- ``sequence(x (T, B, I), state, lengths, return_gates) -> (y, state_T, gates)``:
  a whole sequence, by the step loop here or by a parallel form in the subclass.

A state is a tuple of tensors with the batch first (a single-state cell takes
and returns a bare tensor at its public ``forward``). With ``lengths`` (B,),
sequence ``b`` steps only while ``t < lengths[b]``: its state is carried
unchanged past its length and its outputs there are exactly zero, so the final
state is the one after its last valid step (the contract of
``lstmkit.kernels.spec``).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.checks import check_shape, check_tensor, positive_int

StateT = tuple[Tensor, ...]
Gates = dict[str, Tensor]


class FamilyCell(nn.Module):
    """Checks, zero state, input projection and the generic step loop."""

    #: names of the state tensors, in order (``h`` first where h is part of the state)
    state_names: tuple[str, ...] = ("h",)

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.input_size = positive_int("input_size", input_size)
        self.hidden_size = positive_int("hidden_size", hidden_size)

    # -- to be provided by a subclass
    def _input_projection(self, rows: int, bias: bool, factory: dict[str, Any]) -> None:
        """``weight_ih`` (rows, input_size) and ``bias_ih`` (rows) or None; ``self.bias``."""
        self.weight_ih = nn.Parameter(torch.empty(rows, self.input_size, **factory))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(rows, **factory))
        else:
            self.register_parameter("bias_ih", None)
        self.bias = bool(bias)

    def state_shapes(self) -> tuple[tuple[int, ...], ...]:
        """The shape of each state tensor for one sequence (no batch dimension)."""
        return ((self.hidden_size,),)

    def step(self, gi: Tensor, state: StateT) -> tuple[Tensor, StateT, Gates]:
        """One step from the input projection ``gi`` (B, G) -> (h_t, new state, gates)."""
        raise NotImplementedError

    # -- shared
    @property
    def _ref(self) -> Tensor:
        return self.weight_ih

    def project(self, x: Tensor) -> Tensor:
        """The input projection ``x W_ihᵀ + b_ih`` for one step or a whole sequence."""
        return F.linear(x, self.weight_ih, getattr(self, "bias_ih", None))

    def zero_state(self, batch: int) -> StateT:
        ref = self._ref
        return tuple(ref.new_zeros((batch, *s)) for s in self.state_shapes())

    def check_state(self, state: Any, batch: int, batched: bool, prefix: str = "state") -> StateT:
        """A user state (bare tensor for one-state cells, tuple otherwise) -> batched tuple."""
        names = self.state_names
        if len(names) == 1:
            if isinstance(state, (tuple, list)):
                raise TypeError(f"{prefix}: expected a Tensor {names[0]}, got {type(state).__name__}")
            items = (state,)
        else:
            if not (isinstance(state, (tuple, list)) and len(state) == len(names)):
                got = type(state).__name__ + (f" of {len(state)}" if isinstance(state, (tuple, list)) else "")
                raise TypeError(f"{prefix}: expected a tuple ({', '.join(names)}), got {got}")
            items = tuple(state)
        out = []
        for name, t, shape in zip(names, items, self.state_shapes()):
            label = f"{prefix} ({name})"
            t = check_tensor(label, t, self._ref.dtype, self._ref.device)
            check_shape(label, t, (batch, *shape) if batched else shape)
            out.append(t if batched else t.unsqueeze(0))
        return tuple(out)

    def public_state(self, state: StateT, batched: bool) -> Tensor | StateT:
        if not batched:
            state = tuple(s.squeeze(0) for s in state)
        return state[0] if len(self.state_names) == 1 else state

    def forward(self, input: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        """One step: ``(x_t (B, I) or (I,), state) -> (h_t, state_t)``."""
        ref = self._ref
        x = check_tensor("input", input, ref.dtype, ref.device)
        if x.dim() not in (1, 2):
            raise ValueError(f"input: expected a 2-D (batched) or 1-D (unbatched) tensor, got {x.dim()}-D")
        if x.shape[-1] != self.input_size:
            raise ValueError(f"input: expected last dimension input_size={self.input_size}, got {x.shape[-1]}")
        batched = x.dim() == 2
        x = x if batched else x.unsqueeze(0)
        st = self.zero_state(x.shape[0]) if state is None else self.check_state(state, x.shape[0], batched)
        h, new, _ = self.step(self.project(x), st)
        return (h if batched else h.squeeze(0)), self.public_state(new, batched)

    def sequence(self, x: Tensor, state: StateT | None = None, lengths: Tensor | None = None,
                 return_gates: bool = False) -> tuple[Tensor, StateT, Gates | None]:
        """The step loop over ``x`` (T, B, I); see the module docstring for ``lengths``."""
        return self.loop(x, state, lengths, return_gates)

    def loop(self, x: Tensor, state: StateT | None = None, lengths: Tensor | None = None,
             return_gates: bool = False) -> tuple[Tensor, StateT, Gates | None]:
        batch = x.shape[1]
        st = self.zero_state(batch) if state is None else state
        gi = self.project(x)  # (T, B, G): all steps' input projections at once
        outs: list[Tensor] = []
        trace: dict[str, list[Tensor]] = {}
        # unbind, not gi[t]: the backward of T selects would scatter into T full-size zeros (O(T²))
        for t, gi_t in enumerate(gi.unbind(0)):
            h, new, gates = self.step(gi_t, st)
            if lengths is not None:
                live = (t < lengths).to(x.device)
                new = tuple(torch.where(live.view(-1, *([1] * (n.dim() - 1))), n, o)
                            for n, o in zip(new, st))
                h = h * live.view(-1, 1).to(h.dtype)
                gates = {k: v * live.view(-1, *([1] * (v.dim() - 1))).to(v.dtype)
                         for k, v in gates.items()}
            st = new
            outs.append(h)
            if return_gates:
                for k, v in gates.items():
                    trace.setdefault(k, []).append(v)
        y = torch.stack(outs)
        gates_out = {k: torch.stack(v) for k, v in trace.items()} if return_gates else None
        return y, st, gates_out


def step_mask(lengths: Tensor | None, steps: int, device: Any) -> Tensor | None:
    """(T, B) bool, True where ``t < lengths[b]``; None without lengths."""
    if lengths is None:
        return None
    return torch.arange(steps, device=device).unsqueeze(1) < lengths.to(device).unsqueeze(0)


def last_valid(seq: Tensor, lengths: Tensor | None) -> Tensor:
    """``seq`` (T, B, ...) at each sequence's last valid step -> (B, ...)."""
    if lengths is None:
        return seq[-1]
    idx = (lengths.to(seq.device) - 1).view(1, -1, *([1] * (seq.dim() - 2)))
    return seq.gather(0, idx.expand(1, *seq.shape[1:])).squeeze(0)
