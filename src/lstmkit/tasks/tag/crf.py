r"""Linear-chain conditional random field: forward algorithm, batched Viterbi, BIO constraints.

For emissions :math:`E \in \mathbb{R}^{T \times K}` (scores of each of the
``K`` tags at each of the ``T`` positions), transition scores
:math:`A_{ij}` (tag ``i`` followed by tag ``j``), start scores :math:`s_j`
and end scores :math:`e_j`, a tag path :math:`y_{1..T}` scores

.. math::
    \mathrm{score}(y) = s_{y_1} + \sum_{t=1}^{T} E_{t,y_t}
        + \sum_{t=2}^{T} A_{y_{t-1},y_t} + e_{y_T},

and :math:`\log p(y \mid x) = \mathrm{score}(y) - \log Z` with the partition
function from the forward recursion

.. math::
    \alpha_1(j) = s_j + E_{1,j}, \qquad
    \alpha_t(j) = E_{t,j} + \log\sum_i \exp(\alpha_{t-1}(i) + A_{ij}), \qquad
    \log Z = \log\sum_j \exp(\alpha_T(j) + e_j).

Viterbi replaces the log-sum-exp by a max and keeps back-pointers; the whole
batch is decoded at once (one vectorised step per position, sequences of
different lengths carry their state unchanged past their end).

Constraints: ``allowed`` (K, K), ``allowed_start`` (K,), ``allowed_end`` (K,)
boolean masks; a forbidden move gets score ``-1e4`` added, which gives it
probability ~0 and keeps Viterbi from choosing it (while keeping every score
finite). :func:`bio_constraints` builds the masks for BIO tags: ``I-X`` may
only follow ``B-X`` or ``I-X``, and never starts a sentence.

Shapes: emissions ``(B, T, K)``, tags ``(B, T)`` long, mask ``(B, T)`` bool
with ``mask[:, 0]`` all True and each row's True positions contiguous from 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["CRF", "bio_constraints"]

FORBIDDEN = -1.0e4


def bio_constraints(tags: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Allowed transitions / starts / ends for BIO tags.

    Tags other than ``B-X``/``I-X`` (e.g. ``O``, or POS tags) are unconstrained
    as source and target except that ``I-X`` must follow ``B-X`` or ``I-X``.
    """
    K = len(tags)
    allowed = torch.ones(K, K, dtype=torch.bool)
    start = torch.ones(K, dtype=torch.bool)
    end = torch.ones(K, dtype=torch.bool)
    for j, tj in enumerate(tags):
        if tj.startswith("I-"):
            kind = tj[2:]
            start[j] = False
            for i, ti in enumerate(tags):
                allowed[i, j] = ti in (f"B-{kind}", f"I-{kind}")
    return allowed, start, end


class CRF(nn.Module):
    """Linear-chain CRF over ``num_tags`` tags (see the module docstring for the equations).

    Args:
        num_tags: K.
        allowed, allowed_start, allowed_end: optional boolean constraint masks
            of shapes (K, K), (K,), (K,) (True = allowed).
    """

    def __init__(
        self,
        num_tags: int,
        allowed: torch.Tensor | None = None,
        allowed_start: torch.Tensor | None = None,
        allowed_end: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        if num_tags < 1:
            raise ValueError(f"num_tags must be >= 1, got {num_tags}")
        self.num_tags = num_tags
        self.transitions = nn.Parameter(torch.zeros(num_tags, num_tags))
        self.start = nn.Parameter(torch.zeros(num_tags))
        self.end = nn.Parameter(torch.zeros(num_tags))
        nn.init.uniform_(self.transitions, -0.1, 0.1)

        def penalty(mask: torch.Tensor | None, shape: tuple[int, ...], name: str) -> torch.Tensor:
            if mask is None:
                return torch.zeros(shape)
            if tuple(mask.shape) != shape:
                raise ValueError(f"{name} must have shape {shape}, got {tuple(mask.shape)}")
            return (~mask.bool()).float() * FORBIDDEN

        self.register_buffer("trans_penalty", penalty(allowed, (num_tags, num_tags), "allowed"))
        self.register_buffer("start_penalty", penalty(allowed_start, (num_tags,), "allowed_start"))
        self.register_buffer("end_penalty", penalty(allowed_end, (num_tags,), "allowed_end"))

    def _scores(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return (
            self.transitions + self.trans_penalty,
            self.start + self.start_penalty,
            self.end + self.end_penalty,
        )

    def _check(self, emissions: torch.Tensor, mask: torch.Tensor) -> None:
        if emissions.dim() != 3 or emissions.shape[-1] != self.num_tags:
            raise ValueError(
                f"emissions must have shape (B, T, {self.num_tags}), got {tuple(emissions.shape)}"
            )
        if mask.shape != emissions.shape[:2]:
            raise ValueError(f"mask must have shape {tuple(emissions.shape[:2])}, got {tuple(mask.shape)}")
        if not bool(mask[:, 0].all()):
            raise ValueError("mask[:, 0] must be True: every sequence needs at least one token")

    def path_score(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """score(y) for the given tag paths, shape (B,)."""
        trans, start, end = self._scores()
        m = mask.to(emissions.dtype)
        emit = emissions.gather(-1, tags.unsqueeze(-1)).squeeze(-1)  # (B, T)
        score = start[tags[:, 0]] + (emit * m).sum(1)
        if tags.shape[1] > 1:
            step = trans[tags[:, :-1], tags[:, 1:]]  # (B, T-1)
            score = score + (step * m[:, 1:]).sum(1)
        last = mask.long().sum(1) - 1  # (B,)
        last_tag = tags.gather(1, last.unsqueeze(1)).squeeze(1)
        return score + end[last_tag]

    def log_partition(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """log Z by the forward algorithm, shape (B,)."""
        self._check(emissions, mask)
        trans, start, end = self._scores()
        alpha = start + emissions[:, 0]  # (B, K)
        for t in range(1, emissions.shape[1]):
            # (B, K, 1) + (K, K) -> (B, K, K), logsumexp over the source tag i
            nxt = torch.logsumexp(alpha.unsqueeze(2) + trans, dim=1) + emissions[:, t]
            alpha = torch.where(mask[:, t].unsqueeze(1), nxt, alpha)
        return torch.logsumexp(alpha + end, dim=1)

    def log_likelihood(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """log p(tags | emissions) per sequence, shape (B,)."""
        return self.path_score(emissions, tags, mask) - self.log_partition(emissions, mask)

    def forward(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean negative log-likelihood over the batch (the training loss)."""
        return -self.log_likelihood(emissions, tags, mask).mean()

    @torch.no_grad()
    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Batched Viterbi.

        Returns:
            ``(tags (B, T) long, scores (B,))``: the best path (positions past a
            sequence's length hold its last tag; cut them with the lengths) and
            its score.
        """
        self._check(emissions, mask)
        trans, start, end = self._scores()
        B, T, K = emissions.shape
        delta = start + emissions[:, 0]  # (B, K)
        backptr = torch.empty(B, max(T - 1, 0), K, dtype=torch.long, device=emissions.device)
        identity = torch.arange(K, device=emissions.device).expand(B, K)
        for t in range(1, T):
            best, arg = (delta.unsqueeze(2) + trans).max(dim=1)  # (B, K): over source i
            keep = mask[:, t].unsqueeze(1)
            delta = torch.where(keep, best + emissions[:, t], delta)
            backptr[:, t - 1] = torch.where(keep, arg, identity)
        final = delta + end
        score, last = final.max(dim=1)  # (B,)
        path = torch.empty(B, T, dtype=torch.long, device=emissions.device)
        path[:, T - 1] = last
        for t in range(T - 2, -1, -1):
            last = backptr[:, t].gather(1, last.unsqueeze(1)).squeeze(1)
            path[:, t] = last
        return path, score
