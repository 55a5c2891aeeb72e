"""Text classification and sentiment: (Bi)LSTM with last / max / mean / attention pooling.

* :class:`Classify` (the task: ``fit(train, val=None) -> self``, ``predict`` -> DataFrame,
  ``evaluate`` with the majority and TF-IDF baselines, ``save`` / ``load``) and
  :class:`ClassifyConfig` (``model`` and ``data`` sections);
* :class:`TextClassifier`, :class:`ClassifierConfig`: the 0.1 interface, a thin wrapper;
* :mod:`.data`: CSV / TSV reading with file:line errors, encoding and batching;
* :mod:`.metrics`: accuracy, macro-F1, confusion matrix, RMSE, Pearson r;
* :mod:`.baselines`: TF-IDF + logistic regression / ridge.

Names are imported on first use, so reading the configs (what the command line
needs to build its parsers) does not load torch's trainer.
"""

from __future__ import annotations

import importlib
from typing import Any

from lstmkit._extras import require

_EXPORTS = {
    "ClassifierConfig": "model",
    "Classify": "task",
    "ClassifyConfig": "config",
    "ClassifyDataConfig": "config",
    "ClassifyModelConfig": "config",
    "Predictions": "task",
    "TRAIN_DEFAULTS": "config",
    "TextClassifier": "api",
    "TfidfBaseline": "baselines",
    "classification_report": "metrics",
    "confusion_matrix": "metrics",
    "read_table": "data",
    "regression_report": "metrics",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'lstmkit.tasks.classify' has no attribute {name!r}")
    if _EXPORTS[name] != "config":  # the configs need no extra; the rest needs the trainer
        require("train", feature="lstmkit.tasks.classify")
    value = getattr(importlib.import_module(f"lstmkit.tasks.classify.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
