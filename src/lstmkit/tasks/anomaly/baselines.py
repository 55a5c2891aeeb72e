"""Isolation forest on sliding windows: the shape-aware baseline beside the rolling z-score.

For standardised values x_1..x_T (per channel, with the series' own mean and std) and
window length w, window s is the vector (x_s, .., x_{s+w-1}) (channels concatenated).
An isolation forest (Liu, Ting & Zhou 2008; scikit-learn, 200 trees, seed 0) is
fitted on all windows of the series being scored (it is unsupervised: no labels, no
separate training data) and gives each window the score -score_samples (higher =
easier to isolate = more anomalous).  A point's score is the mean score of the
windows that cover it, minus the median of those point scores (the threshold's
pruning compares relative decreases, which a constant offset of ~0.5 would flatten);
flags come from the same dynamic threshold as the LSTM
detectors (`threshold.dynamic_threshold`), so the event-level comparison is like for
like.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

MAX_WINDOWS = 20_000   # an even subset of windows trains the forest on long series


def window_scores_to_points(window_scores: np.ndarray, n: int, window: int) -> np.ndarray:
    """Mean, per point, of the scores of the windows [s, s + w) that cover it.

    >>> window_scores_to_points(np.array([1.0, 3.0]), 3, 2).tolist()
    [1.0, 2.0, 3.0]
    """
    total = np.convolve(window_scores, np.ones(window))[:n]
    count = np.convolve(np.ones(len(window_scores)), np.ones(window))[:n]
    return total / np.maximum(count, 1)


def isolation_forest_scores(values: np.ndarray, window: int, seed: int = 0) -> np.ndarray:
    """Point scores (T,) of an isolation forest on the series' windows of length `window`."""
    from sklearn.ensemble import IsolationForest

    x = np.asarray(values, dtype=np.float64)
    x = x[:, None] if x.ndim == 1 else x
    std = x.std(axis=0)
    z = (x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)
    window = max(1, min(int(window), len(z)))
    win = sliding_window_view(z, window, axis=0)                        # (N, C, w)
    feats = win.reshape(len(win), -1)
    forest = IsolationForest(n_estimators=200, random_state=seed)
    if len(feats) > MAX_WINDOWS:
        forest.fit(feats[np.linspace(0, len(feats) - 1, MAX_WINDOWS).round().astype(int)])
    else:
        forest.fit(feats)
    return window_scores_to_points(-forest.score_samples(feats), len(z), window)


def isolation_forest_baseline(values: np.ndarray, window: int, seed: int = 0):
    """`api.ScoreResult` of the isolation-forest baseline (dynamic-threshold flags)."""
    from lstmkit.tasks.anomaly.api import ScoreResult
    from lstmkit.tasks.anomaly.threshold import dynamic_threshold

    scores = isolation_forest_scores(values, window, seed)
    scores = scores - np.median(scores)
    result = dynamic_threshold(scores)
    return ScoreResult(scores, result.flags, result.intervals, result.epsilon)
