r"""Convolutional recurrent cells: ConvLSTMCell (Shi et al. 2015) and ConvGRUCell.

The state is a stack of feature maps ``(B, C_h, H, W)`` and every matrix
product of the LSTM becomes a 2-D convolution ``*`` with "same" padding, so
a cell sees a k×k neighbourhood of the input frame and of its own state.
Notation as in ``lstmkit.kernels.spec`` (⊙ the Hadamard product):

.. math::
    a_t = W_x * x_t + W_h * (m ⊙ h_{t-1}) + b \qquad (4 C_h channels: i|f|g|o) \\
    i_t = σ(a^i_t + w_{ci} ⊙ c_{t-1}),\quad f_t = σ(a^f_t + w_{cf} ⊙ c_{t-1}) \\
    g_t = \tanh(a^g_t),\qquad c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t \\
    o_t = σ(a^o_t + w_{co} ⊙ c_t),\qquad h_t = o_t ⊙ \tanh(c_t)

``m`` is the recurrent-dropout mask (one per sequence, Gal & Ghahramani
2016; all ones without it). The peephole terms ``w_c· ⊙ c`` (Hadamard
weights on the cell maps, as in Shi et al.) are there only with
``peephole=True``: ``weight_ch`` has shape ``(3, C_h, H, W)`` when
``frame_size=(H, W)`` is given (one weight per channel and pixel, the
paper's form) and ``(3, C_h, 1, 1)`` otherwise (one per channel, any frame
size). ``norm="layer"`` / ``"group"`` normalises each gate's
pre-activation ``a`` (over its C_h·H·W values, or over ``norm_groups``
groups of channels) and ``c_t`` before the output tanh (Ba et al. 2016; Wu &
He 2018). ``forget_bias`` starts ``b_f`` at that value. ``zoneout=p`` keeps
each unit's previous value with probability p (Krueger et al. 2016;
``c_t = z ⊙ c_{t-1} + (1 - z) ⊙ c̃_t``, z = p at evaluation).

ConvGRUCell (Ballas et al. 2016), torch's reset-after convention:

.. math::
    r_t = σ(W_{xr} * x_t + W_{hr} * h_{t-1} + b_r),\quad z_t = σ(W_{xz} * x_t + W_{hz} * h_{t-1} + b_z) \\
    n_t = \tanh(W_{xn} * x_t + b_{xn} + r_t ⊙ (W_{hn} * h_{t-1} + b_{hn})),\quad
    h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}

Two paths compute the same step: the reference (one convolution of the
input, one of the state, as written above) and the fused path (``fused=True``,
the default): one convolution of the channel-concatenated ``[x_t, m ⊙ h_{t-1}]``
with the concatenated weights, in the channels-last memory layout. Parameters
are the same for both (``weight_ih`` (G·C_h, C_in, k, k), ``weight_hh``
(G·C_h, C_h, k, k), ``bias_ih``, ``bias_hh`` (G·C_h)); the fused weight is
built from them per call (``fused_weight()``, once per sequence in the layers).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.cells.base import add_gate_parameters
from lstmkit.checks import check_tensor, positive_int, probability, zoneout_rates

NORMS = ("none", "layer", "group")
EPS = 1e-5


def kernel_pair(kernel_size: object) -> tuple[int, int]:
    """``k`` or ``(kh, kw)``, odd and positive (for "same" padding) -> ``(kh, kw)``."""
    pair = tuple(kernel_size) if isinstance(kernel_size, (tuple, list)) else (kernel_size, kernel_size)
    if len(pair) != 2:
        raise ValueError(f"kernel_size: expected k or (kh, kw), got {kernel_size!r}")
    for k in pair:
        positive_int("kernel_size", k)
        if k % 2 == 0:
            raise ValueError(f"kernel_size: expected odd sizes ('same' padding), got {kernel_size!r}")
    return pair  # type: ignore[return-value]


def check_frames(name: str, x: object, channels: int, dtype: torch.dtype, device: torch.device,
                 rank: int = 4, layout: str = "(B, C, H, W)") -> Tensor:
    """A batch of frames of the right rank, channel count, dtype and device, with non-empty maps."""
    x = check_tensor(name, x, dtype, device)
    if x.dim() != rank:
        raise ValueError(f"{name}: expected a {rank}-D tensor {layout}, got {x.dim()}-D with shape "
                         f"{tuple(x.shape)}")
    if x.shape[-3] != channels:
        raise ValueError(f"{name}: expected {channels} channels (dimension -3), got {x.shape[-3]}")
    if x.shape[-1] < 1 or x.shape[-2] < 1:
        raise ValueError(f"{name}: expected frames of at least 1x1 pixels, got {tuple(x.shape[-2:])}")
    return x


class _ConvCellBase(nn.Module):
    """Weights, initialisation, masks and the two convolution paths shared by the conv cells."""

    num_gates = 4

    def __init__(self, in_channels: int, hidden_channels: int, kernel_size: object = 3,
                 bias: bool = True, device: Any = None, dtype: Any = None, *,
                 zoneout: float | tuple[float, float] = 0.0, recurrent_dropout: float = 0.0,
                 fused: bool = True) -> None:
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.in_channels = positive_int("in_channels", in_channels)
        self.hidden_channels = positive_int("hidden_channels", hidden_channels)
        self.kernel_size = kernel_pair(kernel_size)
        self.padding = (self.kernel_size[0] // 2, self.kernel_size[1] // 2)
        self.bias = bool(bias)
        self.fused = bool(fused)
        self.zoneout_c, self.zoneout_h = zoneout_rates(zoneout)
        self.recurrent_dropout = probability("recurrent_dropout", recurrent_dropout)
        gates, kh, kw = self.num_gates * hidden_channels, *self.kernel_size
        add_gate_parameters(self, (gates, in_channels, kh, kw), (gates, hidden_channels, kh, kw),
                            self.bias, factory)

    def _init_conv(self) -> None:
        """Convolution weights and biases from U(-1/√fan_in, 1/√fan_in), fan_in = (C_in + C_h)·kh·kw."""
        fan = (self.in_channels + self.hidden_channels) * self.kernel_size[0] * self.kernel_size[1]
        bound = 1.0 / math.sqrt(fan)
        for p in (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh):
            if p is not None:
                nn.init.uniform_(p, -bound, bound)

    # ------------------------------------------------------------------ masks and zoneout
    def recurrent_mask(self, h: Tensor) -> Tensor | None:
        """A recurrent-dropout mask shaped like ``h`` (B, C_h, H, W) for one sequence, or None."""
        if not (self.training and self.recurrent_dropout > 0):
            return None
        keep = 1.0 - self.recurrent_dropout
        return torch.empty_like(h).bernoulli_(keep) / keep

    def _zone(self, prev: Tensor, new: Tensor, rate: float) -> Tensor:
        if rate == 0:
            return new
        z = torch.full_like(new, rate)
        if self.training:
            z = z.bernoulli_(rate)  # P(z = 1) = rate: keep the previous value
        return z * prev + (1.0 - z) * new

    # ------------------------------------------------------------------ convolutions
    def _bias(self) -> Tensor | None:
        return None if self.bias_ih is None else self.bias_ih + self.bias_hh

    def fused_weight(self) -> tuple[Tensor, Tensor | None]:
        """The concatenated weight ``[W_x | W_h]`` (G·C_h, C_in + C_h, kh, kw), channels-last, and the bias."""
        w = torch.cat([self.weight_ih, self.weight_hh], dim=1)
        return w.contiguous(memory_format=torch.channels_last), self._bias()

    def _conv_fused(self, x: Tensor, h: Tensor, fused: tuple[Tensor, Tensor | None]) -> Tensor:
        xh = torch.cat([x, h], dim=1).contiguous(memory_format=torch.channels_last)
        return F.conv2d(xh, fused[0], fused[1], padding=self.padding)

    def _conv_reference(self, x: Tensor, h: Tensor) -> Tensor:
        return (F.conv2d(x, self.weight_ih, self.bias_ih, padding=self.padding)
                + F.conv2d(h, self.weight_hh, self.bias_hh, padding=self.padding))

    def _check_step(self, x: object, hx: object, n_states: int) -> tuple[Tensor, tuple[Tensor, ...]]:
        w = self.weight_ih
        x = check_frames("input", x, self.in_channels, w.dtype, w.device)
        shape = (x.shape[0], self.hidden_channels, *x.shape[2:])
        if hx is None:
            return x, tuple(x.new_zeros(shape) for _ in range(n_states))
        states = (hx,) if n_states == 1 else hx
        if n_states == 1 and not isinstance(hx, Tensor):
            raise TypeError(f"hx: expected a Tensor h, got {type(hx).__name__}")
        if n_states == 2 and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise TypeError(f"hx: expected a tuple (h, c), got {type(hx).__name__}")
        for name, t in zip(("hx[0] (h)", "hx[1] (c)") if n_states == 2 else ("hx",), states):
            check_tensor(name, t, w.dtype, w.device)
            if tuple(t.shape) != shape:
                raise ValueError(f"{name}: expected shape {shape} (batch, hidden_channels, frame), "
                                 f"got {tuple(t.shape)}")
        return x, tuple(states)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.hidden_channels}, kernel_size={self.kernel_size}"
        for name in ("zoneout_c", "zoneout_h", "recurrent_dropout"):
            if getattr(self, name):
                s += f", {name}={getattr(self, name)}"
        return s + ("" if self.fused else ", fused=False")


class ConvLSTMCell(_ConvCellBase):
    """One ConvLSTM step ``(x_t (B, C_in, H, W), (h, c)) -> (h_t, c_t)``; equations in the module docstring.

    ``forward(input, hx=None, recurrent_mask=None, return_gates=False)``; with
    ``return_gates=True`` a third result maps ``"i" "f" "g" "o"`` to the gate maps.

    >>> import torch, lstmkit
    >>> cell = lstmkit.ConvLSTMCell(1, 8, kernel_size=3, peephole=True)
    >>> h, c = cell(torch.randn(2, 1, 16, 16))
    >>> tuple(h.shape), tuple(c.shape)
    ((2, 8, 16, 16), (2, 8, 16, 16))
    """

    def __init__(self, in_channels: int, hidden_channels: int, kernel_size: object = 3,
                 bias: bool = True, device: Any = None, dtype: Any = None, *, peephole: bool = False,
                 frame_size: tuple[int, int] | None = None, norm: str = "none", norm_groups: int = 1,
                 forget_bias: float = 0.0, zoneout: float | tuple[float, float] = 0.0,
                 recurrent_dropout: float = 0.0, fused: bool = True) -> None:
        super().__init__(in_channels, hidden_channels, kernel_size, bias, device, dtype,
                         zoneout=zoneout, recurrent_dropout=recurrent_dropout, fused=fused)
        factory = {"device": device, "dtype": dtype}
        if norm not in NORMS:
            raise ValueError(f"norm: expected one of {list(NORMS)}, got {norm!r}")
        self.norm = norm
        self.norm_groups = 1 if norm == "layer" else positive_int("norm_groups", norm_groups)
        if norm == "group" and hidden_channels % self.norm_groups:
            raise ValueError(f"norm_groups: must divide hidden_channels ({hidden_channels}), got {norm_groups}")
        if isinstance(forget_bias, bool) or not isinstance(forget_bias, (int, float)) \
                or not math.isfinite(forget_bias):
            raise ValueError(f"forget_bias: expected a finite float, got {forget_bias!r}")
        if forget_bias and not bias:
            raise ValueError("forget_bias: needs bias=True (it sets the forget gate's bias)")
        self.forget_bias = float(forget_bias)
        self.peephole = bool(peephole)
        if frame_size is not None:
            if not (isinstance(frame_size, (tuple, list)) and len(frame_size) == 2):
                raise ValueError(f"frame_size: expected (H, W), got {frame_size!r}")
            frame_size = (positive_int("frame_size", frame_size[0]), positive_int("frame_size", frame_size[1]))
        self.frame_size = frame_size
        if self.peephole:
            hw = frame_size or (1, 1)
            self.weight_ch = nn.Parameter(torch.empty(3, hidden_channels, *hw, **factory))
        if norm != "none":
            self.norm_gate_weight = nn.Parameter(torch.empty(4 * hidden_channels, **factory))
            self.norm_gate_bias = nn.Parameter(torch.empty(4 * hidden_channels, **factory))
            self.norm_cell_weight = nn.Parameter(torch.empty(hidden_channels, **factory))
            self.norm_cell_bias = nn.Parameter(torch.empty(hidden_channels, **factory))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Conv weights U(-1/√fan_in, ·); peepholes 0; norm gains 1, biases 0; then ``b_f = forget_bias``."""
        self._init_conv()
        with torch.no_grad():
            if self.peephole:
                self.weight_ch.zero_()
            if self.norm != "none":
                self.norm_gate_weight.fill_(1.0), self.norm_cell_weight.fill_(1.0)
                self.norm_gate_bias.zero_(), self.norm_cell_bias.zero_()
            if self.forget_bias:
                rows = slice(self.hidden_channels, 2 * self.hidden_channels)
                self.bias_ih[rows] = self.forget_bias
                self.bias_hh[rows] = 0.0

    def step(self, x: Tensor, h: Tensor, c: Tensor, mask: Tensor | None = None,
             fused: tuple[Tensor, Tensor | None] | None = None) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        """The unchecked step: (h_t, c_t, gates); ``fused`` is ``fused_weight()`` (None: reference path)."""
        h_in = h if mask is None else h * mask
        a = self._conv_reference(x, h_in) if fused is None else self._conv_fused(x, h_in, fused)
        ch = self.hidden_channels
        if self.norm != "none":
            a = F.group_norm(a, 4 * self.norm_groups, self.norm_gate_weight, self.norm_gate_bias, EPS)
        a_i, a_f, a_g, a_o = a.split(ch, dim=1)
        if self.peephole:
            self._check_frame(x)
            w_ci, w_cf, w_co = self.weight_ch.unbind(0)
            a_i, a_f = a_i + w_ci * c, a_f + w_cf * c
        i, f, g = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.tanh(a_g)
        c_new = f * c + i * g
        if self.peephole:
            a_o = a_o + w_co * c_new
        o = torch.sigmoid(a_o)
        c_out = c_new
        if self.norm != "none":
            c_out = F.group_norm(c_new, self.norm_groups, self.norm_cell_weight, self.norm_cell_bias, EPS)
        h_new = o * torch.tanh(c_out)
        c_new = self._zone(c, c_new, self.zoneout_c)
        h_new = self._zone(h, h_new, self.zoneout_h)
        return h_new, c_new, {"i": i, "f": f, "g": g, "o": o}

    def _check_frame(self, x: Tensor) -> None:
        if self.frame_size is not None and tuple(x.shape[-2:]) != self.frame_size:
            raise ValueError(f"input: frames are {tuple(x.shape[-2:])} but the peephole weights were made "
                             f"for frame_size={self.frame_size}")

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None,
                recurrent_mask: Tensor | None = None, return_gates: bool = False) -> Any:
        x, (h, c) = self._check_step(input, hx, 2)
        if self.peephole:
            self._check_frame(x)
        fused = self.fused_weight() if self.fused else None
        h_new, c_new, gates = self.step(x, h, c, recurrent_mask, fused)
        return (h_new, c_new, gates) if return_gates else (h_new, c_new)


class ConvGRUCell(_ConvCellBase):
    """One ConvGRU step ``(x_t (B, C_in, H, W), h) -> h_t``; equations in the module docstring.

    Gates are stacked r|z|n in ``weight_ih`` / ``weight_hh`` as in ``torch.nn.GRU``.

    >>> import torch, lstmkit
    >>> tuple(lstmkit.ConvGRUCell(3, 4, kernel_size=5)(torch.randn(2, 3, 8, 8)).shape)
    (2, 4, 8, 8)
    """

    num_gates = 3

    def __init__(self, in_channels: int, hidden_channels: int, kernel_size: object = 3,
                 bias: bool = True, device: Any = None, dtype: Any = None, *,
                 zoneout: float = 0.0, recurrent_dropout: float = 0.0, fused: bool = True) -> None:
        super().__init__(in_channels, hidden_channels, kernel_size, bias, device, dtype,
                         zoneout=zoneout, recurrent_dropout=recurrent_dropout, fused=fused)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Conv weights and biases from U(-1/√fan_in, 1/√fan_in)."""
        self._init_conv()

    def fused_weight(self) -> tuple[Tensor, Tensor | None]:
        """One weight (4·C_h, C_in + C_h, kh, kw) with output blocks r, z (both inputs), x_n (input
        only) and h_n (state only), so n keeps its reset-after form; and the matching bias."""
        ch = self.hidden_channels
        w_x, w_h = self.weight_ih, self.weight_hh
        zx, zh = torch.zeros_like(w_x[:ch]), torch.zeros_like(w_h[:ch])
        w = torch.cat([torch.cat([w_x[: 2 * ch], w_h[: 2 * ch]], 1),
                       torch.cat([w_x[2 * ch:], zh], 1),
                       torch.cat([zx, w_h[2 * ch:]], 1)], 0)
        b = None
        if self.bias_ih is not None:
            b = torch.cat([self.bias_ih[: 2 * ch] + self.bias_hh[: 2 * ch], self.bias_ih[2 * ch:],
                           self.bias_hh[2 * ch:]])
        return w.contiguous(memory_format=torch.channels_last), b

    def step(self, x: Tensor, h: Tensor, mask: Tensor | None = None,
             fused: tuple[Tensor, Tensor | None] | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        """The unchecked step: (h_t, gates); ``fused`` is ``fused_weight()`` (None: reference path)."""
        ch = self.hidden_channels
        h_in = h if mask is None else h * mask
        if fused is None:
            gx = F.conv2d(x, self.weight_ih, self.bias_ih, padding=self.padding)
            gh = F.conv2d(h_in, self.weight_hh, self.bias_hh, padding=self.padding)
            rz = gx[:, : 2 * ch] + gh[:, : 2 * ch]
            xn, hn = gx[:, 2 * ch:], gh[:, 2 * ch:]
        else:
            a = self._conv_fused(x, h_in, fused)
            rz, xn, hn = a[:, : 2 * ch], a[:, 2 * ch: 3 * ch], a[:, 3 * ch:]
        r, z = torch.sigmoid(rz).split(ch, dim=1)
        n = torch.tanh(xn + r * hn)
        h_new = (1.0 - z) * n + z * h
        return self._zone(h, h_new, self.zoneout_h), {"r": r, "z": z, "n": n}

    def forward(self, input: Tensor, hx: Tensor | None = None, recurrent_mask: Tensor | None = None,
                return_gates: bool = False) -> Any:
        x, (h,) = self._check_step(input, hx, 1)
        h_new, gates = self.step(x, h, recurrent_mask, self.fused_weight() if self.fused else None)
        return (h_new, gates) if return_gates else h_new
