"""Piano-roll plots (matplotlib; the backend is the caller's choice, never switched here)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .encoding import Note

COLORS = ("tab:red", "tab:blue", "tab:green", "tab:purple", "tab:orange", "tab:brown")


def plot_piano_roll(parts: Sequence[Sequence[Note]], ax: Any = None, title: str | None = None,
                    names: Sequence[str] | None = None) -> Any:
    """Draw notes as bars (time in quarter notes across, MIDI pitch up); returns the Figure.

    ``parts``: one note list per part, each drawn in its own colour (a legend
    names them when ``names`` is given).
    """
    import matplotlib.pyplot as plt

    pitches = [n.pitch for part in parts for n in part]
    if not pitches:
        raise ValueError("plot_piano_roll: nothing to draw (no notes)")
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(8, 3))
    else:
        fig = ax.figure
    for i, part in enumerate(parts):
        color = COLORS[i % len(COLORS)]
        bars = [(n.start, n.end - n.start) for n in part]
        for n, bar in zip(part, bars):
            ax.broken_barh([bar], (n.pitch - 0.4, 0.8), facecolors=color, edgecolors="none")
        if names and i < len(names):
            ax.plot([], [], color=color, linewidth=6, label=names[i])
    ax.set_ylim(min(pitches) - 2, max(pitches) + 2)
    ax.set_xlim(0, max(n.end for part in parts for n in part))
    ax.set_xlabel("time (quarter notes)")
    ax.set_ylabel("MIDI pitch")
    if names:
        ax.legend(loc="upper right", fontsize="small", ncol=len(names))
    if title:
        ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    if own:  # a figure made here is laid out here; a caller's axes keep the caller's layout
        fig.tight_layout()
    return fig
