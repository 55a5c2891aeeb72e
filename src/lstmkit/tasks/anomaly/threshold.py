"""Error smoothing and the non-parametric dynamic threshold of Hundman et al. (2018).

Smoothing (exponentially weighted moving average with span h, alpha = 2 / (h + 1)):

    e_s(t) = alpha e(t) + (1 - alpha) e_s(t - 1)

Threshold: with mu, sigma the mean and standard deviation of e_s, candidates
eps = mu + z sigma for z in `z_range`; for each, e_a = {e_s >= eps} and E_seq the
contiguous runs of e_a, and

    eps* = argmax_eps ( Delta mu / mu + Delta sigma / sigma ) / ( |e_a| + |E_seq|^2 )

where Delta mu = mu - mean({e_s < eps}) and Delta sigma = sigma - std({e_s < eps}).

Pruning: the runs' maxima sorted descending, followed by the largest smoothed error
that is not flagged, give decreases d_i = (m_i - m_{i+1}) / m_i; runs after the last i
with d_i > p are set back to nominal (p = 0.13 in the paper).  Each kept run gets the
score (max e_s over the run - eps*) / (mu + sigma).

A candidate whose runs would all be pruned is passed over for the next best one: such
a threshold cuts through a group of near-equal peaks (several anomalies of the same
size, the rest of the group just under eps), and pruning against one of those peaks
would discard the whole group.  Only when every candidate is pruned to nothing is
nothing flagged (epsilon is then the best candidate's).

The threshold is always a finite number: when no candidate flags anything (sigma = 0,
all errors equal, or no error reaches mu + 2 sigma) it is the smallest float above
max(e_s), so nothing is flagged and ``flags == (e_s >= epsilon)`` still holds.
Non-finite smoothed errors raise ValueError.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


def ewma(errors: np.ndarray, span: int) -> np.ndarray:
    """Exponentially weighted moving average with span `span` (>= 1; 1 returns a copy)."""
    if span < 1:
        raise ValueError(f"span must be >= 1, received {span!r}")
    return pd.Series(np.asarray(errors, dtype=np.float64)).ewm(span=span, adjust=False).mean().to_numpy()


def runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """Contiguous runs of True as (start, end) inclusive index pairs.

    >>> runs(np.array([0, 1, 1, 0, 1], dtype=bool))
    [(1, 2), (4, 4)]
    """
    flags = np.asarray(flags, dtype=bool)
    if not flags.any():
        return []
    padded = np.concatenate([[False], flags, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2])]


@dataclass(frozen=True)
class ThresholdResult:
    """The chosen threshold, the flags after pruning, and the kept runs with their scores."""

    epsilon: float
    flags: np.ndarray
    intervals: list[tuple[int, int, float]]


Z_RANGE = np.arange(2.0, 10.5, 0.5)  # z = 2, 2.5, ..., 10


def dynamic_threshold(smoothed: np.ndarray, z_range: np.ndarray = Z_RANGE,
                      min_decrease: float = 0.13) -> ThresholdResult:
    """Hundman's threshold selection and pruning on smoothed errors (see the module docstring)."""
    e = np.asarray(smoothed, dtype=np.float64)
    n = len(e)
    if n == 0:
        return ThresholdResult(0.0, np.zeros(0, dtype=bool), [])
    if not np.isfinite(e).all():
        raise ValueError(f"smoothed errors: {int((~np.isfinite(e)).sum())} of {n} are not finite")
    mu, sigma = float(e.mean()), float(e.std())
    above_all = float(np.nextafter(e.max(), np.inf))       # flags nothing
    if sigma == 0:
        return ThresholdResult(above_all, np.zeros(n, dtype=bool), [])
    candidates = []                                        # (value, eps)
    for z in z_range:
        eps = mu + z * sigma
        above = e >= eps
        if not above.any():
            continue
        below = e[~above]
        delta_mu = mu - below.mean()
        delta_sigma = sigma - below.std()
        n_seq = len(runs(above))
        value = (delta_mu / abs(mu) if mu else delta_mu) + delta_sigma / sigma
        value /= int(above.sum()) + n_seq ** 2
        candidates.append((float(value), float(eps)))
    if not candidates:
        return ThresholdResult(above_all, np.zeros(n, dtype=bool), [])
    ranked = sorted(candidates, key=lambda c: -c[0])       # stable: ties keep the lower eps first
    for _, eps in ranked:
        result = _pruned(e, eps, mu, sigma, min_decrease)
        if result.intervals:
            return result
    return _pruned(e, ranked[0][1], mu, sigma, min_decrease)


def _pruned(e: np.ndarray, eps: float, mu: float, sigma: float, min_decrease: float) -> ThresholdResult:
    """Flags e >= eps after Hundman's pruning, with the kept runs' scores."""
    n, best_eps = len(e), eps
    flags = e >= best_eps
    seqs = runs(flags)
    maxima = np.array([e[a:b + 1].max() for a, b in seqs])
    order = np.argsort(-maxima)
    nominal_max = e[~flags].max() if (~flags).any() else 0.0
    chain = np.concatenate([maxima[order], [nominal_max]])
    decrease = (chain[:-1] - chain[1:]) / np.where(chain[:-1] > 0, chain[:-1], 1.0)
    exceeding = np.flatnonzero(decrease > min_decrease)
    keep_count = int(exceeding[-1]) + 1 if len(exceeding) else 0
    kept = np.zeros(len(seqs), dtype=bool)
    kept[order[:keep_count]] = True
    final = np.zeros(n, dtype=bool)
    intervals = []
    for (a, b), keep, peak in zip(seqs, kept, maxima):
        if keep:
            final[a:b + 1] = True
            intervals.append((a, b, float((peak - best_eps) / (mu + sigma))))
    return ThresholdResult(best_eps, final, intervals)
