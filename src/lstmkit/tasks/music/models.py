"""The networks: an LSTM over piano-roll frames with a Bernoulli or NADE output, and a voice LM.

Frame model (Boulanger-Lewandowski et al. 2012, with an LSTM as the RNN).
For frames :math:`v^{(1)}..v^{(T)} \\in \\{0,1\\}^P` the LSTM reads the
previous frame (zeros before the first):

.. math::

    h_t = \\mathrm{LSTM}(v^{(t-1)}, h_{t-1}), \\qquad
    \\log p(v^{(1..T)}) = \\sum_t \\log p(v^{(t)} \\mid h_t).

Bernoulli head (notes independent given :math:`h_t`):
:math:`p(v_d = 1 \\mid h_t) = \\sigma(b_d + U_d h_t)`.

NADE head (Larochelle & Murray 2011; RNN-NADE): notes ordered low to high,
each conditioned on the lower ones of the same frame,

.. math::

    a_d &= c(h_t) + \\textstyle\\sum_{k<d} v_k W_{k\\cdot}, \\qquad
        c(h_t) = c + C h_t \\quad (W \\in \\mathbb{R}^{P \\times K}) \\\\
    p(v_d = 1 \\mid v_{<d}, h_t) &= \\sigma\\big(b_d(h_t) + \\sigma(a_d) \\cdot V_{d\\cdot}\\big),
        \\qquad b(h_t) = b + B h_t,

so :math:`p(v \\mid h_t) = \\prod_d p(v_d \\mid v_{<d}, h_t)` is a normalised
distribution over all :math:`2^P` frames and its log is exact. Training
computes every :math:`a_d` at once with an exclusive cumulative sum.

Voice model: tokens of the interleaved voice stream (see
:mod:`~lstmkit.tasks.music.encoding`), ``x_i`` predicted from
``x_{<i}``: :math:`e_i = E[x_{i-1}] + E_v[i \\bmod 4] + E_m[\\lfloor i/4 \\rfloor \\bmod 16]`
(the token before, the voice and the sixteenth in the bar of the token to
predict), :math:`p(x_i \\mid x_{<i}) = \\mathrm{softmax}(W\\,\\mathrm{LSTM}(e)_i)`.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

import lstmkit

from .encoding import N_TOKENS

BOS = N_TOKENS  # the voice model's start token (input only)
HEADS = ("bernoulli", "nade")


class BernoulliHead(nn.Module):
    """``log_prob(h (..., H), v (..., P)) -> (...)``: independent notes."""

    def __init__(self, hidden_size: int, n_pitches: int) -> None:
        super().__init__()
        self.out = nn.Linear(hidden_size, n_pitches)

    def logits(self, h: Tensor, v: Tensor | None = None) -> Tensor:
        return self.out(h)  # (..., H) -> (..., P)

    def log_prob(self, h: Tensor, v: Tensor) -> Tensor:
        return -F.binary_cross_entropy_with_logits(self.logits(h), v, reduction="none").sum(-1)

    @torch.no_grad()
    def sample(self, h: Tensor, generator: torch.Generator | None = None,
               temperature: float = 1.0) -> Tensor:
        probs = torch.sigmoid(self.out(h) / temperature)  # (N, P)
        return torch.bernoulli(probs, generator=generator)


class NADEHead(nn.Module):
    """``log_prob(h (..., H), v (..., P)) -> (...)``: notes autoregressive within the frame."""

    def __init__(self, hidden_size: int, n_pitches: int, nade_size: int) -> None:
        super().__init__()
        self.n_pitches = n_pitches
        self.to_b = nn.Linear(hidden_size, n_pitches)  # b + B h
        self.to_c = nn.Linear(hidden_size, nade_size)  # c + C h
        self.W = nn.Parameter(torch.randn(n_pitches, nade_size) / math.sqrt(n_pitches))
        self.V = nn.Parameter(torch.randn(n_pitches, nade_size) / math.sqrt(nade_size))

    def logits(self, h: Tensor, v: Tensor) -> Tensor:
        """The logit of :math:`p(v_d = 1 | v_{<d}, h)` for every d at once, ``(..., P)``."""
        contrib = v.unsqueeze(-1) * self.W  # (..., P, 1) * (P, K) -> (..., P, K)
        before = torch.cumsum(contrib, dim=-2) - contrib  # exclusive sum over k < d
        a = self.to_c(h).unsqueeze(-2) + before  # (..., 1, K) + (..., P, K)
        return self.to_b(h) + (torch.sigmoid(a) * self.V).sum(-1)  # (..., P)

    def log_prob(self, h: Tensor, v: Tensor) -> Tensor:
        return -F.binary_cross_entropy_with_logits(self.logits(h, v), v, reduction="none").sum(-1)

    @torch.no_grad()
    def sample(self, h: Tensor, generator: torch.Generator | None = None,
               temperature: float = 1.0) -> Tensor:
        b = self.to_b(h)  # (N, P)
        a = self.to_c(h)  # (N, K)
        v = torch.zeros_like(b)
        for d in range(self.n_pitches):
            logit = b[:, d] + (torch.sigmoid(a) * self.V[d]).sum(-1)  # (N,)
            v[:, d] = torch.bernoulli(torch.sigmoid(logit / temperature), generator=generator)
            a = a + v[:, d : d + 1] * self.W[d]
        return v


class FrameModel(nn.Module):
    """LSTM over frames; ``log_prob(roll (B, T, P)) -> (B, T)`` log p of each frame."""

    def __init__(self, n_pitches: int, head: str = "nade", hidden_size: int = 256,
                 num_layers: int = 1, dropout: float = 0.3, nade_size: int = 150,
                 input_dropout: float = 0.0, zoneout: float = 0.0,
                 recurrent_dropout: float = 0.0) -> None:
        super().__init__()
        if head not in HEADS:
            raise ValueError(f"head: expected one of {HEADS}, got {head!r}")
        self.n_pitches = n_pitches
        options = {"zoneout": zoneout} if zoneout else {}
        if recurrent_dropout:
            options["recurrent_dropout"] = recurrent_dropout
        self.lstm = lstmkit.LSTM(n_pitches, hidden_size, num_layers=num_layers, batch_first=True,
                                 dropout=dropout if num_layers > 1 else 0.0, **options)
        self.drop_in = nn.Dropout(input_dropout)
        self.drop = nn.Dropout(dropout)
        self.head = (BernoulliHead(hidden_size, n_pitches) if head == "bernoulli"
                     else NADEHead(hidden_size, n_pitches, nade_size))

    def hidden(self, roll: Tensor, state=None):
        """``h_t`` from the frames before t: ``roll (B, T, P) -> (B, T, H)``."""
        prev = F.pad(roll, (0, 0, 1, 0))[:, :-1]  # (B, T, P): v^(t-1), zeros at t = 0
        out, state = self.lstm(self.drop_in(prev), state)
        return self.drop(out), state

    def log_prob(self, roll: Tensor) -> Tensor:
        h, _ = self.hidden(roll)
        return self.head.log_prob(h, roll)  # (B, T)

    def nll(self, roll: Tensor, mask: Tensor) -> Tensor:
        """Summed ``-log p`` over the frames where ``mask (B, T)`` is 1 (padding costs nothing)."""
        h, _ = self.hidden(roll)
        keep = mask.bool()
        return -self.head.log_prob(h[keep], roll[keep]).sum()  # (N, H), (N, P) -> (N,) -> ()

    @torch.no_grad()
    def sample(self, n: int, length: int, generator: torch.Generator | None = None,
               temperature: float = 1.0) -> Tensor:
        """``n`` chorales of ``length`` frames, ``(n, length, P)``, ancestral sampling."""
        frame = torch.zeros(n, 1, self.n_pitches)
        state = None
        frames = []
        for _ in range(length):
            out, state = self.lstm(frame, state)  # (n, 1, H)
            frame = self.head.sample(out[:, 0], generator, temperature).unsqueeze(1)
            frames.append(frame)
        return torch.cat(frames, dim=1)


class VoiceModel(nn.Module):
    """LSTM LM over the interleaved voice stream; ``forward(tokens (B, N)) -> logits (B, N, V)``."""

    def __init__(self, embed_size: int = 64, hidden_size: int = 256, num_layers: int = 2,
                 dropout: float = 0.3) -> None:
        super().__init__()
        self.embed = nn.Embedding(N_TOKENS + 1, embed_size)  # + BOS
        self.voice = nn.Embedding(4, embed_size)
        self.metre = nn.Embedding(16, embed_size)
        self.lstm = lstmkit.LSTM(embed_size, hidden_size, num_layers=num_layers, batch_first=True,
                                 dropout=dropout if num_layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden_size, N_TOKENS)

    def step_inputs(self, prev: Tensor, start: int) -> Tensor:
        """Embeddings of inputs ``prev (B, N)`` predicting positions ``start .. start + N - 1``."""
        pos = torch.arange(start, start + prev.shape[1], device=prev.device)  # (N,)
        return self.embed(prev) + self.voice(pos % 4) + self.metre((pos // 4) % 16)  # (B, N, E)

    def forward(self, tokens: Tensor) -> Tensor:
        prev = F.pad(tokens, (1, 0), value=BOS)[:, :-1]  # (B, N): BOS x_0 .. x_{N-2}
        out, _ = self.lstm(self.drop(self.step_inputs(prev, 0)))
        return self.out(self.drop(out))  # (B, N, V)

    def step(self, prev: Tensor, position: int, state=None):
        """One step for sampling: ``prev (B,)`` -> logits ``(B, V)`` of position ``position``."""
        out, state = self.lstm(self.step_inputs(prev.view(-1, 1), position), state)
        return self.out(out[:, 0]), state
