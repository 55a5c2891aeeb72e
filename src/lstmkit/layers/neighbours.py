r"""The LSTM's neighbours as comparison baselines: a causal Transformer and a diagonal state-space layer.

Both take the lstmkit layer signature ``(input_size, hidden_size, num_layers=1,
batch_first=False)`` and run ``forward(x, state=None, lengths=None) -> (output,
state)`` so that a benchmark can swap them for :class:`lstmkit.LSTM`. They are
baselines for ``benchmarks/kin.py``, not members of the LSTM family, and they
are not exported from the top-level package.

:class:`CausalTransformer` (Vaswani et al. 2017, decoder-only use): the input is
projected to ``d = hidden_size``, sinusoidal positions are added,

.. math::
    PE_{t, 2i} = \sin(t / 10000^{2i/d}),\quad PE_{t, 2i+1} = \cos(t / 10000^{2i/d}),

and ``num_layers`` pre-norm ``torch.nn.TransformerEncoderLayer`` blocks run
under a causal mask (position ``t`` attends to ``s <= t``), then a final
LayerNorm. The streaming state is the key/value cache: per layer the keys and
values of every past position, so one step costs ``O(t d)`` and the state grows
with ``t`` (the LSTM's is constant).

:class:`DiagonalSSM` (LRU-style, Orvieto et al. 2023; S4D-like diagonal
recurrence): each layer is ``x + GLU(GELU(SSM(LayerNorm(x))))`` with the
complex diagonal linear recurrence

.. math::
    λ = \exp(-e^{ν} + i e^{θ}),\quad γ = \sqrt{1 - |λ|^2}  \\
    h_t = λ ⊙ h_{t-1} + γ ⊙ (B u_t),\qquad y_t = \mathrm{Re}(C h_t) + D ⊙ u_t

(``h`` complex of size ``state_size``). The parallel form unrolls it as the
causal convolution ``h_t = Σ_{s<=t} λ^{t-s} γ B u_s + λ^{t+1} h_{-1}``, computed
with an FFT of length ``2L``; the recurrent form runs the loop. Both give the
same outputs (tests/layers/test_neighbours.py).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

__all__ = ["CausalTransformer", "DiagonalSSM", "sinusoidal_positions"]


def _check_sizes(input_size: int, hidden_size: int, num_layers: int) -> None:
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size),
                        ("num_layers", num_layers)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")


def sinusoidal_positions(start: int, length: int, dim: int, dtype=torch.float32) -> Tensor:
    """Positions ``start .. start + length - 1`` as (length, dim) sinusoids (module docstring)."""
    t = torch.arange(start, start + length, dtype=torch.float64).unsqueeze(1)
    freq = torch.exp(-math.log(10000.0) * torch.arange(0, dim, 2, dtype=torch.float64) / dim)
    pe = torch.zeros(length, dim, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(t * freq)
    pe[:, 1::2] = torch.cos(t * freq)[:, : dim // 2]
    return pe.to(dtype)


class CausalTransformer(nn.Module):
    """A small decoder-only Transformer with the lstmkit layer signature (module docstring).

    ``state`` is the key/value cache ``(k, v)``, each (num_layers, N, nhead, S,
    head_dim) for ``S`` positions seen so far; pass it back to continue the
    sequence (one step or a chunk at a time). ``lengths`` only matters for the
    returned cache: outputs are causal, so padding after a sequence's end never
    reaches its earlier outputs; a cache from unequal lengths would hold padding,
    so it is refused (``need_state=False`` skips the cache, e.g. for training).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 batch_first: bool = False, nhead: int = 4, dim_feedforward: int | None = None,
                 dropout: float = 0.0) -> None:
        super().__init__()
        _check_sizes(input_size, hidden_size, num_layers)
        if hidden_size % nhead or hidden_size % 2:
            raise ValueError(f"hidden_size ({hidden_size}) must be even and divisible by nhead ({nhead})")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.batch_first, self.nhead = batch_first, nhead
        self.proj = nn.Linear(input_size, hidden_size)
        block = nn.TransformerEncoderLayer(hidden_size, nhead, dim_feedforward or 4 * hidden_size,
                                           dropout, activation="gelu", batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(block, num_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(hidden_size)

    def forward(self, x: Tensor, state: tuple[Tensor, Tensor] | None = None,
                lengths: Tensor | None = None, need_state: bool = True):
        """x (L, N, input) or (N, L, input) if batch_first -> (output, (k, v) cache or None)."""
        if x.dim() != 3 or x.shape[-1] != self.input_size:
            raise ValueError(f"x must be 3-D with {self.input_size} features, got {tuple(x.shape)}")
        if not self.batch_first:
            x = x.transpose(0, 1)
        N, L, _ = x.shape
        if need_state and lengths is not None and bool((torch.as_tensor(lengths) != L).any()):
            raise ValueError("a key/value cache from unequal lengths would hold padding; "
                             "pass need_state=False or equal lengths")
        offset = 0 if state is None else state[0].shape[3]
        h = self.proj(x) + sinusoidal_positions(offset, L, self.hidden_size, x.dtype).to(x.device)
        if state is None:
            h, cache = self._parallel(h, need_state)
        else:
            h, cache = self._cached(h, state)
        out = self.norm(h)
        if not self.batch_first:
            out = out.transpose(0, 1)
        return out, cache

    def _kv(self, layer: nn.TransformerEncoderLayer, h: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """q, k, v of ``norm1(h)``, each (N, nhead, L, head_dim)."""
        N, L, d = h.shape
        qkv = F.linear(layer.norm1(h), layer.self_attn.in_proj_weight, layer.self_attn.in_proj_bias)
        q, k, v = qkv.view(N, L, 3, self.nhead, d // self.nhead).permute(2, 0, 3, 1, 4)
        return q, k, v

    def _parallel(self, h: Tensor, need_state: bool):
        L = h.shape[1]
        mask = nn.Transformer.generate_square_subsequent_mask(L, device=h.device, dtype=h.dtype)
        ks, vs = [], []
        for layer in self.encoder.layers:
            if need_state:
                _, k, v = self._kv(layer, h)
                ks.append(k)
                vs.append(v)
            h = layer(h, src_mask=mask, is_causal=True)
        return h, ((torch.stack(ks), torch.stack(vs)) if need_state else None)

    def _cached(self, h: Tensor, state: tuple[Tensor, Tensor]):
        """The same blocks computed by hand against the cache (what a decoder does per step)."""
        k_cache, v_cache = state
        N, L, d = h.shape
        S = k_cache.shape[3]
        allowed = torch.arange(S + L, device=h.device) <= (S + torch.arange(L, device=h.device)).unsqueeze(1)
        ks, vs = [], []
        for i, layer in enumerate(self.encoder.layers):
            q, k, v = self._kv(layer, h)
            k = torch.cat([k_cache[i], k], dim=2)
            v = torch.cat([v_cache[i], v], dim=2)
            ks.append(k)
            vs.append(v)
            att = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)  # (N, heads, L, hd)
            h = h + layer.self_attn.out_proj(att.transpose(1, 2).reshape(N, L, d))
            h = h + layer.linear2(layer.activation(layer.linear1(layer.norm2(h))))
        return h, (torch.stack(ks), torch.stack(vs))


class _LRU(nn.Module):
    """One diagonal complex linear recurrence (module docstring), input and output width ``H``."""

    def __init__(self, H: int, N: int, r_min: float, r_max: float, max_phase: float) -> None:
        super().__init__()
        u1, u2 = torch.rand(N), torch.rand(N)
        # |λ| uniform on the ring r_min <= |λ| <= r_max (Orvieto et al. 2023, Lemma 3.2).
        nu = -0.5 * torch.log(u1 * (r_max**2 - r_min**2) + r_min**2)
        self.nu_log = nn.Parameter(torch.log(nu))
        self.theta_log = nn.Parameter(torch.log(max_phase * u2))
        self.B_re = nn.Parameter(torch.randn(N, H) / math.sqrt(2 * H))
        self.B_im = nn.Parameter(torch.randn(N, H) / math.sqrt(2 * H))
        self.C_re = nn.Parameter(torch.randn(H, N) / math.sqrt(N))
        self.C_im = nn.Parameter(torch.randn(H, N) / math.sqrt(N))
        self.D = nn.Parameter(torch.randn(H))

    def log_lam(self) -> Tensor:
        return torch.complex(-torch.exp(self.nu_log), torch.exp(self.theta_log))

    def lam(self) -> Tensor:
        return torch.exp(self.log_lam())

    def inputs(self, x: Tensor) -> Tensor:
        """``γ ⊙ (B x_t)``: (N_batch, L, H) real -> (N_batch, L, N) complex."""
        gamma = torch.sqrt(1 - self.lam().abs() ** 2)
        B = torch.complex(self.B_re, self.B_im) * gamma.unsqueeze(1)
        return torch.complex(x, torch.zeros_like(x)) @ B.transpose(0, 1)

    def readout(self, h: Tensor, x: Tensor) -> Tensor:
        return (h @ torch.complex(self.C_re, self.C_im).transpose(0, 1)).real + self.D * x

    def parallel(self, x: Tensor, h0: Tensor) -> Tensor:
        """All states h_t (N_batch, L, N) by FFT convolution with the kernel λ^k."""
        L = x.shape[1]
        u = self.inputs(x)
        k = torch.arange(L + 1, device=x.device, dtype=x.dtype).unsqueeze(1)
        powers = torch.exp(k * self.log_lam().unsqueeze(0))  # λ^k, (L+1, N)
        n = 2 * L
        h = torch.fft.ifft(torch.fft.fft(u, n=n, dim=1) * torch.fft.fft(powers[:L], n=n, dim=0), dim=1)
        return h[:, :L] + powers[1:] * h0.unsqueeze(1)

    def recurrent(self, x: Tensor, h0: Tensor) -> Tensor:
        """All states h_t by the loop ``h_t = λ h_{t-1} + γ B x_t`` (the streaming form)."""
        u, lam, h, hs = self.inputs(x), self.lam(), h0, []
        for t in range(x.shape[1]):
            h = lam * h + u[:, t]
            hs.append(h)
        return torch.stack(hs, dim=1)


class DiagonalSSM(nn.Module):
    """A stack of LRU-style diagonal state-space blocks with the lstmkit layer signature.

    ``state`` is the complex state (num_layers, N, state_size) after the last
    step (after step ``lengths[n] - 1`` for sequence ``n`` when ``lengths`` is
    given). ``mode="parallel"`` (FFT, for training) and ``mode="recurrent"``
    (the loop, for streaming) compute the same function. ``r_min``/``r_max``
    bound ``|λ|`` at initialisation (the LRU's ring, here 0.9..0.999 for long
    memory), ``max_phase`` bounds its angle.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 batch_first: bool = False, state_size: int | None = None, r_min: float = 0.9,
                 r_max: float = 0.999, max_phase: float = math.pi / 10) -> None:
        super().__init__()
        _check_sizes(input_size, hidden_size, num_layers)
        if not 0.0 <= r_min < r_max < 1.0:
            raise ValueError(f"need 0 <= r_min < r_max < 1, got {r_min}, {r_max}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.batch_first = batch_first
        self.state_size = state_size or hidden_size
        self.proj = nn.Linear(input_size, hidden_size)
        self.norms = nn.ModuleList(nn.LayerNorm(hidden_size) for _ in range(num_layers))
        self.ssms = nn.ModuleList(_LRU(hidden_size, self.state_size, r_min, r_max, max_phase)
                                  for _ in range(num_layers))
        self.glus = nn.ModuleList(nn.Linear(hidden_size, 2 * hidden_size) for _ in range(num_layers))

    def forward(self, x: Tensor, state: Tensor | None = None, lengths: Tensor | None = None,
                mode: str = "parallel"):
        """x (L, N, input) or (N, L, input) if batch_first -> (output, state)."""
        if mode not in ("parallel", "recurrent"):
            raise ValueError(f"mode must be 'parallel' or 'recurrent', got {mode!r}")
        if x.dim() != 3 or x.shape[-1] != self.input_size:
            raise ValueError(f"x must be 3-D with {self.input_size} features, got {tuple(x.shape)}")
        if not self.batch_first:
            x = x.transpose(0, 1)
        N, L, _ = x.shape
        if state is None:
            state = torch.zeros(self.num_layers, N, self.state_size, dtype=torch.complex64
                                if x.dtype != torch.float64 else torch.complex128, device=x.device)
        last = (torch.as_tensor(lengths, device=x.device).long() - 1) if lengths is not None \
            else torch.full((N,), L - 1, device=x.device)
        h, finals = self.proj(x), []
        for i in range(self.num_layers):
            z = self.norms[i](h)
            run = self.ssms[i].parallel if mode == "parallel" else self.ssms[i].recurrent
            states = run(z, state[i])
            finals.append(states[torch.arange(N), last])
            y = F.gelu(self.ssms[i].readout(states, z))
            h = h + F.glu(self.glus[i](y), dim=-1)
        out = h if self.batch_first else h.transpose(0, 1)
        return out, torch.stack(finals)
