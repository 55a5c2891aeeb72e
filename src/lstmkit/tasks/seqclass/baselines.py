"""The baselines every sequence-classification report carries.

All of them see the same standardised, NaN-free series as the network (the
:class:`~lstmkit.tasks.seqclass.data.Preprocessor` fitted on the training data):

* ``dtw``: 1-nearest neighbour under dynamic time warping (aeon's
  ``KNeighborsTimeSeriesClassifier(distance="dtw", n_neighbors=1)``; full
  window, dependent multivariate DTW ``DTW_D``: one warping path for all channels);
* ``minirocket``: MiniRocket features with a ridge classifier (aeon's
  ``MiniRocketClassifier``, seeded); series are brought to the longest training
  length (at least 9) by cutting or repeating the last step;
* ``summary_lr``: multinomial logistic regression on per-channel summary
  statistics (mean, standard deviation, min, max, first, last, least-squares
  slope over time, length), standardised (scikit-learn).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from lstmkit.tasks.seqclass.config import BASELINES
from lstmkit.tasks.seqclass.data import pad_edge

__all__ = ["BASELINES", "Baseline", "summary_features"]


def summary_features(series: list[np.ndarray]) -> np.ndarray:
    """``(n, 7 C + 1)``: per channel mean, std, min, max, first, last, slope; then the length."""
    rows = []
    for s in series:                                               # (L, C)
        t = np.arange(len(s), dtype=np.float64)
        tc = t - t.mean()
        denom = float((tc ** 2).sum()) or 1.0
        slope = (tc[:, None] * (s - s.mean(axis=0))).sum(axis=0) / denom
        rows.append(np.concatenate([s.mean(0), s.std(0), s.min(0), s.max(0), s[0], s[-1], slope, [len(s)]]))
    return np.asarray(rows)


def _collection(series: list[np.ndarray]) -> Any:
    """aeon's layout: (n, C, L) when lengths agree, else a list of (C, L)."""
    if len({len(s) for s in series}) == 1:
        return np.stack([s.T for s in series]).astype(np.float64)
    return [np.ascontiguousarray(s.T, dtype=np.float64) for s in series]


class Baseline:
    """A fitted baseline: ``predict(series) -> class indices``."""

    def __init__(self, name: str, series: list[np.ndarray], targets: np.ndarray, seed: int = 0) -> None:
        if name not in BASELINES:
            raise ValueError(f"unknown baseline {name!r}; choose from {', '.join(BASELINES)}")
        self.name = name
        self.length = max(9, max(len(s) for s in series))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if name == "dtw":
                from aeon.classification.distance_based import KNeighborsTimeSeriesClassifier

                self.model = KNeighborsTimeSeriesClassifier(distance="dtw", n_neighbors=1)
                self.model.fit(_collection(series), targets)
            elif name == "minirocket":
                from aeon.classification.convolution_based import MiniRocketClassifier

                self.model = MiniRocketClassifier(random_state=seed, n_jobs=1)
                self.model.fit(pad_edge(series, self.length), targets)
            else:
                from sklearn.linear_model import LogisticRegression
                from sklearn.pipeline import make_pipeline
                from sklearn.preprocessing import StandardScaler

                self.model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
                self.model.fit(summary_features(series), targets)

    def predict(self, series: list[np.ndarray]) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if self.name == "dtw":
                out = self.model.predict(_collection(series))
            elif self.name == "minirocket":
                out = self.model.predict(pad_edge(series, self.length))
            else:
                out = self.model.predict(summary_features(series))
        return np.asarray(out).astype(np.int64)
