"""Greedy and batched beam-search decoding for :class:`~lstmkit.tasks.translate.model.Seq2Seq`.

Beam search keeps K hypotheses per source, all sources of a batch at once
(B·K decoder rows). At each step every live hypothesis y with score
s(y) = Σ log p(y_t | y_<t, x) is extended by every token and the K best
of the K·V candidates per source survive. A hypothesis that has produced
``<eos>`` is finished: it is carried unchanged (its only continuation is a
free ``<eos>``). At the end the best of the K is chosen with length
normalisation (Wu et al. 2016):

    score(y) = s(y) / lp(y),   lp(y) = ((5 + |y|) / 6)^α

where |y| counts the tokens up to and including ``<eos>``; α = 0 disables it.
With K = 1 the search is exactly greedy decoding.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .model import Seq2Seq, repeat_encoder


@dataclass(frozen=True)
class DecodeConfig:
    """beam_size: K (1 = greedy); max_length: most target tokens; length_penalty: α >= 0."""

    beam_size: int = 5
    max_length: int = 120
    length_penalty: float = 0.6

    def __post_init__(self) -> None:
        if not isinstance(self.beam_size, int) or self.beam_size < 1:
            raise ValueError(f"beam_size: expected a positive integer, received {self.beam_size!r}")
        if not isinstance(self.max_length, int) or self.max_length < 1:
            raise ValueError(f"max_length: expected a positive integer, received {self.max_length!r}")
        if self.length_penalty < 0:
            raise ValueError(f"length_penalty: expected a number >= 0, received {self.length_penalty!r}")


@dataclass
class Hypotheses:
    """Decoded ids per source (without <bos>/<eos>) and attention rows (T_i, S) or None."""

    tokens: list[list[int]]
    attention: list[Tensor | None]
    scores: list[float]


def _trim(ids: list[int], eos: int) -> list[int]:
    return ids[: ids.index(eos)] if eos in ids else ids


@torch.no_grad()
def greedy_decode(model: Seq2Seq, src: Tensor, src_len: Tensor, bos: int, eos: int, max_length: int) -> Hypotheses:
    """Take the most probable token at every step, for the whole batch at once."""
    model.eval()
    enc, state = model.encode(src, src_len)
    B = src.shape[0]
    feed = model.init_feed(B, src.device)
    prev = torch.full((B,), bos, dtype=torch.long, device=src.device)
    done = torch.zeros(B, dtype=torch.bool, device=src.device)
    steps, attn, total = [], [], torch.zeros(B, dtype=torch.float64)
    for _ in range(max_length):
        logits, state, feed, weights = model.step(prev, state, feed, enc)
        logp = torch.log_softmax(logits.double(), dim=-1)
        prev = logp.argmax(dim=-1)
        total += torch.where(done, 0.0, logp.gather(1, prev[:, None]).squeeze(1))
        prev = torch.where(done, torch.full_like(prev, eos), prev)
        steps.append(prev)
        attn.append(weights)
        done |= prev == eos
        if bool(done.all()):
            break
    ids = torch.stack(steps, dim=1).tolist()  # (B, T)
    tokens = [_trim(row, eos) for row in ids]
    attention: list[Tensor | None] = []
    for b in range(B):
        if attn[0] is None:
            attention.append(None)
        else:
            attention.append(torch.stack([a[b] for a in attn])[: len(tokens[b])].cpu())  # (T_b, S)
    return Hypotheses(tokens, attention, total.tolist())


@torch.no_grad()
def beam_search(model: Seq2Seq, src: Tensor, src_len: Tensor, bos: int, eos: int, config: DecodeConfig) -> Hypotheses:
    """Batched beam search with length normalisation (see the module docstring)."""
    model.eval()
    K, B = config.beam_size, src.shape[0]
    enc, state = model.encode(src, src_len)
    enc = repeat_encoder(enc, K)
    state = [(h.repeat_interleave(K, 0), c.repeat_interleave(K, 0)) for h, c in state]
    feed = model.init_feed(B * K, src.device)
    prev = torch.full((B * K,), bos, dtype=torch.long, device=src.device)
    scores = torch.full((B, K), float("-inf"), dtype=torch.float64)
    scores[:, 0] = 0.0  # all beams start identical: keep one
    finished = torch.zeros(B * K, dtype=torch.bool)
    lengths = torch.zeros(B * K, dtype=torch.long)
    history = torch.zeros(B * K, 0, dtype=torch.long)
    attn_hist: Tensor | None = None
    offsets = (torch.arange(B) * K)[:, None]  # (B, 1) first row of each source
    for _ in range(config.max_length):
        logits, state, feed, weights = model.step(prev, state, feed, enc)
        logp = torch.log_softmax(logits.double(), dim=-1).cpu()  # (B*K, V)
        V = logp.shape[1]
        if bool(finished.any()):
            logp[finished] = float("-inf")
            logp[finished, eos] = 0.0
        cand = (scores.view(-1, 1) + logp).view(B, K * V)  # (B, K*V)
        top, flat = cand.topk(K, dim=1)  # (B, K) ranked, ties towards lower index
        beam = torch.div(flat, V, rounding_mode="floor")  # (B, K) source beam
        token = flat % V
        rows = (offsets + beam).view(-1)  # (B*K,) rows to continue
        scores = top
        history = torch.cat([history[rows], token.view(-1, 1)], dim=1)
        lengths = torch.where(finished[rows], lengths[rows], lengths[rows] + 1)
        finished = finished[rows] | (token.view(-1) == eos)
        if weights is not None:
            w = weights.cpu()[rows].unsqueeze(1)  # (B*K, 1, S)
            attn_hist = w if attn_hist is None else torch.cat([attn_hist[rows], w], dim=1)
        device_rows = rows.to(src.device)
        state = [(h[device_rows], c[device_rows]) for h, c in state]
        feed = feed[device_rows]
        prev = token.view(-1).to(src.device)
        if bool(finished.all()):
            break
    penalty = ((5.0 + lengths.double()) / 6.0) ** config.length_penalty  # (B*K,)
    normalised = scores.view(-1) / penalty
    best = normalised.view(B, K).argmax(dim=1) + offsets.view(-1)  # (B,) rows
    tokens, attention = [], []
    for row in best.tolist():
        ids = _trim(history[row].tolist(), eos)
        tokens.append(ids)
        attention.append(None if attn_hist is None else attn_hist[row, : len(ids)])
    return Hypotheses(tokens, attention, scores.view(-1)[best].tolist())


def decode(model: Seq2Seq, src: Tensor, src_len: Tensor, bos: int, eos: int, config: DecodeConfig) -> Hypotheses:
    """Greedy when ``beam_size`` is 1, beam search otherwise."""
    if config.beam_size == 1:
        return greedy_decode(model, src, src_len, bos, eos, config.max_length)
    return beam_search(model, src, src_len, bos, eos, config)
