"""Count-based baselines for language modelling: add-one unigram and interpolated Kneser-Ney.

Both score an id stream x_1..x_N by the mean negative log-likelihood of each
token given the ones before it (nats per token); bits per character is that
divided by ln 2 for character streams.

Unigram (add-one): P(w) = (c(w) + 1) / (N + V).

Interpolated Kneser-Ney of order n (Chen & Goodman 1999, one discount per
order). With C_n the ordinary counts and, for k < n, C_k the continuation
counts C_k(v) = |{u : C_{k+1}(u v) > 0}|, and for a context h of k-1 tokens
T_k(h) = Σ_w C_k(h w), N_k(h) = |{w : C_k(h w) > 0}|, D_k = n_1 / (n_1 + 2 n_2)
(n_r = number of k-grams whose C_k is r):

    P_k(w | h) = max(C_k(h w) - D_k, 0) / T_k(h) + D_k N_k(h) / T_k(h) · P_{k-1}(w | h')

where h' drops the oldest token of h, P_k(w | h) = P_{k-1}(w | h') when
T_k(h) = 0, and P_0(w) = 1 / V (uniform over the vocabulary).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from tqdm.auto import tqdm


class UnigramLM:
    """Add-one smoothed unigram model over a vocabulary of ``vocab_size`` ids."""

    def __init__(self, vocab_size: int) -> None:
        if vocab_size < 1:
            raise ValueError(f"vocab_size: expected a positive integer, received {vocab_size!r}")
        self.vocab_size = vocab_size
        self.counts: Counter[int] = Counter()
        self.total = 0

    def fit(self, ids: Sequence[int]) -> UnigramLM:
        self.counts.update(ids)
        self.total += len(ids)
        return self

    def prob(self, token: int) -> float:
        return (self.counts.get(token, 0) + 1) / (self.total + self.vocab_size)

    def nll(self, ids: Sequence[int]) -> float:
        """Mean -log p over ids[1:] (the first token is context for the other models)."""
        if len(ids) < 2:
            raise ValueError(f"ids: expected at least 2 tokens, received {len(ids)}")
        return -sum(math.log(self.prob(t)) for t in ids[1:]) / (len(ids) - 1)


class KneserNeyLM:
    """Interpolated Kneser-Ney n-gram model over integer ids (see the module docstring)."""

    def __init__(self, order: int, vocab_size: int) -> None:
        if not isinstance(order, int) or order < 1:
            raise ValueError(f"order: expected a positive integer, received {order!r}")
        if vocab_size < 1:
            raise ValueError(f"vocab_size: expected a positive integer, received {vocab_size!r}")
        self.order = order
        self.vocab_size = vocab_size
        # Index k-1 holds order k: counts[(h..., w)], totals[h], types[h], discount.
        self.counts: list[dict[tuple, int]] = []
        self.totals: list[dict[tuple, int]] = []
        self.types: list[dict[tuple, int]] = []
        self.discounts: list[float] = []

    def fit(self, ids: Sequence[int]) -> KneserNeyLM:
        ids = list(ids)
        n = self.order
        if len(ids) < n:
            raise ValueError(f"ids: expected at least order={n} tokens, received {len(ids)}")
        top: Counter[tuple] = Counter(tuple(ids[i : i + n]) for i in range(len(ids) - n + 1))
        levels: list[dict[tuple, int]] = [dict(top)]
        for _ in range(n - 1):
            continuation: Counter[tuple] = Counter(gram[1:] for gram in levels[-1])
            levels.append(dict(continuation))
        levels.reverse()  # levels[k-1] is order k
        self.counts = levels
        self.totals, self.types, self.discounts = [], [], []
        for level in levels:
            totals: Counter[tuple] = Counter()
            types: Counter[tuple] = Counter()
            for gram, count in level.items():
                totals[gram[:-1]] += count
                types[gram[:-1]] += 1
            self.totals.append(dict(totals))
            self.types.append(dict(types))
            n1 = sum(1 for c in level.values() if c == 1)
            n2 = sum(1 for c in level.values() if c == 2)
            self.discounts.append(n1 / (n1 + 2 * n2) if n1 + n2 > 0 else 0.5)
        return self

    def prob(self, context: tuple, token: int) -> float:
        """P(token | context); only the last order-1 ids of ``context`` matter."""
        if not self.counts:
            raise RuntimeError("KneserNeyLM: call fit() before prob()")
        # a context shorter than order - 1 (the start of a stream) is used whole
        context = tuple(context)[max(0, len(context) - (self.order - 1)) :] if self.order > 1 else ()
        p = 1.0 / self.vocab_size
        for k in range(1, len(context) + 2):  # from unigrams up to the longest context
            h = context[len(context) - (k - 1) :] if k > 1 else ()
            total = self.totals[k - 1].get(h, 0)
            if total == 0:
                continue
            d = self.discounts[k - 1]
            count = self.counts[k - 1].get(h + (token,), 0)
            p = max(count - d, 0.0) / total + d * self.types[k - 1][h] / total * p
        return p

    def nll(self, ids: Sequence[int]) -> float:
        """Mean -log P(x_i | preceding tokens) over ids[1:]."""
        ids = list(ids)
        if len(ids) < 2:
            raise ValueError(f"ids: expected at least 2 tokens, received {len(ids)}")
        span = self.order - 1
        total = 0.0
        for i in tqdm(range(1, len(ids)), desc="n-gram score", unit="tok", disable=None, leave=False,
                      mininterval=1.0):
            total -= math.log(self.prob(tuple(ids[max(0, i - span) : i]), ids[i]))
        return total / (len(ids) - 1)
