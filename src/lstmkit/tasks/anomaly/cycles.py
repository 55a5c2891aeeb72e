r"""Cycles of a (quasi-)periodic series: anchors, phase, per-phase score normalisation.

A detector that compares each point's error with one global error distribution is
driven by amplitude: the steep parts of a cycle (an ECG's R peak) always have the
largest errors, so a tall normal beat outscores a low-amplitude beat of the wrong
shape.  This module measures the error *relative to what is usual at the same position
in the cycle*, and scores whole cycles.

Anchors.  With the dominant period m (`api.estimate_period`) and the standardised
first channel z, the anchors are the local maxima of |z_t - median(z)| at least
ceil(0.6 m) apart (highest first; scipy ``find_peaks``) and at least half as high as the
median such peak (a noise bump in a cycle's quiet part is not an anchor): one per cycle for a signal with
one dominant peak per cycle (an R wave, a sine crest).  Quasi-periodic cycles vary in
length, so anchoring on the data's own peaks keeps the phase aligned where t mod m drifts.

Phase and cycle.  Cycle i is the half-open interval [b_i, b_{i+1}) with boundaries
b_i = a_i - floor(m / 2) (the anchor sits in the middle of its cycle; the points
before b_0 form a cycle of their own).  The phase of t in the cycle of anchor a_i is

    phi_t = clip(t - a_i + floor(m / 2), 0, m - 1)

(a cycle longer than m keeps its last phase; before b_0, phi_t = (t - b_0) mod m),
and phases are grouped into B = min(m, PHASE_BINS) equal bins, bin(t) = floor(phi_t B / m).

Per-phase normalisation.  With raw per-point errors e_t on the training series, each
bin gets a robust location and scale

    med_b = median{e_t : bin(t) = b},   mad_b = max(1.4826 median|e_t - med_b|, FLOOR * mad_all)

(mad_all: the same over all training points; the floor keeps a bin where the network
is nearly perfect from turning noise into huge scores), and a new error becomes

    s_t = (e_t - med_{bin(t)}) / mad_{bin(t)}.

Cycle score.  c_t = mean{s_u : u in the cycle of t}: every point of a cycle gets its
cycle's score, so a cycle whose shape is wrong everywhere by a little ranks above one
that is right except for a tall peak, and the flagged runs are whole cycles (events).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PHASE_BINS = 32         # at most this many phase bins (>= ~10 training points per bin on 10 cycles)
MAD_FLOOR = 0.1         # a bin's scale is at least this share of the overall scale
ANCHOR_SPACING = 0.6    # anchors at least this many periods apart
ANCHOR_HEIGHT = 0.5     # ... and at least this share of the median anchor's height
MAD_TO_SIGMA = 1.4826   # MAD of a normal distribution x this = its standard deviation


def anchors(z: np.ndarray, period: int) -> np.ndarray:
    """Indices of one dominant peak per cycle of the series z (T,) (see the module docstring).

    >>> pulses = np.zeros(40); pulses[3::10] = 1.0
    >>> anchors(pulses, 10).tolist()
    [3, 13, 23, 33]
    """
    from scipy.signal import find_peaks

    x = np.asarray(z, dtype=np.float64)
    deviation = np.abs(x - np.median(x))
    found, _ = find_peaks(deviation, distance=max(1, int(np.ceil(ANCHOR_SPACING * period))))
    if len(found):
        found = found[deviation[found] >= ANCHOR_HEIGHT * np.median(deviation[found])]
    return found.astype(np.int64)


def phase_and_cycle(n: int, anchor_idx: np.ndarray, period: int) -> tuple[np.ndarray, np.ndarray]:
    """(phase (n,) in [0, m), cycle number (n,)) for a series of n points.

    Boundaries b_i = a_i - floor(m / 2); a point at or after b_i and before b_{i+1}
    belongs to cycle i + 1 (cycle 0 holds the points before b_0, phased against the
    first anchor).  Without anchors the phase is t mod m and cycles are consecutive
    blocks of m points.

    >>> phase, cycle = phase_and_cycle(9, np.array([3, 7]), 4)
    >>> phase.tolist(), cycle.tolist()
    ([3, 0, 1, 2, 3, 0, 1, 2, 3], [0, 1, 1, 1, 1, 2, 2, 2, 2])
    """
    t = np.arange(n)
    half = period // 2
    if len(anchor_idx) == 0:
        return t % period, t // period
    bounds = np.asarray(anchor_idx) - half
    cycle = np.searchsorted(bounds, t, side="right")            # 0 before b_0
    own = np.asarray(anchor_idx)[np.maximum(cycle - 1, 0)]
    phase = np.where(cycle > 0, np.clip(t - own + half, 0, period - 1), (t - bounds[0]) % period)
    return phase.astype(np.int64), cycle.astype(np.int64)


def phase_bins(phase: np.ndarray, period: int) -> np.ndarray:
    """Bin number floor(phi B / m) of each phase, B = min(m, PHASE_BINS)."""
    n_bins = min(period, PHASE_BINS)
    return (np.asarray(phase) * n_bins) // period


@dataclass
class PhaseStats:
    """Per-bin robust location `median` (B,) and scale `scale` (B,) of training errors."""

    median: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, errors: np.ndarray, bins: np.ndarray, n_bins: int) -> PhaseStats:
        """Statistics of errors (T,) grouped by their bins (T,) (see the module docstring).

        A bin without training points gets the overall median and scale.
        """
        e = np.asarray(errors, dtype=np.float64)
        overall = float(np.median(e))
        spread = MAD_TO_SIGMA * float(np.median(np.abs(e - overall)))
        if spread <= 0:
            spread = float(e.std()) if e.std() > 0 else 1.0
        median = np.full(n_bins, overall)
        scale = np.full(n_bins, spread)
        for b in range(n_bins):
            members = e[bins == b]
            if len(members):
                median[b] = np.median(members)
                scale[b] = MAD_TO_SIGMA * np.median(np.abs(members - median[b]))
        return cls(median, np.maximum(scale, MAD_FLOOR * spread))

    def normalise(self, errors: np.ndarray, bins: np.ndarray) -> np.ndarray:
        """s_t = (e_t - med_bin(t)) / mad_bin(t)."""
        return (np.asarray(errors, dtype=np.float64) - self.median[bins]) / self.scale[bins]


def cycle_mean(scores: np.ndarray, cycle: np.ndarray) -> np.ndarray:
    """Each point's cycle's mean score: c_t = mean{s_u : cycle(u) = cycle(t)}.

    >>> cycle_mean(np.array([1.0, 3.0, 5.0]), np.array([0, 0, 1])).tolist()
    [2.0, 2.0, 5.0]
    """
    s = np.asarray(scores, dtype=np.float64)
    _, inverse = np.unique(cycle, return_inverse=True)
    totals = np.bincount(inverse, weights=s)
    counts = np.bincount(inverse)
    return (totals / counts)[inverse]
