"""LSTM, GRU and RNN layers: drop-in replacements for torch.nn.LSTM / GRU / RNN.

Same constructor arguments, same parameter names and shapes
(``weight_ih_l{k}{_reverse}``, gates stacked on dim 0), same inputs (batched,
unbatched, PackedSequence, optional initial state) and same outputs. With the
default options a module computes exactly what torch.nn computes; the options
beyond torch are keyword-only and off by default. The step equations are in
``lstmkit.kernels.spec``; the layer only validates, lays out and dispatches.

Shapes (N batch, L sequence length, D = 2 if bidirectional else 1):

    ====================  =========================================
    input                 (L, N, H_in), (N, L, H_in) if batch_first, or (L, H_in)
    h_0, h_n              (num_layers·D, N, H_out), or (num_layers·D, H_out)
    c_0, c_n (LSTM)       (num_layers·D, N, H_cell)
    output                (L, N, D·H_out), (N, L, D·H_out) if batch_first
    ====================  =========================================

H_cell = hidden_size; H_out = proj_size if proj_size > 0 else hidden_size.

>>> import torch, lstmkit
>>> lstm = lstmkit.LSTM(input_size=10, hidden_size=20, num_layers=2, batch_first=True)
>>> output, (h_n, c_n) = lstm(torch.randn(3, 5, 10))
>>> tuple(output.shape), tuple(h_n.shape), tuple(c_n.shape)
((3, 5, 20), (2, 3, 20), (2, 3, 20))
"""

from __future__ import annotations

import math
from typing import Any, Generic, Literal, TypeVar, overload

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from lstmkit import init as rinit
from lstmkit.checks import (
    check_sequence,
    check_shape,
    check_tensor,
    positive_int,
    probability,
    time_major,
    zoneout_rates,
)
from lstmkit.kernels import registry
from lstmkit.kernels.spec import CellSpec, DirParams, LayerSpec

State = TypeVar("State", Tensor, tuple[Tensor, Tensor])
"""The recurrent state: ``(h, c)`` for the LSTM, ``h`` for the GRU and the RNN."""
Gates = dict[str, dict[str, Tensor]]
"""Per layer and direction (``"l0"``, ``"l0_reverse"``, ...): gate name -> per-step values."""


class RecurrentBase(nn.Module, Generic[State]):
    """The shared machinery of LSTM, GRU and RNN (see the module docstring)."""

    mode: str = "LSTM"

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
        *,
        peephole: bool = False,
        coupled_gates: bool = False,
        layer_norm: bool = False,
        reset_after: bool = True,
        forget_bias: float = 0.0,
        chrono_init: float | None = None,
        recurrent_dropout: float = 0.0,
        zoneout: float | tuple[float, float] = 0.0,
        weight_drop: float = 0.0,
        residual: bool = False,
        backend: str = "auto",
    ) -> None:
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.mode = mode
        self.input_size = positive_int("input_size", input_size)
        self.hidden_size = positive_int("hidden_size", hidden_size)
        self.num_layers = positive_int("num_layers", num_layers)
        self.proj_size = positive_int("proj_size", proj_size, minimum=0)
        if self.proj_size >= self.hidden_size:
            raise ValueError(
                f"proj_size: expected 0 <= proj_size < hidden_size ({hidden_size}), got {proj_size}"
            )
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = probability("dropout", dropout)
        self.bidirectional = bool(bidirectional)
        self.backend = registry.check_name(backend)
        registry.preload()  # no import inside a traced forward
        zc, zh = zoneout_rates(zoneout)
        if mode != "LSTM":
            zc = 0.0
        if chrono_init is not None and not 2 < chrono_init < math.inf:
            raise ValueError(f"chrono_init: expected a finite T_max > 2, got {chrono_init!r}")
        if isinstance(forget_bias, bool) or not isinstance(forget_bias, (int, float)):
            raise TypeError(f"forget_bias: expected a float, got {type(forget_bias).__name__} {forget_bias!r}")
        if not math.isfinite(forget_bias):
            raise ValueError(f"forget_bias: expected a finite float, got {forget_bias!r}")
        if (forget_bias or chrono_init is not None) and not self.bias:
            raise ValueError("forget_bias / chrono_init: need bias=True (they set gate biases)")
        self.spec = LayerSpec(
            cell=CellSpec(
                mode=mode,
                hidden_size=self.hidden_size,
                proj_size=self.proj_size,
                bias=self.bias,
                peephole=bool(peephole),
                coupled_gates=bool(coupled_gates),
                layer_norm=bool(layer_norm),
                reset_after=bool(reset_after),
            ),
            input_size=self.input_size,
            num_layers=self.num_layers,
            bidirectional=self.bidirectional,
            dropout=self.dropout,
            recurrent_dropout=probability("recurrent_dropout", recurrent_dropout),
            zoneout_c=zc,
            zoneout_h=zh,
            weight_drop=probability("weight_drop", weight_drop),
            residual=bool(residual),
        )
        self.forget_bias = float(forget_bias)
        self.chrono_init = chrono_init
        cell = self.spec.cell
        gates, hid, out = cell.num_gates * hidden_size, hidden_size, cell.out_size
        suffixes = ["", "_reverse"][: self.spec.num_directions]
        # torch.nn's names and order first, so a seeded module draws torch's weights
        self._flat_weights_names: list[str] = []
        for k in range(num_layers):
            for s in suffixes:
                shapes = {
                    f"weight_ih_l{k}{s}": (gates, self.spec.layer_input_size(k)),
                    f"weight_hh_l{k}{s}": (gates, out),
                }
                if bias:
                    shapes[f"bias_ih_l{k}{s}"] = (gates,)
                    shapes[f"bias_hh_l{k}{s}"] = (gates,)
                if self.proj_size > 0:
                    shapes[f"weight_hr_l{k}{s}"] = (out, hid)
                for name, shape in shapes.items():
                    setattr(self, name, nn.Parameter(torch.empty(shape, **factory)))
                    self._flat_weights_names.append(name)
        for k in range(num_layers):
            for s in suffixes:
                if cell.peephole:
                    setattr(self, f"weight_ch_l{k}{s}", nn.Parameter(torch.empty(3, hid, **factory)))
                if cell.layer_norm:
                    for name, width in (("ln_gate", gates), ("ln_cell", hid)):
                        setattr(self, f"{name}_weight_l{k}{s}", nn.Parameter(torch.empty(width, **factory)))
                        setattr(self, f"{name}_bias_l{k}{s}", nn.Parameter(torch.empty(width, **factory)))
        self.reset_parameters()

    # ------------------------------------------------------------------ parameters
    @property
    def _suffixes(self) -> list[str]:
        return ["", "_reverse"][: self.spec.num_directions]

    def reset_parameters(self) -> None:
        """torch's U(-1/√H, 1/√H) for every parameter, then LN gains 1, biases 0,
        then the forget-gate bias or chrono initialisation if asked for."""
        rinit.uniform_(list(self.parameters()), self.hidden_size)
        cell = self.spec.cell
        with torch.no_grad():
            for k in range(self.num_layers):
                for s in self._suffixes:
                    if cell.layer_norm:
                        for name in ("ln_gate", "ln_cell"):
                            getattr(self, f"{name}_weight_l{k}{s}").fill_(1.0)
                            getattr(self, f"{name}_bias_l{k}{s}").zero_()
                    if self.mode not in ("LSTM", "GRU") or not self.bias:
                        continue
                    b_ih, b_hh = getattr(self, f"bias_ih_l{k}{s}"), getattr(self, f"bias_hh_l{k}{s}")
                    if self.mode == "GRU":
                        if self.chrono_init is not None:
                            rinit.chrono_gru_(b_ih, b_hh, self.chrono_init, self.hidden_size)
                    elif self.chrono_init is not None:
                        rinit.chrono_(b_ih, b_hh, self.chrono_init, self.hidden_size, cell.coupled_gates)
                    elif self.forget_bias:
                        rinit.forget_bias_(b_ih, b_hh, self.forget_bias, self.hidden_size,
                                           cell.coupled_gates)

    def dir_params(self, layer: int, reverse: bool) -> DirParams:
        """The parameters of one layer and direction, as a kernel takes them."""
        s = f"l{layer}" + ("_reverse" if reverse else "")
        g = lambda name: getattr(self, f"{name}_{s}", None)  # noqa: E731
        return DirParams(
            w_ih=g("weight_ih"), w_hh=g("weight_hh"), b_ih=g("bias_ih"), b_hh=g("bias_hh"),
            w_hr=g("weight_hr"), w_ch=g("weight_ch"),
            ln_gates_weight=g("ln_gate_weight"), ln_gates_bias=g("ln_gate_bias"),
            ln_cell_weight=g("ln_cell_weight"), ln_cell_bias=g("ln_cell_bias"),
        )

    @property
    def all_weights(self) -> list[list[Tensor]]:
        """torch.nn's per-layer lists of [w_ih, w_hh, (b_ih, b_hh), (w_hr)]."""
        per = len(self._flat_weights_names) // (self.num_layers * self.spec.num_directions)
        names = self._flat_weights_names
        return [[getattr(self, n) for n in names[i : i + per]] for i in range(0, len(names), per)]

    def flatten_parameters(self) -> None:
        """No-op kept for drop-in compatibility: parameters are used as they are."""

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        defaults = {"proj_size": 0, "num_layers": 1, "bias": True, "batch_first": False,
                    "dropout": 0.0, "bidirectional": False}
        for name, default in defaults.items():
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        spec, cell = self.spec, self.spec.cell
        extras = {
            "peephole": cell.peephole, "coupled_gates": cell.coupled_gates,
            "layer_norm": cell.layer_norm, "recurrent_dropout": spec.recurrent_dropout,
            "zoneout": (spec.zoneout_c, spec.zoneout_h) if (spec.zoneout_c or spec.zoneout_h) else 0,
            "weight_drop": spec.weight_drop, "residual": spec.residual,
        }
        for name, value in extras.items():
            if value:
                s += f", {name}={value}"
        if self.backend != "auto":
            s += f", backend={self.backend!r}"
        return s

    # ------------------------------------------------------------------ forward
    @overload
    def forward(
        self,
        input: Tensor | PackedSequence,
        hx: State | None = None,
        lengths: Tensor | list[int] | None = None,
        return_gates: Literal[False] = False,
    ) -> tuple[Tensor | PackedSequence, State]: ...

    @overload
    def forward(
        self,
        input: Tensor | PackedSequence,
        hx: State | None = None,
        lengths: Tensor | list[int] | None = None,
        *,
        return_gates: Literal[True],
    ) -> tuple[Tensor | PackedSequence, State, Gates]: ...

    @overload
    def forward(
        self,
        input: Tensor | PackedSequence,
        hx: State | None,
        lengths: Tensor | list[int] | None,
        return_gates: Literal[True],
    ) -> tuple[Tensor | PackedSequence, State, Gates]: ...

    def forward(
        self,
        input: Tensor | PackedSequence,
        hx: State | None = None,
        lengths: Tensor | list[int] | None = None,
        return_gates: bool = False,
    ) -> tuple[Tensor | PackedSequence, State] | tuple[Tensor | PackedSequence, State, Gates]:
        """Run the layer. ``lengths`` (N,) gives each sequence's true length: outputs
        past it are zero and final states are taken at its last valid step.
        ``return_gates=True`` adds a third result: per layer and direction
        (``"l0"``, ``"l0_reverse"``, ...) a dict of per-step gate activations
        and states, laid out like ``output``."""
        ref = self.weight_ih_l0
        packed = isinstance(input, PackedSequence)
        if packed:
            if lengths is not None:
                raise ValueError("lengths: must be None when input is a PackedSequence")
            check_tensor("input", input.data, ref.dtype, ref.device)
            x, lens = pad_packed_sequence(input, batch_first=False)  # (T, B, I), original order
            lengths = lens
            batched, batch_first = True, False
        else:
            x, batched = time_major(input, ref.dtype, ref.device, self.batch_first)
            batch_first = self.batch_first
        lengths = check_sequence(x, self.input_size, lengths,
                                 tuple(x.shape) if packed else tuple(input.shape))
        batch = x.shape[1]
        h0, c0 = self._initial_state(hx, batch, batched, x)
        needs_grad = torch.is_grad_enabled() and (
            x.requires_grad or any(p.requires_grad for p in self.parameters()))
        spec = self.spec if self.training else self.spec.for_evaluation()  # eval: train-only options off
        backend = registry.resolve(self.backend, spec, x, return_gates, needs_grad)
        params = [self.dir_params(k, d == 1) for k in range(self.num_layers)
                  for d in range(spec.num_directions)]
        res = backend.run(spec, x, h0, c0, params, lengths, self.training, return_gates)
        output, h_n, c_n = res.output, res.h_n, res.c_n
        gates = res.gates
        if packed:
            order = input.sorted_indices
            out_sorted = output if order is None else output.index_select(1, order)
            lens_sorted = lengths.cpu() if order is None else lengths.cpu()[order.cpu()]
            data = pack_padded_sequence(out_sorted, lens_sorted, enforce_sorted=True).data
            output = PackedSequence(data, input.batch_sizes, input.sorted_indices, input.unsorted_indices)
        elif not batched:
            output, h_n = output.squeeze(1), h_n.squeeze(1)
            c_n = None if c_n is None else c_n.squeeze(1)
            gates = _map_gates(gates, lambda t: t.squeeze(1))
        elif batch_first:
            output = output.transpose(0, 1)
            gates = _map_gates(gates, lambda t: t.transpose(0, 1))
        state = (h_n, c_n) if self.mode == "LSTM" else h_n
        return (output, state, gates) if return_gates else (output, state)

    def _initial_state(
        self, hx: Any, batch: int, batched: bool, x: Tensor
    ) -> tuple[Tensor, Tensor | None]:
        rows = self.num_layers * self.spec.num_directions
        out, hid = self.spec.cell.out_size, self.hidden_size
        lstm = self.mode == "LSTM"
        if hx is None:
            h0 = x.new_zeros(rows, batch, out)
            return h0, (x.new_zeros(rows, batch, hid) if lstm else None)
        ref = self.weight_ih_l0
        if lstm:
            if not (isinstance(hx, (tuple, list)) and len(hx) == 2):
                raise TypeError(f"hx: expected a tuple (h_0, c_0) for LSTM, got {type(hx).__name__}"
                                + (f" of {len(hx)}" if isinstance(hx, (tuple, list)) else ""))
            named = [("hx[0] (h_0)", hx[0], out), ("hx[1] (c_0)", hx[1], hid)]
        else:
            if not isinstance(hx, Tensor):
                raise TypeError(f"hx: expected a Tensor h_0 for {self.mode}, got {type(hx).__name__}")
            named = [("hx (h_0)", hx, out)]
        states = []
        for name, t, size in named:
            check_tensor(name, t, ref.dtype, ref.device)
            expected = (rows, batch, size) if batched else (rows, size)
            check_shape(name, t, expected)
            states.append(t if batched else t.unsqueeze(1))
        return states[0], (states[1] if lstm else None)


def _map_gates(gates, fn):
    if gates is None:
        return None
    return {k: {n: fn(v) for n, v in d.items()} for k, d in gates.items()}


class LSTM(RecurrentBase[tuple[Tensor, Tensor]]):
    r"""Long Short-Term Memory (Hochreiter & Schmidhuber 1997, with the forget gate of
    Gers, Schmidhuber & Cummins 2000), a drop-in for ``torch.nn.LSTM``.

    .. math::
        i_t = σ(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi})  \\
        f_t = σ(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf})  \\
        g_t = \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg})  \\
        o_t = σ(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho})  \\
        c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t,\qquad h_t = o_t ⊙ \tanh(c_t)

    Options beyond torch (keyword-only, off by default):

    - ``peephole``: Gers, Schraudolph & Schmidhuber (2002): i and f also see
      ``w_ci ⊙ c_{t-1}``, ``w_cf ⊙ c_{t-1}``, o sees ``w_co ⊙ c_t``; stored as
      ``weight_ch_l{k}`` (3, hidden_size), rows i, f, o.
    - ``coupled_gates``: CIFG (Greff et al. 2017): ``i_t = 1 - f_t``; gates f|g|o.
    - ``layer_norm``: Ba, Kiros & Hinton (2016): LN on each gate's pre-activation
      and on c_t before the output tanh (``ln_gate_*``, ``ln_cell_*``).
    - ``forget_bias=b``: Jozefowicz et al. (2015); ``chrono_init=T_max``: Tallec &
      Ollivier (2018).
    - ``recurrent_dropout=p``: Gal & Ghahramani (2016), one mask per sequence on h_{t-1}.
    - ``zoneout=p`` or ``(p_c, p_h)``: Krueger et al. (2016),
      ``c_t = z ⊙ c_{t-1} + (1 - z) ⊙ c̃_t``; evaluation uses z = p.
    - ``weight_drop=p``: DropConnect on W_hh (Merity, Keskar & Socher 2017).
    - ``residual``: add each stacked layer's input to its output when widths match.
    - ``backend``: "auto" | "reference" | "native" (| kernels registered later).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device: Any = None, dtype: Any = None, **options: Any) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device, dtype, **_only(options, _LSTM_OPTIONS))


class GRU(RecurrentBase[Tensor]):
    r"""Gated Recurrent Unit (Cho et al. 2014), a drop-in for ``torch.nn.GRU``.

    .. math::
        r_t = σ(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr})  \\
        z_t = σ(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz})  \\
        n_t = \tanh(W_{in} x_t + b_{in} + r_t ⊙ (W_{hn} h_{t-1} + b_{hn}))  \\
        h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}

    ``reset_after=True`` (default) is the torch/cuDNN convention above;
    ``reset_after=False`` is Cho et al.'s original,
    ``n_t = tanh(W_in x_t + b_in + W_hn (r_t ⊙ h_{t-1}) + b_hn)``.
    ``chrono_init=T_max`` (Tallec & Ollivier 2018): the update gate z keeps the
    state, so its bias starts at ``log(u)``, ``u ~ U(1, T_max - 1)``.
    Also: ``recurrent_dropout``, ``zoneout`` (on h), ``weight_drop``, ``residual``, ``backend``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: Any = None, dtype: Any = None, **options: Any) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype, **_only(options, _GRU_OPTIONS))

    @property
    def reset_after(self) -> bool:
        return self.spec.cell.reset_after


class RNN(RecurrentBase[Tensor]):
    r"""Elman RNN, a drop-in for ``torch.nn.RNN``:
    ``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``, act = tanh or relu.

    Also: ``recurrent_dropout``, ``zoneout``, ``weight_drop``, ``residual``, ``backend``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device: Any = None,
                 dtype: Any = None, **options: Any) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity: expected 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(f"RNN_{nonlinearity.upper()}", input_size, hidden_size, num_layers, bias,
                         batch_first, dropout, bidirectional, 0, device, dtype,
                         **_only(options, _COMMON_OPTIONS))
        self.nonlinearity = nonlinearity


_COMMON_OPTIONS = ("recurrent_dropout", "zoneout", "weight_drop", "residual", "backend")
_GRU_OPTIONS = (*_COMMON_OPTIONS, "reset_after", "chrono_init")
_LSTM_OPTIONS = (*_COMMON_OPTIONS, "peephole", "coupled_gates", "layer_norm", "forget_bias",
                 "chrono_init")


def _only(options: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise TypeError(f"unexpected option(s) {unknown}; this module takes {sorted(allowed)}")
    return options
