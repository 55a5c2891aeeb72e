"""Plots of gate traces: a picture where a person would rather look than read.

``plot_gates`` draws one heat map per gate (units x steps, 0 to 1), the cell
state and the output, with optional tokens along the time axis;
``plot_saturation`` draws the left/right saturation scatter of Karpathy et al.
(2016), one point per unit. Both return the matplotlib ``Figure`` (drawn on
the ``axes`` given, else on a new figure) and, given a ``path``, also write it
as a PNG atomically. They never change matplotlib's backend (figures are made
without pyplot), so they display inline in notebooks. matplotlib is imported
lazily (it is in the ``train`` extra).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from lstmkit.inspect.traces import GateTrace, saturation
from lstmkit.io import atomic_savefig


def _save(fig, path: str | os.PathLike | None) -> None:
    if path is not None:
        atomic_savefig(fig, path, dpi=110, bbox_inches="tight")


def _axes(ax, rows: int, cols: int, figsize, **kw):
    """``rows x cols`` axes: the ones given (any shape with that many), else a new pyplot-free figure."""
    import numpy as np
    from matplotlib.figure import Figure

    if ax is None:
        fig = Figure(figsize=figsize)
        return fig, fig.subplots(rows, cols, squeeze=False, **kw)
    axes = np.asarray(ax, dtype=object).reshape(-1)
    if len(axes) != rows * cols:
        raise ValueError(f"ax: expected {rows * cols} axes, got {len(axes)}")
    return axes[0].figure, axes.reshape(rows, cols)


def plot_gates(tr: GateTrace, path: str | os.PathLike | None = None, units: Sequence[int] | None = None,
               tokens: Sequence[str] | None = None, title: str | None = None, *, ax=None):
    """Heat maps of every gate, c and h over time for the chosen units (all by default).

    ``ax``: one axes per trace (gates, c, h) to draw on. Returns the Figure.
    """
    names = list(tr.values)
    if tokens is not None and len(tokens) != tr.length:
        raise ValueError(f"tokens: expected {tr.length} (one per step), got {len(tokens)}")
    fig, axes = _axes(ax, len(names), 1, (max(6, tr.length * 0.25), 1.6 * len(names)), sharex=True)
    shown = list(range(tr.values[names[0]].shape[1])) if units is None else list(units)
    for ax, name in zip(axes[:, 0], names):
        v = tr.values[name]
        if units is not None:
            v = v[:, shown]
        bounded = name not in ("c", "h", "g", "n")  # gates live in [0, 1]
        if len(shown) <= 4:  # a few units read best as lines
            for k, unit in enumerate(shown):
                ax.plot(v[:, k].numpy(), marker=".", label=f"unit {unit}")
            if bounded:
                ax.set_ylim(-0.05, 1.05)
            ax.set_ylabel(name)
            ax.legend(fontsize=7, loc="upper right")
            continue
        span = 1.0 if bounded else max(float(v.abs().max()), 1e-12)  # diverging maps centre on 0
        im = ax.imshow(v.T.numpy(), aspect="auto", interpolation="nearest",
                       cmap="viridis" if bounded else "RdBu_r",
                       vmin=0 if bounded else -span, vmax=span)
        ax.set_ylabel(f"{name}\nunit")
        if len(shown) <= 16:
            ax.set_yticks(range(len(shown)))
            ax.set_yticklabels([str(u) for u in shown], fontsize=6)
        fig.colorbar(im, ax=ax, fraction=0.02, pad=0.01)
    last = axes[-1, 0]
    last.set_xlabel("step")
    if tokens is not None:
        last.set_xticks(range(tr.length))
        last.set_xticklabels(tokens, rotation=90, fontsize=7)
    fig.suptitle(title or f"gates of {tr.key}")
    _save(fig, path)
    return fig


def plot_saturation(tr: GateTrace, path: str | os.PathLike | None = None, title: str | None = None, *,
                    ax=None):
    """Left- vs right-saturation fraction per unit, one panel per gate (``ax``: one per gate).

    Returns the Figure.
    """
    sat = saturation(tr)
    fig, axes = _axes(ax, 1, len(sat), (3.2 * len(sat), 3.2))
    for ax, (name, s) in zip(axes[0], sat.items()):
        ax.scatter(s["left"].numpy(), s["right"].numpy(), s=10, alpha=0.7)
        ax.plot([0, 1], [1, 0], color="grey", lw=0.5)
        ax.set_xlim(0, 1), ax.set_ylim(0, 1)
        ax.set_xlabel("fraction left-saturated (< 0.1)")
        ax.set_ylabel("fraction right-saturated (> 0.9)")
        ax.set_title(f"{name} gate")
    fig.suptitle(title or f"gate saturation of {tr.key}")
    _save(fig, path)
    return fig
