"""A PNG heatmap of attention weights: rows = generated target tokens, columns = source tokens."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lstmkit.io import atomic_savefig


def plot_attention(weights, source_tokens: Sequence[str], target_tokens: Sequence[str], title: str = "",
                   *, ax=None):
    """Draw ``weights`` (T, S), α_{t,s} = attention of target step t on source token s; returns the Figure.

    Drawn on ``ax`` when given, else on a new figure made without pyplot (the
    matplotlib backend is never changed).
    """
    weights = np.asarray(weights, dtype=float)
    if weights.ndim != 2 or weights.shape != (len(target_tokens), len(source_tokens)):
        raise ValueError(
            f"weights: expected shape ({len(target_tokens)}, {len(source_tokens)}) = (target, source) "
            f"tokens, received {weights.shape}"
        )
    from matplotlib.figure import Figure

    if ax is None:
        width = max(4.0, 0.35 * len(source_tokens) + 2)
        height = max(3.0, 0.3 * len(target_tokens) + 1.5)
        ax = Figure(figsize=(width, height)).subplots()
    fig = ax.figure
    image = ax.imshow(weights, cmap="viridis", aspect="auto", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(len(source_tokens)), [t.strip() or "␣" for t in source_tokens], rotation=90)
    ax.set_yticks(range(len(target_tokens)), [t.strip() or "␣" for t in target_tokens])
    ax.set_xlabel("source")
    ax.set_ylabel("translation")
    if title:
        ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.03)
    fig.tight_layout()
    return fig


def save_attention_heatmap(
    weights, source_tokens: Sequence[str], target_tokens: Sequence[str], path: str | Path, title: str = ""
) -> Path:
    """Write `plot_attention` of ``weights`` as a PNG (under a temporary name, renamed into place)."""
    fig = plot_attention(weights, source_tokens, target_tokens, title)
    atomic_savefig(fig, path, format="png", dpi=100)
    return Path(path)
