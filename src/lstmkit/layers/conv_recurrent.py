"""ConvLSTM and ConvGRU layers: stacked, optionally bidirectional convolutional recurrences over clips.

Shapes (B batch, T frames, C channels, H×W frame, D = 2 if bidirectional else 1,
L = num_layers, C_h = hidden_channels):

    ====================  ==============================================
    input                 (T, B, C, H, W), or (B, T, C, H, W) if batch_first
    h_0, h_n (c_0, c_n)   (L·D, B, C_h, H, W)
    output                (T, B, D·C_h, H, W), (B, T, D·C_h, H, W) if batch_first
    ====================  ==============================================

Layer k > 0 reads the D·C_h output maps of layer k - 1 (with ``dropout``
between layers in training). ``lengths`` (B,) gives each clip's true length:
outputs past it are zero, final states are those of its last valid frame and
the reverse direction starts at that frame. The step equations are those of
:mod:`lstmkit.cells.convlstm`; ``fused=True`` runs each step as one
channels-last convolution of ``[x_t, h_{t-1}]``, ``fused=False`` as the two
separate convolutions of the reference.

>>> import torch, lstmkit
>>> layer = lstmkit.ConvLSTM(1, 8, kernel_size=3, num_layers=2, batch_first=True)
>>> out, (h_n, c_n) = layer(torch.randn(2, 5, 1, 16, 16))
>>> tuple(out.shape), tuple(h_n.shape)
((2, 5, 8, 16, 16), (2, 2, 8, 16, 16))
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.cells.convlstm import ConvGRUCell, ConvLSTMCell, check_frames
from lstmkit.checks import check_lengths, check_tensor, positive_int, probability


class _ConvRecurrent(nn.Module):
    """The shared loop of ConvLSTM and ConvGRU (see the module docstring)."""

    n_states = 2

    def __init__(self, cell_cls: type, in_channels: int, hidden_channels: int, kernel_size: object,
                 num_layers: int, bias: bool, batch_first: bool, dropout: float, bidirectional: bool,
                 device: Any, dtype: Any, options: dict[str, Any]) -> None:
        super().__init__()
        self.in_channels = positive_int("in_channels", in_channels)
        self.hidden_channels = positive_int("hidden_channels", hidden_channels)
        self.num_layers = positive_int("num_layers", num_layers)
        self.batch_first = bool(batch_first)
        self.dropout = probability("dropout", dropout)
        self.bidirectional = bool(bidirectional)
        self.num_directions = 2 if bidirectional else 1
        cells = []
        for k in range(self.num_layers):
            width = in_channels if k == 0 else self.num_directions * hidden_channels
            for _ in range(self.num_directions):
                cells.append(cell_cls(width, hidden_channels, kernel_size, bias, device, dtype, **options))
        self.cells = nn.ModuleList(cells)

    @property
    def fused(self) -> bool:
        return self.cells[0].fused

    @fused.setter
    def fused(self, value: bool) -> None:
        for cell in self.cells:
            cell.fused = bool(value)

    def _initial(self, hx: Any, batch: int, frame: tuple[int, int], x: Tensor) -> list[tuple[Tensor, ...]]:
        rows = self.num_layers * self.num_directions
        shape = (rows, batch, self.hidden_channels, *frame)
        if hx is None:
            zeros = x.new_zeros(shape[1:])
            return [tuple(zeros for _ in range(self.n_states)) for _ in range(rows)]
        if self.n_states == 2:
            if not (isinstance(hx, (tuple, list)) and len(hx) == 2):
                raise TypeError(f"hx: expected a tuple (h_0, c_0), got {type(hx).__name__}")
            named = [("hx[0] (h_0)", hx[0]), ("hx[1] (c_0)", hx[1])]
        else:
            if not isinstance(hx, Tensor):
                raise TypeError(f"hx: expected a Tensor h_0, got {type(hx).__name__}")
            named = [("hx (h_0)", hx)]
        for name, t in named:
            check_tensor(name, t, x.dtype, x.device)
            if tuple(t.shape) != shape:
                raise ValueError(f"{name}: expected shape {shape} (layers·directions, batch, "
                                 f"hidden_channels, H, W), got {tuple(t.shape)}")
        return [tuple(t[r] for _, t in named) for r in range(rows)]

    def _step(self, cell: nn.Module, x: Tensor, state: tuple[Tensor, ...], mask: Tensor | None,
              fused: Any) -> tuple[tuple[Tensor, ...], dict[str, Tensor]]:
        if self.n_states == 2:
            h, c, gates = cell.step(x, state[0], state[1], mask, fused)
            return (h, c), {**gates, "c": c, "h": h}
        h, gates = cell.step(x, state[0], mask, fused)
        return (h,), {**gates, "h": h}

    def forward(self, input: Tensor, hx: Any = None, lengths: Tensor | list[int] | None = None,
                return_gates: bool = False) -> Any:
        """Run the layer; ``return_gates=True`` adds per layer and direction (``"l0"``,
        ``"l0_reverse"``, ...) the per-frame gate maps and states, laid out like ``output``."""
        ref = self.cells[0].weight_ih
        layout = "(B, T, C, H, W)" if self.batch_first else "(T, B, C, H, W)"
        x = check_frames("input", input, self.in_channels, ref.dtype, ref.device, rank=5, layout=layout)
        if self.batch_first:
            x = x.transpose(0, 1)
        steps, batch = x.shape[0], x.shape[1]
        if steps < 1:
            raise ValueError(f"input: expected a clip of at least one frame, got shape {tuple(input.shape)}")
        if batch < 1:
            raise ValueError(f"input: expected at least one clip, got shape {tuple(input.shape)}")
        frame = (x.shape[3], x.shape[4])
        valid = None
        if lengths is not None:
            lens = check_lengths(lengths, batch, steps).to(x.device)
            valid = (torch.arange(steps, device=x.device)[:, None] < lens[None, :]).to(x.dtype)  # (T, B)
        states = self._initial(hx, batch, frame, x)
        finals: list[tuple[Tensor, ...]] = []
        all_gates: dict[str, dict[str, Tensor]] = {}
        layer_in = x
        for k in range(self.num_layers):
            if k > 0 and self.dropout and self.training:
                layer_in = F.dropout(layer_in, self.dropout, True)
            outs = []
            for d in range(self.num_directions):
                row = k * self.num_directions + d
                cell = self.cells[row]
                state = states[row]
                mask = cell.recurrent_mask(state[0].expand(batch, *state[0].shape[1:]))
                fused = cell.fused_weight() if cell.fused else None
                if getattr(cell, "peephole", False):
                    cell._check_frame(layer_in[0])
                seq = [None] * steps
                traces: list[dict[str, Tensor]] = [{}] * steps
                order = range(steps - 1, -1, -1) if d == 1 else range(steps)
                for t in order:
                    new, gates = self._step(cell, layer_in[t], state, mask, fused)
                    if valid is not None:
                        v = valid[t].view(batch, 1, 1, 1)
                        new = tuple(v * n + (1 - v) * s for n, s in zip(new, state))
                        seq[t] = new[0] * v
                    else:
                        seq[t] = new[0]
                    state = new
                    if return_gates:
                        traces[t] = gates
                finals.append(state)
                outs.append(torch.stack(seq))
                if return_gates:
                    name = f"l{k}" + ("_reverse" if d == 1 else "")
                    all_gates[name] = {g: torch.stack([tr[g] for tr in traces]) for g in traces[0]}
            layer_in = outs[0] if len(outs) == 1 else torch.cat(outs, dim=2)
        output = layer_in
        if self.batch_first:
            output = output.transpose(0, 1)
            all_gates = {n: {g: v.transpose(0, 1) for g, v in d.items()} for n, d in all_gates.items()}
        stacked = tuple(torch.stack([s[j] for s in finals]) for j in range(self.n_states))
        state_out = stacked if self.n_states == 2 else stacked[0]
        return (output, state_out, all_gates) if return_gates else (output, state_out)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.hidden_channels}"
        for name, default in (("num_layers", 1), ("batch_first", False), ("dropout", 0.0),
                              ("bidirectional", False)):
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        return s


class ConvLSTM(_ConvRecurrent):
    r"""Convolutional LSTM (Shi et al. 2015) over clips; see the module docstring for shapes.

    Per step and direction, with ``*`` a "same"-padded 2-D convolution:

    .. math::
        i_t = σ(W_{xi} * x_t + W_{hi} * h_{t-1} + w_{ci} ⊙ c_{t-1} + b_i) \\
        f_t = σ(W_{xf} * x_t + W_{hf} * h_{t-1} + w_{cf} ⊙ c_{t-1} + b_f) \\
        c_t = f_t ⊙ c_{t-1} + i_t ⊙ \tanh(W_{xc} * x_t + W_{hc} * h_{t-1} + b_c) \\
        o_t = σ(W_{xo} * x_t + W_{ho} * h_{t-1} + w_{co} ⊙ c_t + b_o),\qquad h_t = o_t ⊙ \tanh(c_t)

    The peephole terms are there with ``peephole=True``. Cell options
    (keyword-only, passed to every :class:`~lstmkit.ConvLSTMCell`):
    ``peephole``, ``frame_size``, ``norm`` ("none" | "layer" | "group"),
    ``norm_groups``, ``forget_bias``, ``zoneout``, ``recurrent_dropout``,
    ``fused``. Cells are ``cells[k·D + d]`` (layer k, direction d).
    """

    n_states = 2

    def __init__(self, in_channels: int, hidden_channels: int, kernel_size: object = 3,
                 num_layers: int = 1, bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device: Any = None, dtype: Any = None,
                 **options: Any) -> None:
        _only(options, ("peephole", "frame_size", "norm", "norm_groups", "forget_bias", "zoneout",
                        "recurrent_dropout", "fused"))
        super().__init__(ConvLSTMCell, in_channels, hidden_channels, kernel_size, num_layers, bias,
                         batch_first, dropout, bidirectional, device, dtype, options)


class ConvGRU(_ConvRecurrent):
    r"""Convolutional GRU (Ballas et al. 2016) over clips; shapes as :class:`ConvLSTM`, state ``h`` only.

    .. math::
        r_t = σ(W_{xr} * x_t + W_{hr} * h_{t-1} + b_r),\quad z_t = σ(W_{xz} * x_t + W_{hz} * h_{t-1} + b_z) \\
        n_t = \tanh(W_{xn} * x_t + b_{xn} + r_t ⊙ (W_{hn} * h_{t-1} + b_{hn})),\quad
        h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}

    Cell options: ``zoneout``, ``recurrent_dropout``, ``fused``.
    """

    n_states = 1

    def __init__(self, in_channels: int, hidden_channels: int, kernel_size: object = 3,
                 num_layers: int = 1, bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device: Any = None, dtype: Any = None,
                 **options: Any) -> None:
        _only(options, ("zoneout", "recurrent_dropout", "fused"))
        super().__init__(ConvGRUCell, in_channels, hidden_channels, kernel_size, num_layers, bias,
                         batch_first, dropout, bidirectional, device, dtype, options)


def _only(options: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise TypeError(f"unexpected option(s) {unknown}; this module takes {sorted(allowed)}")
