"""A PNG of a series with its flagged intervals (red) and labelled anomalies, and the score."""

from __future__ import annotations

import os

import numpy as np

from lstmkit.tasks.forecast.plots import save_figure_atomic


def plot_anomalies(index, values: np.ndarray, scores: np.ndarray, intervals,
                   path: str | os.PathLike | None = None, *, threshold: float | None = None,
                   labels: np.ndarray | None = None, title: str = "", ax=None):
    """Two panels: the series with flagged intervals shaded and true anomalies in orange,
    and the anomaly score with the threshold.

    ``ax``: two axes (series, score) to draw on; else a new figure, made without pyplot
    (the matplotlib backend is never changed). Returns the Figure; with ``path`` also
    writes it as a PNG atomically.
    """
    from matplotlib.figure import Figure

    x = np.asarray(index)
    if ax is None:
        fig = Figure(figsize=(11, 5))
        top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    else:
        top, bottom = ax
        fig = top.figure
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
    if path is not None:
        save_figure_atomic(fig, path)
    return fig
