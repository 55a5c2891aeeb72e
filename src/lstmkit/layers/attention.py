"""Attention over encoder outputs: additive (Bahdanau) and multiplicative (Luong).

Both take a decoder query q (B, H_q), encoder keys K (B, S, H_k) (also the
values) and a padding mask (B, S), True where a position is real, and return

    scores  e_s = score(q, k_s)                      (B, S)
    weights α   = softmax over the real positions     (B, S), exactly 0 where masked
    context c   = Σ_s α_s k_s                        (B, H_k)

Masked positions get exactly zero weight (their scores are excluded, not just
made very negative). Every row must keep at least one real position.

>>> import torch, lstmkit
>>> attn = lstmkit.MultiplicativeAttention(8, 8, score="general")
>>> ctx, w = attn(torch.randn(2, 8), torch.randn(2, 5, 8), torch.tensor([[1, 1, 1, 0, 0], [1] * 5]).bool())
>>> tuple(ctx.shape), w[0, 3:].tolist()
((2, 8), [0.0, 0.0])
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lstmkit.checks import positive_int


def masked_softmax(scores: Tensor, mask: Tensor | None) -> Tensor:
    """softmax over the last dimension restricted to ``mask``; masked entries are exactly 0."""
    if mask is None:
        return torch.softmax(scores, dim=-1)
    scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1).masked_fill(~mask, 0.0)


def _check(query: Tensor, keys: Tensor, mask: Tensor | None, q_size: int, k_size: int) -> None:
    if query.dim() != 2 or query.shape[1] != q_size:
        raise ValueError(f"query: expected shape (B, {q_size}), got {tuple(query.shape)}")
    if keys.dim() != 3 or keys.shape[2] != k_size or keys.shape[0] != query.shape[0]:
        raise ValueError(f"keys: expected shape ({query.shape[0]}, S, {k_size}), got {tuple(keys.shape)}")
    if mask is not None:
        if mask.dtype != torch.bool:
            raise TypeError(f"mask: expected a bool tensor (True = real position), got {mask.dtype}")
        if tuple(mask.shape) != tuple(keys.shape[:2]):
            raise ValueError(f"mask: expected shape {tuple(keys.shape[:2])}, got {tuple(mask.shape)}")
        # a value check, skipped while torch.export traces (the values are symbolic there)
        if not torch.compiler.is_exporting() and not bool(mask.any(dim=1).all()):
            raise ValueError("mask: every row needs at least one real (True) position")


class AdditiveAttention(nn.Module):
    """Bahdanau, Cho & Bengio (2015): e_s = vᵀ tanh(W_q q + W_k k_s + b).

    query_size H_q, key_size H_k, attn_size A: W_q (A, H_q), W_k (A, H_k), v (A).
    ``precompute(keys)`` returns W_k K once per source, reusable at every decoder step.
    """

    def __init__(self, query_size: int, key_size: int, attn_size: int | None = None) -> None:
        super().__init__()
        self.query_size = positive_int("query_size", query_size)
        self.key_size = positive_int("key_size", key_size)
        self.attn_size = positive_int("attn_size", attn_size or query_size)
        self.query_proj = nn.Linear(query_size, self.attn_size, bias=True)
        self.key_proj = nn.Linear(key_size, self.attn_size, bias=False)
        self.v = nn.Linear(self.attn_size, 1, bias=False)

    def precompute(self, keys: Tensor) -> Tensor:
        return self.key_proj(keys)  # (B, S, H_k) -> (B, S, A)

    def forward(self, query: Tensor, keys: Tensor, mask: Tensor | None = None,
                projected_keys: Tensor | None = None) -> tuple[Tensor, Tensor]:
        _check(query, keys, mask, self.query_size, self.key_size)
        pk = self.precompute(keys) if projected_keys is None else projected_keys
        hidden = torch.tanh(pk + self.query_proj(query).unsqueeze(1))  # (B, S, A)
        weights = masked_softmax(self.v(hidden).squeeze(2), mask)  # (B, S)
        context = torch.bmm(weights.unsqueeze(1), keys).squeeze(1)  # (B, 1, S) @ (B, S, H_k)
        return context, weights


class MultiplicativeAttention(nn.Module):
    """Luong, Pham & Manning (2015) scores:

    - ``dot``:     e_s = qᵀ k_s            (needs H_q = H_k)
    - ``general``: e_s = qᵀ W k_s          W (H_q, H_k)
    - ``concat``:  e_s = vᵀ tanh(W [q; k_s])   W (A, H_q + H_k), v (A)
    """

    SCORES = ("dot", "general", "concat")

    def __init__(self, query_size: int, key_size: int, score: str = "general",
                 attn_size: int | None = None) -> None:
        super().__init__()
        if score not in self.SCORES:
            raise ValueError(f"score: expected one of {list(self.SCORES)}, got {score!r}")
        self.query_size = positive_int("query_size", query_size)
        self.key_size = positive_int("key_size", key_size)
        self.score = score
        if score == "dot" and query_size != key_size:
            raise ValueError(f"score='dot': needs query_size == key_size, got {query_size} and {key_size}")
        if score == "general":
            self.weight = nn.Linear(key_size, query_size, bias=False)
        elif score == "concat":
            self.attn_size = positive_int("attn_size", attn_size or query_size)
            self.weight = nn.Linear(query_size + key_size, self.attn_size, bias=False)
            self.v = nn.Linear(self.attn_size, 1, bias=False)

    def forward(self, query: Tensor, keys: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        _check(query, keys, mask, self.query_size, self.key_size)
        if self.score == "concat":
            q = query.unsqueeze(1).expand(-1, keys.shape[1], -1)  # (B, H_q) -> (B, S, H_q)
            scores = self.v(torch.tanh(self.weight(torch.cat([q, keys], dim=2)))).squeeze(2)
        else:
            k = keys if self.score == "dot" else self.weight(keys)  # (B, S, H_q)
            scores = torch.bmm(k, query.unsqueeze(2)).squeeze(2)  # (B, S)
        weights = masked_softmax(scores, mask)
        context = torch.bmm(weights.unsqueeze(1), keys).squeeze(1)  # (B, H_k)
        return context, weights
