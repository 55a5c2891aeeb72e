"""Inspection: gate and cell-state traces of a recurrent layer, as numbers, plots and an interactive view.

``trace`` / ``saturation`` give the numbers, ``plot_gates`` / ``plot_saturation``
static PNGs, and ``view(model_dir, data)`` one self-contained HTML page per
model and data set (:mod:`lstmkit.inspect.viewer`). The view runs task
models, so it belongs to the tasks' layer (docs/architecture.md): this package
reaches it by name on first use of ``view`` / ``View``, the way
:data:`lstmkit.tasks.TASKS` reaches the task classes, and importing the
traces never imports the tasks.
"""

import importlib
from typing import Any

from lstmkit.inspect.plots import plot_gates, plot_saturation
from lstmkit.inspect.traces import GateTrace, saturation, trace

__all__ = ["GateTrace", "trace", "saturation", "plot_gates", "plot_saturation", "view", "View"]

_LAZY = {"view": "lstmkit.inspect.viewer", "View": "lstmkit.inspect.viewer"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'lstmkit.inspect' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value
