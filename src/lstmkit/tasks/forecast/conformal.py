r"""Conformalised quantile regression (CQR, Romano, Patterson & Candes 2019), split per horizon step.

The network predicts quantiles q_lo < q_hi for a symmetric pair of levels (a, 1 - a)
(0.1 and 0.9 by default: a nominal 80% band).  Quantile regression alone is
over-confident when the network fits its training windows closely; CQR widens (or
narrows) the band by a margin measured on windows the network never trained on.

Calibration set: each training series' last K forecast origins (K per series from
`calibration_split`); the network is trained on everything before them.  For
calibration window i and horizon step h, with the scaled actual z_{i,h}:

    E_{i,h} = max( q_lo(i,h) - z_{i,h},  z_{i,h} - q_hi(i,h) )      (conformity score)
    S_h     = { E_{i,j} : i = 1..n, |j - h| <= r }                   (N_h scores)
    Q_h     = the ceil((N_h + 1)(1 - 2a))-th smallest of S_h (the largest when that rank
              exceeds N_h)

with r the smallest radius that gives n (2r + 1) >= MIN_SCORES scores (r = 0, one
step's own scores, once n >= MIN_SCORES).  With few calibration windows a per-step
quantile is mostly noise (on the prisonLF panel, 64 windows, neighbouring steps' margins
differed in sign); neighbouring steps have nearly the same error distribution, so
pooling them trades a little bias for much less variance.

and every later forecast uses [q_lo - Q_h, q_hi + Q_h].  When the calibration
windows are exchangeable with the test windows, the band covers with probability at
least 1 - 2a (Romano et al., Theorem 1).  Scores live in the window-scaled space
(``windowing``), so one margin serves series of every level and scale.  Levels
without a symmetric partner (and 0.5) are left as they are; the corrected
quantiles are kept from crossing around the unmoved median (`ordered`).
"""

from __future__ import annotations

import math

import numpy as np

CALIBRATION_WINDOWS = 60   # aim for about this many calibration windows in all
MIN_SCORES = 100           # pool neighbouring horizon steps until each margin rests on this many scores
MAX_HELD_FRACTION = 0.15   # ... without holding out more than this share of a median series


def calibration_split(lengths: list[int], horizon: int, lookback: int = 1) -> tuple[list[int], int]:
    """(training cut per series, K): series i trains on y[:cut_i], origins cut_i - 1 ..
    cut_i + K - 2 are its calibration windows (each with a whole horizon inside the series).

    K = max(1, min(ceil(CALIBRATION_WINDOWS / N), floor(MAX_HELD_FRACTION * median T),
                   floor(median W / 4))), W = T - L - H + 1 the full windows of a series
    (so the calibration networks keep most of their training windows);
    a series that would keep fewer than 2 training points is not held out (cut = T).

    >>> calibration_split([100, 100], 12)
    ([74, 74], 15)
    """
    n = max(1, len(lengths))
    median = sorted(lengths)[(len(lengths) - 1) // 2] if lengths else 0
    k = max(1, min(math.ceil(CALIBRATION_WINDOWS / n), int(MAX_HELD_FRACTION * median),
                   (median - lookback - horizon + 1) // 4))
    cuts = []
    for length in lengths:
        cut = length - horizon - k + 1
        cuts.append(cut if cut >= 2 else length)
    return cuts, k


def symmetric_pairs(quantiles: tuple[float, ...]) -> list[tuple[int, int]]:
    """Index pairs (lo, hi) of levels a < 0.5 with 1 - a also present."""
    levels = [round(q, 6) for q in quantiles]
    return [(i, levels.index(round(1 - q, 6))) for i, q in enumerate(levels)
            if q < 0.5 and round(1 - q, 6) in levels]


def pooling_radius(n: int, horizon: int) -> int:
    """The smallest r with n (2r + 1) >= MIN_SCORES, at most the whole horizon.

    >>> pooling_radius(120, 8), pooling_radius(64, 8), pooling_radius(15, 24), pooling_radius(2, 4)
    (0, 1, 3, 3)
    """
    r = 0
    while n * (2 * r + 1) < MIN_SCORES and r < horizon - 1:
        r += 1
    return r


def corrections(q: np.ndarray, actual: np.ndarray, quantiles: tuple[float, ...]) -> dict[str, list[float]]:
    """Per pair, the margins Q_h (H,) from calibration quantiles q (n, H, Q) and actuals (n, H)
    (neighbouring steps pooled when n < MIN_SCORES, see the module docstring).

    Returns ``{"lo,hi": [Q_1..Q_H]}`` keyed by the pair's levels (JSON-ready).
    """
    out: dict[str, list[float]] = {}
    n = len(q)
    if n == 0:
        return out
    for lo, hi in symmetric_pairs(quantiles):
        coverage = quantiles[hi] - quantiles[lo]
        scores = np.maximum(q[:, :, lo] - actual, actual - q[:, :, hi])           # (n, H)
        horizon = scores.shape[1]
        r = pooling_radius(n, horizon)
        margin = []
        for h in range(horizon):
            pooled = np.sort(scores[:, max(0, h - r): h + r + 1].ravel())
            rank = math.ceil((len(pooled) + 1) * coverage)
            margin.append(float(pooled[min(rank, len(pooled)) - 1]))
        out[f"{quantiles[lo]:g},{quantiles[hi]:g}"] = margin
    return out


def apply(q: np.ndarray, margins: dict[str, list[float]], quantiles: tuple[float, ...],
          scale: float = 1.0) -> np.ndarray:
    """Quantiles (N, H, Q) with every calibrated pair widened by its margins (times `scale`), re-sorted."""
    if not margins:
        return q
    out = q.copy()
    for lo, hi in symmetric_pairs(quantiles):
        key = f"{quantiles[lo]:g},{quantiles[hi]:g}"
        if key not in margins:
            continue
        m = scale * np.asarray(margins[key], dtype=np.float64)[: q.shape[1]]
        out[:, :, lo] -= m
        out[:, :, hi] += m
    return ordered(out, quantiles)


def offset_band(point: np.ndarray, band: np.ndarray, quantiles: tuple[float, ...]) -> np.ndarray:
    """Quantiles (N, H, Q) with `point`'s median and `band`'s offsets from its own median.

        out_k = point_med + (band_k - band_med)

    `point`: the refit networks' quantiles (their median is the forecast); `band`: the
    calibration networks' conformalised quantiles, whose offsets from their median are
    the calibrated band (``calibration_refit="offsets"``).  Sorted, so nothing crosses.
    """
    med = list(quantiles).index(0.5)
    return ordered(point[:, :, med: med + 1] + (band - band[:, :, med: med + 1]), quantiles)


def ordered(q: np.ndarray, quantiles: tuple[float, ...]) -> np.ndarray:
    """Quantiles (N, H, Q) made non-crossing around a fixed median: the levels below 0.5 are
    clipped at the median and sorted, those above likewise, so a (negative) margin can narrow
    a band to nothing but never moves the median, the point forecast."""
    med = list(quantiles).index(0.5)
    centre = q[:, :, med: med + 1]
    below = np.sort(np.minimum(q[:, :, :med], centre), axis=-1)
    above = np.sort(np.maximum(q[:, :, med + 1:], centre), axis=-1)
    return np.concatenate([below, centre, above], axis=-1)


def median_spread(q: np.ndarray, target: np.ndarray, mask: np.ndarray, quantiles: tuple[float, ...]) -> float:
    """Mean |z - q_0.5| over the observed (`mask`) steps: quantiles q (n, H, Q), targets (n, H).

    The ratio of two ensembles' in-sample spreads rescales the margins under
    ``calibration_refit="scaled"``.
    """
    resid = np.abs(target - q[:, :, list(quantiles).index(0.5)])
    observed = np.ones(resid.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    return float(resid[observed].mean()) if observed.any() else float("nan")


def interval_scores(actual, lo, hi, scale: float = 1.0) -> dict[str, float]:
    """Empirical coverage of [lo, hi] and its mean width divided by `scale` (MASE's scale)."""
    y, a, b = (np.asarray(v, dtype=np.float64) for v in (actual, lo, hi))
    width = float(np.mean(b - a))
    return {"coverage": float(np.mean((y >= a) & (y <= b))),
            "width": width / scale if scale > 0 else float("inf")}


def band_scores(actual: np.ndarray, y_q: np.ndarray, quantiles: tuple[float, ...], insample: np.ndarray,
                season_length: int) -> dict[str, float]:
    """Coverage and scaled width of the outermost symmetric quantile band of y_q (H, Q)."""
    from lstmkit.tasks.forecast import metrics as fm

    pairs = symmetric_pairs(quantiles)
    if not pairs:
        return {}
    lo, hi = pairs[0]
    return interval_scores(actual, y_q[:, lo], y_q[:, hi], fm.seasonal_scale(insample, season_length))
