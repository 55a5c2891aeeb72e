"""A PNG of a series with its flagged intervals (red) and labelled anomalies, and the score."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from lstmkit.tasks.forecast.plots import save_figure_atomic


def plot_anomalies(index, values: np.ndarray, scores: np.ndarray, intervals, path: str | os.PathLike, *,
                   threshold: float | None = None, labels: np.ndarray | None = None,
                   title: str = "") -> Path:
    """Two panels: the series with flagged intervals shaded and true anomalies in orange,
    and the anomaly score with the threshold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.asarray(index)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 5), sharex=True,
                                      gridspec_kw={"height_ratios": [2, 1]})
    top.plot(x, values, color="black", lw=0.8, label="series")
    if labels is not None and np.any(labels):
        top.plot(x, np.where(np.asarray(labels) > 0, values, np.nan), color="tab:orange", lw=2.0,
                 label="labelled anomaly")
    for k, (a, b, _) in enumerate(intervals):
        top.axvspan(x[a], x[b], color="tab:red", alpha=0.25, label="flagged" if k == 0 else None)
        bottom.axvspan(x[a], x[b], color="tab:red", alpha=0.25)
    bottom.plot(x, scores, color="tab:blue", lw=0.8, label="score")
    if threshold is not None and np.isfinite(threshold):
        bottom.axhline(threshold, color="tab:red", ls="--", lw=1.0, label="threshold")
    top.set_title(title or "anomaly detection", fontsize=10)
    top.legend(fontsize=8, loc="upper left")
    bottom.legend(fontsize=8, loc="upper left")
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    try:
        return save_figure_atomic(fig, path)
    finally:
        plt.close(fig)
