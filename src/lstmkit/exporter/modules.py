"""Export-time recurrent layers: the inference function of a layer in a traceable form.

``to_export_layer(layer, loop)`` turns an ``lstmkit.LSTM`` / ``GRU`` / ``RNN``,
a ``torch.nn.LSTM`` / ``GRU`` / ``RNN`` (same parameter names) or an
``lstmkit.ConvLSTM`` / ``ConvGRU`` into an :class:`ExportLSTM` or
:class:`ExportRNN` that computes what the layer computes **in eval mode**
and shares its parameters:

* ``loop="scan"``: each direction's time loop is PyTorch's ``scan`` operator
  (see :mod:`lstmkit.exporter._scan`), which ``torch.export`` keeps as one op
  and the ONNX exporter writes as an ONNX ``Scan``: the batch and sequence
  sizes stay dynamic.
* ``loop="script"``: a plain ``for`` loop over ``range(T)`` that
  ``torch.jit.script`` compiles (``torch.jit.trace`` would unroll it).

The step is the one of ``lstmkit.kernels.spec`` (same notation), in eval mode:
no dropout, recurrent dropout or weight drop; zoneout uses its expectation,
``h_t = z_h h_{t-1} + (1 - z_h) h̃_t`` (and c_t with z_c). With ``lengths``
(B,), sequence b steps only while ``t < lengths[b]``: its state is carried
unchanged after, its output there is exactly zero, and the reverse direction
starts at its own last valid step.

The call matches the layer's: ``forward(input, hx=None, lengths=None)`` with
batched ``(L, N, H_in)`` / ``(N, L, H_in)`` or unbatched ``(L, H_in)`` input,
returning ``(output, (h_n, c_n))`` (LSTM) or ``(output, h_n)``. A
``PackedSequence`` cannot be exported: pass ``lengths=`` instead. A conv
layer's twin (:class:`ExportConvCell`, the step of
:mod:`lstmkit.cells.convlstm`: peephole, ``norm``, zoneout, bidirectional,
stacked, ``lengths``) takes its 5-D clips ``(T, B, C, H, W)`` / ``(B, T, C, H, W)``
with states ``(L·D, B, C_h, H, W)``; the frame size stays fixed,
``return_gates`` is not part of it.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.cells.convlstm import EPS as CONV_EPS
from lstmkit.cells.convlstm import ConvLSTMCell
from lstmkit.exporter.errors import ExportError
from lstmkit.kernels.spec import LN_EPS

_MODES = {"LSTM": 0, "GRU": 1, "RNN_TANH": 2, "RNN_RELU": 3}


def layer_options(layer: nn.Module) -> dict[str, Any]:
    """The structure of a layer (lstmkit or torch.nn) as plain values."""
    spec = getattr(layer, "spec", None)
    if spec is not None:  # an lstmkit layer
        cell = spec.cell
        return {
            "mode": cell.mode, "hidden_size": cell.hidden_size, "proj_size": cell.proj_size,
            "bias": cell.bias, "peephole": cell.peephole, "coupled_gates": cell.coupled_gates,
            "layer_norm": cell.layer_norm, "reset_after": cell.reset_after,
            "num_layers": spec.num_layers, "bidirectional": spec.bidirectional,
            "zoneout_c": spec.zoneout_c, "zoneout_h": spec.zoneout_h, "residual": spec.residual,
            "batch_first": layer.batch_first,
        }
    return {  # torch.nn.LSTM / GRU / RNN
        "mode": layer.mode, "hidden_size": layer.hidden_size,
        "proj_size": getattr(layer, "proj_size", 0), "bias": layer.bias, "peephole": False,
        "coupled_gates": False, "layer_norm": False, "reset_after": True,
        "num_layers": layer.num_layers, "bidirectional": layer.bidirectional,
        "zoneout_c": 0.0, "zoneout_h": 0.0, "residual": False, "batch_first": layer.batch_first,
    }


class _TimeLoop(nn.Module):
    """The time loop of one layer and direction, shared by :class:`ExportCell` and :class:`ExportConvCell`.

    A subclass gives ``step(gi_t, h, c) -> (h_t, c_t)``; the states may be
    (B, H) vectors or (B, C_h, H, W) maps: h and c are joined along dim 1.
    """

    def step(self, gi: Tensor, h: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
        raise NotImplementedError

    def run_scan(self, gi: Tensor, h: Tensor, c: Tensor,
                 run: Tensor | None, reverse: bool) -> tuple[Tensor, Tensor, Tensor]:
        """The time loop as PyTorch's ``scan`` (for torch.export and ONNX ``Scan``).

        gi (T, B, G·H); h (B, H_out); c (B, H); run (T, B, 1) bool or None ->
        (y (T, B, H_out), h_n, c_n); for a conv cell every (·, H) is (·, C_h, H, W)
        and run is (T, B, 1, 1, 1)."""
        from lstmkit.exporter._scan import get_scan

        scan = get_scan()

        out = h.shape[1]
        width = out + c.shape[1]

        # One carry tensor [h | c] (B, H_out + H): torch 2.13's ONNX decompositions fail on a
        # scan whose carry is a tuple (measured), so h and c travel concatenated.
        def combine(carry, xs):
            h_prev, c_prev = carry.narrow(1, 0, out), carry.narrow(1, out, width - out)
            h_new, c_new = self.step(xs[0], h_prev, c_prev)
            if run is None:
                return torch.cat([h_new, c_new], 1), h_new.clone()
            ok = xs[1]  # (B, 1) or (B, 1, 1, 1) bool: still inside the sequence
            y = torch.where(ok, h_new, torch.zeros_like(h_new))
            kept = torch.cat([torch.where(ok, h_new, h_prev), torch.where(ok, c_new, c_prev)], 1)
            return kept, y

        xs = (gi,) if run is None else (gi, run)
        state, ys = scan(combine, torch.cat([h, c], 1), xs, reverse=reverse)
        return ys, state.narrow(1, 0, out), state.narrow(1, out, width - out)

    def run_loop(self, gi: Tensor, h: Tensor, c: Tensor,
                 run: Tensor | None, reverse: bool) -> tuple[Tensor, Tensor, Tensor]:
        """The time loop as a ``for`` over T (for TorchScript); same contract as ``run_scan``."""
        steps = gi.shape[0]
        ys: list[Tensor] = []
        for i in range(steps):
            t = steps - 1 - i if reverse else i
            h_new, c_new = self.step(gi[t], h, c)
            if run is None:
                h, c = h_new, c_new
                ys.append(h_new)
            else:
                ok = run[t]  # (B, 1) or (B, 1, 1, 1) bool
                h = torch.where(ok, h_new, h)
                c = torch.where(ok, c_new, c)
                ys.append(torch.where(ok, h_new, torch.zeros_like(h_new)))
        if reverse:
            ys.reverse()
        return torch.stack(ys, 0), h, c


class ExportCell(_TimeLoop):
    """One layer and direction: ``input_proj`` for the whole sequence, then ``step`` per t.

    Parameters are the layer's own (shared, not copied); a missing bias is a
    zero buffer, which computes the same thing.
    """

    def __init__(self, layer: nn.Module, opts: dict[str, Any], k: int, reverse: bool) -> None:
        super().__init__()
        s = f"l{k}" + ("_reverse" if reverse else "")
        get = lambda name: getattr(layer, f"{name}_{s}", None)  # noqa: E731
        self.mode = _MODES[opts["mode"]]
        self.hidden = int(opts["hidden_size"])
        self.gates = self.mode_gates(opts)
        self.peephole = bool(opts["peephole"])
        self.coupled = bool(opts["coupled_gates"])
        self.layer_norm = bool(opts["layer_norm"])
        self.reset_after = bool(opts["reset_after"])
        self.has_proj = int(opts["proj_size"]) > 0
        self.zoneout_c = float(opts["zoneout_c"])
        self.zoneout_h = float(opts["zoneout_h"])
        self.eps = float(LN_EPS)
        self.w_ih, self.w_hh = get("weight_ih"), get("weight_hh")
        width = self.gates * self.hidden
        for name in ("bias_ih", "bias_hh"):
            p = get(name)
            if p is None:
                self.register_buffer(name, torch.zeros(width, dtype=self.w_ih.dtype, device=self.w_ih.device))
            else:
                setattr(self, name, p)
        empty = self.w_ih.new_zeros(0)
        self.w_hr = get("weight_hr") if self.has_proj else nn.Parameter(empty, requires_grad=False)
        self.w_ch = get("weight_ch") if self.peephole else nn.Parameter(empty, requires_grad=False)
        for name in ("ln_gate_weight", "ln_gate_bias", "ln_cell_weight", "ln_cell_bias"):
            setattr(self, name.replace("ln_", "n_"),
                    get(name) if self.layer_norm else nn.Parameter(empty, requires_grad=False))

    @staticmethod
    def mode_gates(opts: dict[str, Any]) -> int:
        if opts["mode"] == "LSTM":
            return 3 if opts["coupled_gates"] else 4
        return 3 if opts["mode"] == "GRU" else 1

    def input_proj(self, x: Tensor) -> Tensor:
        """x (T, B, I) -> x W_ihᵀ + b_ih (T, B, G·H)."""
        return F.linear(x, self.w_ih, self.bias_ih)

    def _gate(self, a: Tensor, j: int) -> Tensor:
        return a.narrow(1, j * self.hidden, self.hidden)  # block j of (B, G·H): (B, H)

    def step(self, gi: Tensor, h: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
        """(x_t W_ihᵀ + b_ih, h_{t-1}, c_{t-1}) -> (h_t, c_t) before length masking.

        For the GRU and the RNN ``c`` is passed through unchanged."""
        H = self.hidden
        if self.mode == 0:
            a = gi + F.linear(h, self.w_hh, self.bias_hh)  # (B, G·H)
            if self.layer_norm:
                a = F.layer_norm(a.reshape(a.shape[0], self.gates, H), [H], eps=self.eps)  # (B, G, H)
                a = a.reshape(a.shape[0], self.gates * H) * self.n_gate_weight + self.n_gate_bias
            j = 0 if self.coupled else 1
            a_f, a_g, a_o = self._gate(a, j), self._gate(a, j + 1), self._gate(a, j + 2)
            if self.peephole:
                a_f = a_f + self.w_ch[1] * c
            f = torch.sigmoid(a_f)
            if self.coupled:
                i = 1.0 - f
            else:
                a_i = self._gate(a, 0)
                if self.peephole:
                    a_i = a_i + self.w_ch[0] * c
                i = torch.sigmoid(a_i)
            c_new = f * c + i * torch.tanh(a_g)
            if self.peephole:
                a_o = a_o + self.w_ch[2] * c_new
            c_out = c_new
            if self.layer_norm:
                c_out = F.layer_norm(c_new, [H], self.n_cell_weight, self.n_cell_bias, self.eps)
            h_new = torch.sigmoid(a_o) * torch.tanh(c_out)
            if self.has_proj:
                h_new = F.linear(h_new, self.w_hr)  # (B, H) -> (B, H_out)
            if self.zoneout_c > 0:
                c_new = self.zoneout_c * c + (1.0 - self.zoneout_c) * c_new
        elif self.mode == 1:
            if self.reset_after:
                gh = F.linear(h, self.w_hh, self.bias_hh)  # (B, 3H)
                r = torch.sigmoid(self._gate(gi, 0) + self._gate(gh, 0))
                z = torch.sigmoid(self._gate(gi, 1) + self._gate(gh, 1))
                n = torch.tanh(self._gate(gi, 2) + r * self._gate(gh, 2))
            else:
                gh = F.linear(h, self.w_hh[: 2 * H], self.bias_hh[: 2 * H])  # (B, 2H)
                r = torch.sigmoid(self._gate(gi, 0) + self._gate(gh, 0))
                z = torch.sigmoid(self._gate(gi, 1) + self._gate(gh, 1))
                n = torch.tanh(self._gate(gi, 2) + F.linear(r * h, self.w_hh[2 * H :], self.bias_hh[2 * H :]))
            h_new = (1.0 - z) * n + z * h
            c_new = c
        else:
            a = gi + F.linear(h, self.w_hh, self.bias_hh)
            h_new = torch.tanh(a) if self.mode == 2 else torch.relu(a)
            c_new = c
        if self.zoneout_h > 0:
            h_new = self.zoneout_h * h + (1.0 - self.zoneout_h) * h_new
        return h_new, c_new


class ExportConvCell(_TimeLoop):
    """One ConvLSTM / ConvGRU cell (:mod:`lstmkit.cells.convlstm`) in eval mode, the reference path.

    ``input_proj`` convolves every frame at once, ``W_x * x_t + b_x`` (T, B,
    G·C_h, H, W); ``step`` adds ``W_h * h_{t-1} + b_h`` and applies the
    gates. Eval mode: no recurrent-dropout mask, zoneout by its expectation
    (``c_t = z_c c_{t-1} + (1 - z_c) c̃_t``, h likewise). Parameters are the
    cell's own; the fused path of the layer computes the same thing (up to
    float rounding), so the twin always uses the two separate convolutions.
    """

    def __init__(self, cell: nn.Module) -> None:
        super().__init__()
        self.is_lstm = isinstance(cell, ConvLSTMCell)
        self.hidden = int(cell.hidden_channels)
        self.padding = [int(cell.padding[0]), int(cell.padding[1])]
        self.zoneout_c = float(cell.zoneout_c) if self.is_lstm else 0.0
        self.zoneout_h = float(cell.zoneout_h)
        self.w_ih, self.w_hh = cell.weight_ih, cell.weight_hh
        for name in ("bias_ih", "bias_hh"):
            p = getattr(cell, name)
            if p is None:
                self.register_buffer(name, self.w_ih.new_zeros(self.w_ih.shape[0]))
            else:
                setattr(self, name, p)
        empty = self.w_ih.new_zeros(0)
        self.peephole = bool(getattr(cell, "peephole", False))
        self.w_ch = cell.weight_ch if self.peephole else nn.Parameter(empty, requires_grad=False)
        norm = getattr(cell, "norm", "none")
        self.norm = norm != "none"
        self.groups = int(getattr(cell, "norm_groups", 1))
        self.eps = float(CONV_EPS)
        for name in ("norm_gate_weight", "norm_gate_bias", "norm_cell_weight", "norm_cell_bias"):
            setattr(self, name.replace("norm_", "n_"),
                    getattr(cell, name) if self.norm else nn.Parameter(empty, requires_grad=False))

    def input_proj(self, x: Tensor) -> Tensor:
        """x (T, B, C, H, W) -> W_x * x + b_x (T, B, G·C_h, H, W)."""
        steps, batch = x.shape[0], x.shape[1]
        a = F.conv2d(x.flatten(0, 1), self.w_ih, self.bias_ih, padding=self.padding)
        return a.reshape(steps, batch, a.shape[1], a.shape[2], a.shape[3])

    def step(self, gi: Tensor, h: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
        """(W_x * x_t + b_x, h_{t-1}, c_{t-1}) -> (h_t, c_t); the ConvGRU passes ``c`` through."""
        ch = self.hidden
        gh = F.conv2d(h, self.w_hh, self.bias_hh, padding=self.padding)  # (B, G·C_h, H, W)
        if self.is_lstm:
            a = gi + gh
            if self.norm:
                a = F.group_norm(a, 4 * self.groups, self.n_gate_weight, self.n_gate_bias, self.eps)
            a_i, a_f = a.narrow(1, 0, ch), a.narrow(1, ch, ch)
            a_g, a_o = a.narrow(1, 2 * ch, ch), a.narrow(1, 3 * ch, ch)
            if self.peephole:
                a_i = a_i + self.w_ch[0] * c
                a_f = a_f + self.w_ch[1] * c
            c_new = torch.sigmoid(a_f) * c + torch.sigmoid(a_i) * torch.tanh(a_g)
            if self.peephole:
                a_o = a_o + self.w_ch[2] * c_new
            c_out = c_new
            if self.norm:
                c_out = F.group_norm(c_new, self.groups, self.n_cell_weight, self.n_cell_bias, self.eps)
            h_new = torch.sigmoid(a_o) * torch.tanh(c_out)
            if self.zoneout_c > 0:
                c_new = self.zoneout_c * c + (1.0 - self.zoneout_c) * c_new
        else:
            r = torch.sigmoid(gi.narrow(1, 0, ch) + gh.narrow(1, 0, ch))
            z = torch.sigmoid(gi.narrow(1, ch, ch) + gh.narrow(1, ch, ch))
            n = torch.tanh(gi.narrow(1, 2 * ch, ch) + r * gh.narrow(1, 2 * ch, ch))
            h_new = (1.0 - z) * n + z * h
            c_new = c
        if self.zoneout_h > 0:
            h_new = self.zoneout_h * h + (1.0 - self.zoneout_h) * h_new
        return h_new, c_new


class _ExportBase(nn.Module):
    """The stack (layers, directions, residual) around :class:`ExportCell` or :class:`ExportConvCell`.

    For a ConvLSTM / ConvGRU the layout is the layer's: input (T, B, C, H, W)
    (or batch first), states (L·D, B, C_h, H, W); the cells are the layer's
    ``cells[k·D + d]``.
    """

    def __init__(self, layer: nn.Module, loop: str) -> None:
        super().__init__()
        if loop not in ("scan", "script"):
            raise ValueError(f"loop: expected 'scan' or 'script', got {loop!r}")
        self.use_scan = loop == "scan"
        self.batch_first = bool(layer.batch_first)
        if is_conv_recurrent(layer):
            self.is_lstm = layer.n_states == 2
            self.rank = 5
            self.num_layers = int(layer.num_layers)
            self.dirs = int(layer.num_directions)
            self.residual = False
            self.hidden = self.out_size = int(layer.hidden_channels)
            self.cells = nn.ModuleList(ExportConvCell(cell) for cell in layer.cells)
            return
        opts = layer_options(layer)
        self.is_lstm = opts["mode"] == "LSTM"
        self.rank = 3
        self.num_layers = int(opts["num_layers"])
        self.dirs = 2 if opts["bidirectional"] else 1
        self.residual = bool(opts["residual"])
        self.hidden = int(opts["hidden_size"])
        self.out_size = int(opts["proj_size"]) or self.hidden
        self.cells = nn.ModuleList(ExportCell(layer, opts, k, d == 1)
                                   for k in range(self.num_layers) for d in range(self.dirs))

    def _run(self, x: Tensor, h0: Tensor | None, c0: Tensor | None,
             lengths: Tensor | None) -> tuple[Tensor, Tensor, Tensor]:
        """x (T, B, I) -> output (T, B, D·H_out), h_n (L·D, B, H_out), c_n (L·D, B, H).

        Conv layers: x (T, B, C, H, W) -> (T, B, D·C_h, H, W), (L·D, B, C_h, H, W) twice."""
        steps, batch = x.shape[0], x.shape[1]
        rows = self.num_layers * self.dirs
        frame: list[int] = [int(n) for n in x.shape[3:]]  # [] or [H, W]
        if h0 is None:
            h0 = x.new_zeros([rows, batch, self.out_size] + frame)
        if c0 is None:  # the GRU / RNN carry an unused zero "cell" too
            c0 = x.new_zeros([rows, batch, self.hidden] + frame)
        run: Tensor | None = None
        valid: Tensor | None = None
        if lengths is not None:
            t = torch.arange(steps, device=x.device).unsqueeze(1)  # (T, 1)
            run = (t < lengths.to(x.device).unsqueeze(0)).unsqueeze(2)  # (T, B, 1) bool
            for _ in frame:
                run = run.unsqueeze(3)  # conv: (T, B, 1, 1, 1)
            valid = run.to(x.dtype)
        layer_in = x
        outs: list[Tensor] = []
        hs: list[Tensor] = []
        cs: list[Tensor] = []
        idx = 0
        for cell in self.cells:
            d = idx % self.dirs
            gi = cell.input_proj(layer_in)  # (T, B, G·H)
            if not torch.jit.is_scripting() and self.use_scan:  # TorchScript skips this branch
                y, h_n, c_n = cell.run_scan(gi, h0[idx], c0[idx], run, d == 1)
            else:
                y, h_n, c_n = cell.run_loop(gi, h0[idx], c0[idx], run, d == 1)
            outs.append(y)
            hs.append(h_n)
            cs.append(c_n)
            if d == self.dirs - 1:
                out = outs[0] if self.dirs == 1 else torch.cat(outs, dim=2)  # (T, B, D·H_out)
                if self.residual and idx >= self.dirs and out.shape[2] == layer_in.shape[2]:
                    out = out + layer_in
                    if valid is not None:
                        out = out * valid  # keep padding exactly zero
                layer_in = out
                outs = []
            idx += 1
        return layer_in, torch.stack(hs, 0), torch.stack(cs, 0)

    def _prepare(self, input: Tensor) -> tuple[Tensor, bool]:
        if not isinstance(input, Tensor):
            raise ExportError("a PackedSequence cannot be exported: pass the padded input with lengths= instead")
        batched = input.dim() == self.rank
        x = input
        if not batched:
            x = x.unsqueeze(1)  # (T, I) -> (T, 1, I)
        elif self.batch_first:
            x = x.transpose(0, 1)  # (B, T, I) -> (T, B, I)
        return x, batched

    def _finish(self, out: Tensor, batched: bool) -> Tensor:
        if not batched:
            return out.squeeze(1)
        return out.transpose(0, 1) if self.batch_first else out


class ExportLSTM(_ExportBase):
    """An LSTM's eval-mode function: ``forward(input, hx=None, lengths=None) -> (output, (h_n, c_n))``."""

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None,
                lengths: Tensor | None = None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        x, batched = self._prepare(input)
        h0: Tensor | None = None
        c0: Tensor | None = None
        if hx is not None:
            h0, c0 = hx[0], hx[1]
            if not batched:
                h0, c0 = h0.unsqueeze(1), c0.unsqueeze(1)
        out, h_n, c_n = self._run(x, h0, c0, lengths)
        if not batched:
            h_n, c_n = h_n.squeeze(1), c_n.squeeze(1)
        return self._finish(out, batched), (h_n, c_n)


class ExportRNN(_ExportBase):
    """A GRU's or RNN's eval-mode function: ``forward(input, hx=None, lengths=None) -> (output, h_n)``."""

    def forward(self, input: Tensor, hx: Tensor | None = None,
                lengths: Tensor | None = None) -> tuple[Tensor, Tensor]:
        x, batched = self._prepare(input)
        h0: Tensor | None = None
        if hx is not None:
            h0 = hx if batched else hx.unsqueeze(1)
        out, h_n, _ = self._run(x, h0, None, lengths)
        if not batched:
            h_n = h_n.squeeze(1)
        return self._finish(out, batched), h_n


def is_recurrent(module: nn.Module) -> bool:
    """An lstmkit recurrent layer or a torch.nn.LSTM / GRU / RNN."""
    from lstmkit.layers.recurrent import RecurrentBase

    return isinstance(module, (RecurrentBase, nn.RNNBase)) or is_conv_recurrent(module)


def is_conv_recurrent(module: nn.Module) -> bool:
    """An ``lstmkit.ConvLSTM`` or ``ConvGRU``."""
    from lstmkit.layers.conv_recurrent import ConvGRU, ConvLSTM

    return isinstance(module, (ConvLSTM, ConvGRU))


def to_export_layer(layer: nn.Module, loop: str) -> _ExportBase:
    """The export-time twin of ``layer`` (see the module docstring)."""
    if is_conv_recurrent(layer):
        return (ExportLSTM if layer.n_states == 2 else ExportRNN)(layer, loop)
    mode = layer_options(layer)["mode"]
    return (ExportLSTM if mode == "LSTM" else ExportRNN)(layer, loop)


def replace_recurrent(root: nn.Module, loop: str) -> tuple[nn.Module, int]:
    """Swap every recurrent layer under ``root`` (``root`` itself included) for its twin.

    Returns the new root and how many layers were swapped; with
    ``loop="script"`` each twin is compiled with ``torch.jit.script``.
    """
    def twin(layer: nn.Module) -> nn.Module:
        new = to_export_layer(layer, loop)
        return torch.jit.script(new) if loop == "script" else new

    if is_recurrent(root):
        return twin(root), 1
    count = 0
    for name, child in list(root.named_children()):
        if is_recurrent(child):
            setattr(root, name, twin(child))
            count += 1
        else:
            _, n = replace_recurrent(child, loop)
            count += n
    return root, count
