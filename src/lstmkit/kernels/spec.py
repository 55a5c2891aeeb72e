"""What a layer hands a kernel: the configuration, the weights and the masks.

Every backend computes the same function of these objects. The exact step each
``run_direction`` must compute, in one notation (``*`` is the Hadamard
product, ``σ`` the logistic sigmoid, ``a`` the gate pre-activations)::

    LSTM   a   = x_t W_ihᵀ + b_ih + (h_{t-1} * m_rec) W_hhᵀ + b_hh        (B, G·H)
           a   = LN_g(a)                     per gate over H, if layer_norm
           i   = σ(a_i + w_ci * c_{t-1})      (i = 1 - f if coupled_gates)
           f   = σ(a_f + w_cf * c_{t-1})
           g   = tanh(a_g)
           c̃   = f * c_{t-1} + i * g
           o   = σ(a_o + w_co * c̃)            (w_c· only with peephole)
           h̃   = o * tanh(LN_c(c̃))            (LN_c only with layer_norm)
           h̃   = h̃ W_hrᵀ                      (only with proj_size > 0)
           c_t = z_c * c_{t-1} + (1 - z_c) * c̃      (zoneout; z = 0 without)
           h_t = z_h * h_{t-1} + (1 - z_h) * h̃
           y_t = h_t

    GRU    gi  = x_t W_ihᵀ + b_ih                                         gates r|z|n
           gh  = (h_{t-1} * m_rec) W_hhᵀ + b_hh
           r   = σ(gi_r + gh_r),  z = σ(gi_z + gh_z)
           n   = tanh(gi_n + r * gh_n)                       (reset_after=True)
           n   = tanh(gi_n + (r * h_{t-1} * m_rec) W_hnᵀ + b_hn)   (reset_after=False)
           h̃   = (1 - z) * n + z * h_{t-1}
           h_t = z_h * h_{t-1} + (1 - z_h) * h̃

    RNN    h̃   = act(x_t W_ihᵀ + b_ih + (h_{t-1} * m_rec) W_hhᵀ + b_hh)   act = tanh | relu
           h_t = z_h * h_{t-1} + (1 - z_h) * h̃

With ``lengths``, a sequence ``b`` only steps while ``t < lengths[b]``: its state
is carried unchanged elsewhere and its output there is exactly zero. The
reverse direction walks ``t = T-1 … 0`` under the same rule, so it starts at
each sequence's own last valid step.

Layer-norm LN(v) = (v - mean(v)) / sqrt(var(v) + eps) * gain + bias, with the
biased variance over the last dimension and eps = 1e-5.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch
from torch import Tensor

MODES = ("LSTM", "GRU", "RNN_TANH", "RNN_RELU")
LN_EPS = 1e-5


@dataclass(frozen=True)
class CellSpec:
    """The computational structure of one step (see the module docstring).

    mode: one of ``MODES``.
    hidden_size: H, the size of the cell state (and of h without projection).
    proj_size: if > 0 (LSTM only), h is projected to this size by W_hr.
    bias: whether b_ih and b_hh exist.
    peephole, coupled_gates, layer_norm: LSTM options.
    reset_after: GRU convention (True: torch/cuDNN; False: Cho et al. 2014).
    """

    mode: str
    hidden_size: int
    proj_size: int = 0
    bias: bool = True
    peephole: bool = False
    coupled_gates: bool = False
    layer_norm: bool = False
    reset_after: bool = True

    @property
    def num_gates(self) -> int:
        """G: gate blocks stacked on dim 0 of W_ih (i|f|g|o, f|g|o with CIFG, r|z|n, 1)."""
        if self.mode == "LSTM":
            return 3 if self.coupled_gates else 4
        return 3 if self.mode == "GRU" else 1

    @property
    def kind(self) -> int:
        """The GRU / RNN kind code of the fused kernels: 0 GRU reset-after, 1 GRU
        reset-before, 2 RNN tanh, 3 RNN relu."""
        if self.mode == "GRU":
            return 0 if self.reset_after else 1
        return 2 if self.mode == "RNN_TANH" else 3

    @property
    def out_size(self) -> int:
        """The size of h (and of the output): proj_size if set, else hidden_size."""
        return self.proj_size if self.proj_size > 0 else self.hidden_size

    @property
    def has_cell(self) -> bool:
        return self.mode == "LSTM"


@dataclass(frozen=True)
class LayerSpec:
    """A whole (possibly stacked, bidirectional, regularised) recurrent layer.

    dropout: between stacked layers (on every layer's output but the last).
    recurrent_dropout: one mask per sequence on h_{t-1} in the recurrent product.
    zoneout_c, zoneout_h: zoneout rates (evaluation uses the expectation).
    weight_drop: DropConnect rate on weight_hh.
    residual: add a layer's input to its output when the widths match (layers >= 1).
    """

    cell: CellSpec
    input_size: int
    num_layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0
    recurrent_dropout: float = 0.0
    zoneout_c: float = 0.0
    zoneout_h: float = 0.0
    weight_drop: float = 0.0
    residual: bool = False

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def layer_input_size(self, layer: int) -> int:
        return self.input_size if layer == 0 else self.cell.out_size * self.num_directions

    def for_evaluation(self) -> "LayerSpec":
        """The same layer in evaluation mode: dropout, recurrent dropout and weight drop
        act only in training, so they are dropped from the spec (and a backend that
        lacks them, torch's own, can run it); zoneout stays (evaluation blends with
        its expectation)."""
        if not (self.dropout or self.recurrent_dropout or self.weight_drop):
            return self
        return replace(self, dropout=0.0, recurrent_dropout=0.0, weight_drop=0.0)


@dataclass
class DirParams:
    """The weights of one layer and direction, in torch.nn's layout.

    w_ih (G·H, I), w_hh (G·H, H_out), b_ih / b_hh (G·H) or None, w_hr (H_out, H)
    or None, w_ch (3, H) peephole weights in the order i, f, o or None,
    ln_gates_weight / ln_gates_bias (G·H) and ln_cell_weight / ln_cell_bias (H)
    or None. ``w_hh`` already has weight drop applied.
    """

    w_ih: Tensor
    w_hh: Tensor
    b_ih: Tensor | None = None
    b_hh: Tensor | None = None
    w_hr: Tensor | None = None
    w_ch: Tensor | None = None
    ln_gates_weight: Tensor | None = None
    ln_gates_bias: Tensor | None = None
    ln_cell_weight: Tensor | None = None
    ln_cell_bias: Tensor | None = None


@dataclass
class StepMasks:
    """Random (or expected) masks of one layer and direction.

    recurrent: (B, H_out), multiplied into h_{t-1} before W_hh; already scaled
        by 1 / (1 - p). None when off.
    zoneout_c: (T, B, H), zoneout_h: (T, B, H_out): the z in the equations,
        1 keeps the previous value. In training a Bernoulli(p) draw; in
        evaluation the constant p (the expectation). None when off.
    """

    recurrent: Tensor | None = None
    zoneout_c: Tensor | None = None
    zoneout_h: Tensor | None = None


@dataclass
class DirResult:
    """What ``run_direction`` returns.

    y: (T, B, H_out), zero past each length. h_n: (B, H_out). c_n: (B, H) or None.
    gates: when asked, name -> (T, B, H) per step (LSTM: i, f, g, o, c;
    GRU: r, z, n; RNN: none) plus "h" (T, B, H_out); else None.
    """

    y: Tensor
    h_n: Tensor
    c_n: Tensor | None
    gates: dict[str, Tensor] | None = None


@dataclass
class StackResult:
    """A whole layer's result, in torch's layouts (time-major).

    output (T, B, D·H_out); h_n (L·D, B, H_out); c_n (L·D, B, H) or None;
    gates: per layer and direction, key "l{k}" or "l{k}_reverse".
    """

    output: Tensor
    h_n: Tensor
    c_n: Tensor | None
    gates: dict[str, dict[str, Tensor]] | None = field(default=None)


def lengths_mask(lengths: Tensor | None, t: int) -> Tensor | None:
    """(B, 1) bool: which sequences are still running at step t."""
    if lengths is None:
        return None
    return (lengths > t).unsqueeze(1)


def as_lengths(lengths: Tensor | None, device: torch.device) -> Tensor | None:
    return None if lengths is None else lengths.to(device=device, dtype=torch.long)
