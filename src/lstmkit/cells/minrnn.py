r"""minGRU and minLSTM (Feng et al. 2024, "Were RNNs All We Needed?").

The gates see only the input ``x_t``, never ``h_{t-1}``, so the recurrence is
linear in h: ``h_t = a_t ⊙ h_{t-1} + b_t`` with ``a_t, b_t`` functions of
``x_t`` alone. Notation as ``lstmkit.kernels.spec`` (``σ`` the logistic
sigmoid, ``*``/``⊙`` the element-wise product); the rows of ``weight_ih`` are
the gate blocks in the order given::

    minGRU   (rows z|h)   z_t  = σ(W_iz x_t + b_iz)
                          h̃_t  = g(W_ih x_t + b_ih)
                          h_t  = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t

    minLSTM  (rows f|i|h) f_t  = σ(W_if x_t + b_if),  i_t = σ(W_ii x_t + b_ii)
                          f'_t = f_t / (f_t + i_t),   i'_t = i_t / (f_t + i_t)
                          h̃_t  = g(W_ih x_t + b_ih)
                          h_t  = f'_t ⊙ h_{t-1} + i'_t ⊙ h̃_t

    g(v) = v + 1/2 if v >= 0 else σ(v)       (positive, so log h̃ exists)

Two forms compute the same h (``tests/cells/test_minrnn.py`` holds them equal
in float64 to 1e-12):

- the **sequential form** (``loop``): the equations above, one step at a time,
  for streaming and for state carried between calls;
- the **parallel scan** (``scan``) in log space, with ``L_t = Σ_{s≤t} log a_s``::

      h_t = exp(L_t) ⊙ h_0 + exp(L_t + logcumsumexp_{s≤t}(log b_s - L_s))

  where for minGRU ``log a = -softplus(k_z)``, ``log b = -softplus(-k_z) + log g(k_h)``
  and for minLSTM, with ``d = softplus(-k_f) - softplus(-k_i)``,
  ``log a = -softplus(d)``, ``log b = -softplus(-d) + log g(k_h)``
  (``k_·`` the pre-activations). The ``h_0`` term stays outside the log, so any
  initial state (zero, negative) is exact. All T steps run as a few tensor
  operations; the cost is precision for very long T in float32 (``L_t`` grows
  like T), see benchmarks/min_scan.py.

>>> import torch, lstmkit
>>> cell = lstmkit.MinGRUCell(3, 4)
>>> h, state = cell(torch.randn(2, 3))
>>> tuple(h.shape), bool((state == h).all())
((2, 4), True)
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from lstmkit import init as rinit
from lstmkit.cells._family import FamilyCell, Gates, StateT, last_valid, step_mask

MODES = ("auto", "scan", "loop")


def softplus(v: Tensor) -> Tensor:
    """log(1 + e^v), exact for every v (torch's F.softplus turns linear above v = 20)."""
    return torch.logaddexp(v, torch.zeros_like(v))


def g(v: Tensor) -> Tensor:
    """g(v) = v + 1/2 for v >= 0, σ(v) otherwise: continuous, positive, increasing."""
    return torch.where(v >= 0, F.relu(v) + 0.5, torch.sigmoid(v))


def log_g(v: Tensor) -> Tensor:
    """log g(v), finite for every v (both branches are safe everywhere for the gradient)."""
    return torch.where(v >= 0, torch.log(F.relu(v) + 0.5), -softplus(-v))


def scan(log_a: Tensor, log_b: Tensor, h0: Tensor | None) -> Tensor:
    """h_t = a_t h_{t-1} + b_t for t = 1..T, in log space along dim 0 (b_t > 0).

    ``log_a``, ``log_b`` (T, B, H); ``h0`` (B, H) or None (zero) -> h (T, B, H).
    """
    cum = torch.cumsum(log_a, dim=0)  # L_t
    h = torch.exp(cum + torch.logcumsumexp(log_b - cum, dim=0))
    if h0 is not None:
        h = h + torch.exp(cum) * h0
    return h


class _MinCell(FamilyCell):
    num_blocks = 2

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None, *, mode: str = "auto", forget_bias: float = 0.0) -> None:
        super().__init__(input_size, hidden_size)
        if mode not in MODES:
            raise ValueError(f"mode: expected one of {list(MODES)}, got {mode!r}")
        if isinstance(forget_bias, bool) or not isinstance(forget_bias, (int, float)) \
                or not math.isfinite(forget_bias):
            raise ValueError(f"forget_bias: expected a finite float, got {forget_bias!r}")
        if forget_bias and not bias:
            raise ValueError("forget_bias: needs bias=True (it sets gate biases)")
        self.mode, self.forget_bias = mode, float(forget_bias)
        factory = {"device": device, "dtype": dtype}
        self._input_projection(self.num_blocks * hidden_size, bias, factory)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """U(-1/√H, 1/√H) for every parameter, as torch's recurrent layers; then, with
        ``forget_bias=b``, the gate biases that make the kept fraction of h_{t-1}
        σ(b) at a zero input (minGRU b_z = -b; minLSTM b_f = b, b_i = -b, so f' = σ(b))."""
        rinit.uniform_(list(self.parameters()), self.hidden_size)
        if self.forget_bias:
            self._set_forget_bias(self.forget_bias)

    def _set_forget_bias(self, b: float) -> None:
        raise NotImplementedError

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        s += "" if self.bias else ", bias=False"
        return s + ("" if self.mode == "auto" else f", mode={self.mode!r}")

    def coefficients(self, gi: Tensor) -> tuple[Tensor, Tensor]:
        """(log a, log b) of ``h_t = a_t h_{t-1} + b_t`` from the pre-activations."""
        raise NotImplementedError

    def sequence(self, x: Tensor, state: StateT | None = None, lengths: Tensor | None = None,
                 return_gates: bool = False) -> tuple[Tensor, StateT, Gates | None]:
        """The parallel scan or the step loop, as ``mode`` says. "auto" takes the loop on the
        CPU (there it measured as fast or faster, forward and backward, and more precise
        in float32: benchmarks/min_scan.py) and the scan on other devices."""
        if self.mode == "loop" or (self.mode == "auto" and x.device.type == "cpu"):
            return self.loop(x, state, lengths, return_gates)
        gi = self.project(x)  # (T, B, G·H)
        log_a, log_b = self.coefficients(gi)
        h = scan(log_a, log_b, None if state is None else state[0])
        final = last_valid(h, lengths)
        gates = self.gates(gi, h) if return_gates else None
        mask = step_mask(lengths, x.shape[0], x.device)
        if mask is not None:
            keep = mask.unsqueeze(-1).to(h.dtype)
            h = h * keep
            gates = None if gates is None else {k: v * keep for k, v in gates.items()}
        return h, (final,), gates

    def gates(self, gi: Tensor, h: Tensor) -> Gates:
        raise NotImplementedError


class MinGRUCell(_MinCell):
    """minGRU (see the module docstring): ``forward(x_t, h) -> (h_t, h_t)``.

    ``mode``: "scan" runs ``sequence`` as the log-space scan, "loop" as the step
    loop, "auto" the loop on the CPU and the scan on other devices. Parameters: ``weight_ih`` (2·H, I), rows z|h; ``bias_ih`` (2·H).
    """

    num_blocks = 2

    def _set_forget_bias(self, b: float) -> None:
        with torch.no_grad():
            self.bias_ih[: self.hidden_size] = -b

    def step(self, gi: Tensor, state: StateT) -> tuple[Tensor, StateT, Gates]:
        k_z, k_h = gi.chunk(2, dim=-1)
        z, h_tilde = torch.sigmoid(k_z), g(k_h)
        h = (1.0 - z) * state[0] + z * h_tilde
        return h, (h,), {"z": z, "h_tilde": h_tilde}

    def coefficients(self, gi: Tensor) -> tuple[Tensor, Tensor]:
        k_z, k_h = gi.chunk(2, dim=-1)
        return -softplus(k_z), -softplus(-k_z) + log_g(k_h)

    def gates(self, gi: Tensor, h: Tensor) -> Gates:
        k_z, k_h = gi.chunk(2, dim=-1)
        return {"z": torch.sigmoid(k_z), "h_tilde": g(k_h)}


class MinLSTMCell(_MinCell):
    """minLSTM (see the module docstring): ``forward(x_t, h) -> (h_t, h_t)``.

    The gates ``f'``, ``i'`` are normalised to sum to one (the paper's
    length-independent scaling), so h stays a convex combination of the h̃.
    Parameters: ``weight_ih`` (3·H, I), rows f|i|h; ``bias_ih`` (3·H).
    """

    num_blocks = 3

    def _set_forget_bias(self, b: float) -> None:
        with torch.no_grad():
            self.bias_ih[: self.hidden_size] = b
            self.bias_ih[self.hidden_size : 2 * self.hidden_size] = -b

    @staticmethod
    def _normalised(k_f: Tensor, k_i: Tensor) -> tuple[Tensor, Tensor]:
        f, i = torch.sigmoid(k_f), torch.sigmoid(k_i)
        return f / (f + i), i / (f + i)

    def step(self, gi: Tensor, state: StateT) -> tuple[Tensor, StateT, Gates]:
        k_f, k_i, k_h = gi.chunk(3, dim=-1)
        f, i = self._normalised(k_f, k_i)
        h_tilde = g(k_h)
        h = f * state[0] + i * h_tilde
        return h, (h,), {"f": f, "i": i, "h_tilde": h_tilde}

    def coefficients(self, gi: Tensor) -> tuple[Tensor, Tensor]:
        k_f, k_i, k_h = gi.chunk(3, dim=-1)
        d = softplus(-k_f) - softplus(-k_i)  # log(i / f)
        return -softplus(d), -softplus(-d) + log_g(k_h)

    def gates(self, gi: Tensor, h: Tensor) -> Gates:
        k_f, k_i, k_h = gi.chunk(3, dim=-1)
        f, i = self._normalised(k_f, k_i)
        return {"f": f, "i": i, "h_tilde": g(k_h)}
