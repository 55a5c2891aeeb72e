"""PNG plots of history, forecast and prediction interval, one panel per series."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from lstmkit.io import atomic_savefig


def save_figure_atomic(fig, path: str | os.PathLike) -> Path:
    """Save a matplotlib figure to a temp file beside `path`, then rename it."""
    return atomic_savefig(fig, path, dpi=110, bbox_inches="tight")


def check_max_series(max_series: object) -> int:
    """How many series to plot, from the user: an integer >= 1."""
    if isinstance(max_series, bool) or not isinstance(max_series, int) or max_series < 1:
        raise ValueError(f"max_series (--plot-series, how many series to plot): expected an integer >= 1, "
                         f"received {max_series!r}")
    return max_series


def plot_forecasts(history: pd.DataFrame, forecast: pd.DataFrame, path: str | os.PathLike | None = None, *,
                   actual: pd.DataFrame | None = None, baselines: dict[str, pd.DataFrame] | None = None,
                   max_series: int = 4, history_steps: int | None = None,
                   id_col: str = "unique_id", time_col: str = "ds", target_col: str = "y",
                   title: str | None = None, ax=None):
    """Plot the first `max_series` series: history, median forecast, the widest interval.

    Args:
        history, actual: long frames (id, ds, y); `actual` are the held-out values.
        forecast: long frame with ``y_hat`` and quantile columns ``y_q*``.
        baselines: optional {name: frame with id, ds, y_hat} drawn as dashed lines.
        history_steps: show only the last this-many history steps.
        ax: an axes (or a sequence of axes, one per series) to draw on; else a new
            figure, made without pyplot (the matplotlib backend is never changed).

    Returns the Figure; with `path` it is also written as a PNG atomically.
    """
    check_max_series(max_series)
    from matplotlib.figure import Figure

    ids = list(dict.fromkeys(forecast[id_col].astype(str)))[:max_series]
    qcols = sorted((c for c in forecast.columns if c.startswith("y_q")), key=lambda c: float(c[3:]))
    if ax is None:
        fig = Figure(figsize=(9, 3.0 * len(ids)))
        axes = list(fig.subplots(len(ids), 1, squeeze=False)[:, 0])
    else:
        axes = list(np.asarray(ax, dtype=object).reshape(-1))
        ids = ids[: len(axes)]
        fig = axes[0].figure
    for ax, uid in zip(axes, ids):
        hist = history[history[id_col].astype(str) == uid]
        if history_steps is not None:
            hist = hist.iloc[-history_steps:]
        fc = forecast[forecast[id_col].astype(str) == uid]
        ax.plot(hist[time_col], hist[target_col], color="black", lw=1.2, label="history")
        if actual is not None:
            act = actual[actual[id_col].astype(str) == uid]
            ax.plot(act[time_col], act[target_col], color="black", lw=1.2, ls=":", label="actual")
        if len(qcols) >= 2:
            lo, hi = qcols[0], qcols[-1]
            ax.fill_between(fc[time_col], fc[lo], fc[hi], color="tab:blue", alpha=0.25,
                            label=f"{lo[3:]}-{hi[3:]}% interval")
        ax.plot(fc[time_col], fc["y_hat"], color="tab:blue", lw=1.8, label="LSTM forecast")
        for k, (name, frame) in enumerate((baselines or {}).items()):
            part = frame[frame[id_col].astype(str) == uid]
            ax.plot(part[time_col], part["y_hat"], ls="--", lw=1.0, color=f"C{k + 1}", label=name)
        ax.set_title(f"{title + ': ' if title else ''}{uid}", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
        if np.issubdtype(np.asarray(hist[time_col]).dtype, np.datetime64):
            fig.autofmt_xdate()
    fig.tight_layout()
    if path is not None:
        save_figure_atomic(fig, path)
    return fig
