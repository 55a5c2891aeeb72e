"""Choosing the next token from a language model's logits.

Given logits z (V,) for the next token and a temperature τ > 0,

    p_i = exp(z_i / τ) / Σ_j exp(z_j / τ)

then, optionally,

* top-k: keep the k most probable tokens, K = {i : rank(p_i) ≤ k};
* top-p (nucleus, Holtzman et al. 2020): keep the smallest set of most
  probable tokens whose mass reaches p, N = {i : Σ_{j : p_j > p_i} p_j < p};

renormalise over what is kept and draw one token. ``greedy=True`` (or τ → 0)
takes argmax z. Ties in ranking are broken towards the lower token id, so a
token outside K or N is never drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class SamplingConfig:
    """How to generate.

    temperature: τ > 0; below 1 sharpens, above 1 flattens the distribution.
    top_k: keep only the k most probable tokens (None = all).
    top_p: keep the smallest nucleus of mass >= top_p, in (0, 1] (None = all).
    greedy: always take the most probable token (ignores the three above).
    max_length: the most tokens generated after the prime.
    stop: strings that end generation once the generated text ends with one
        (the stop string is kept in the output); the end-of-sequence token
        always stops a word/BPE model.
    seed: seed of the sampling generator (None = torch's global generator).
    """

    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    greedy: bool = False
    max_length: int = 200
    stop: tuple[str, ...] = ()
    seed: int | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.temperature, (int, float)) and self.temperature > 0):
            raise ValueError(f"temperature: expected a number > 0, received {self.temperature!r}")
        if self.top_k is not None and (not isinstance(self.top_k, int) or self.top_k < 1):
            raise ValueError(f"top_k: expected a positive integer or None, received {self.top_k!r}")
        if self.top_p is not None and not (0 < self.top_p <= 1):
            raise ValueError(f"top_p: expected a number in (0, 1] or None, received {self.top_p!r}")
        if not isinstance(self.max_length, int) or self.max_length < 1:
            raise ValueError(f"max_length: expected a positive integer, received {self.max_length!r}")
        if isinstance(self.stop, str):
            raise TypeError("stop: expected a tuple of strings, received a single str")
        if any(not isinstance(s, str) or not s for s in self.stop):
            raise ValueError(f"stop: expected non-empty strings, received {self.stop!r}")


def _rank_order(probs: Tensor) -> Tensor:
    """Indices sorting each row by probability, descending, ties towards lower ids."""
    # A stable sort on -p keeps equal probabilities in index order.
    return torch.sort(-probs, dim=-1, stable=True).indices


def filter_probs(probs: Tensor, top_k: int | None = None, top_p: float | None = None) -> Tensor:
    """Zero every probability outside the top-k set and the top-p nucleus, then renormalise.

    probs: (B, V) rows summing to 1. Returns (B, V).
    """
    if top_k is None and top_p is None:
        return probs
    order = _rank_order(probs)  # (B, V) token ids by rank
    sorted_p = probs.gather(-1, order)  # (B, V) descending
    keep_sorted = torch.ones_like(sorted_p, dtype=torch.bool)
    if top_k is not None:
        ranks = torch.arange(sorted_p.shape[-1], device=probs.device)
        keep_sorted &= ranks.unsqueeze(0) < top_k
    if top_p is not None:
        mass_before = torch.cumsum(sorted_p, dim=-1) - sorted_p  # (B, V) mass of better tokens
        keep_sorted &= mass_before < top_p
    keep_sorted[..., 0] = True  # the most probable token is always kept
    keep = torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)
    kept = probs * keep
    return kept / kept.sum(dim=-1, keepdim=True)


def next_token(logits: Tensor, config: SamplingConfig, generator: torch.Generator | None = None) -> Tensor:
    """Choose one token per row of ``logits`` (B, V); returns (B,) long."""
    if config.greedy:
        return logits.argmax(dim=-1)
    probs = torch.softmax(logits.double() / config.temperature, dim=-1)
    probs = filter_probs(probs, config.top_k, config.top_p)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)
