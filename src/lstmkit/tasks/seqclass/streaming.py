"""Early classification: how accurate is a monitor that has seen only the first part of each series?

For series :math:`i` of length :math:`T_i` and a fraction :math:`f \\in (0, 1]`,
the prediction at :math:`f` is the class of highest probability after step
:math:`\\lceil f T_i \\rceil` (:meth:`SeqClass.predict_proba_steps`: only those
steps were read), and

.. math::
    \\mathrm{acc}(f) = \\frac1n \\sum_i [\\hat y_i(f) = y_i],

so :math:`\\mathrm{acc}(1)` is the ordinary accuracy of the streaming model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

FRACTIONS = tuple(np.round(np.linspace(0.1, 1.0, 10), 2))


def early_accuracy(task: Any, data: Any, fractions: Sequence[float] = FRACTIONS) -> pd.DataFrame:
    """Columns ``fraction, accuracy, n``: accuracy after seeing each fraction of every series.

    ``task``: a fitted unidirectional :class:`~lstmkit.tasks.seqclass.SeqClass`;
    ``data``: labelled sequences.
    """
    from lstmkit.tasks.seqclass.data import read_sequences

    fractions = [float(f) for f in fractions]
    if not fractions or any(not 0 < f <= 1 for f in fractions):
        raise ValueError(f"fractions: expected values in (0, 1], got {fractions}")
    seqs = read_sequences(data, task.config.data, "evaluation data")
    targets = task._targets(seqs, "evaluation data")
    steps = task.predict_proba_steps(seqs_as_input(seqs))
    rows = []
    for f in fractions:
        hits = [p[max(1, int(np.ceil(f * len(p)))) - 1].argmax() == y for p, y in zip(steps, targets)]
        rows.append({"fraction": f, "accuracy": float(np.mean(hits)), "n": len(hits)})
    return pd.DataFrame(rows)


def seqs_as_input(seqs: Any) -> list[np.ndarray]:
    """Read :class:`Sequences` back into the list-of-(channels, length) input form."""
    return [v.T for v in seqs.values]


def plot_early_accuracy(curve: pd.DataFrame, ax: Any = None, label: str | None = None,
                        baseline: float | None = None) -> Any:
    """Accuracy against the fraction of each sequence seen; returns the Figure.

    ``baseline``: a horizontal reference (e.g. a full-sequence baseline's accuracy).
    The backend is never switched; pass ``ax`` to draw into an existing figure.
    """
    if ax is None:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 3.5))
    else:
        fig = ax.figure
    ax.plot(curve["fraction"], curve["accuracy"], marker="o", label=label or "streaming LSTM")
    if baseline is not None:
        ax.axhline(baseline, color="grey", linestyle="--", label="full-sequence baseline")
    ax.set_xlabel("fraction of the sequence seen")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return fig
