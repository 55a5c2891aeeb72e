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

from lstmkit.tasks._lazy import lazy_exports

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


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
