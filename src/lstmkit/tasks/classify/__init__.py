"""Text classification and sentiment: (Bi)LSTM with last / max / mean / attention pooling.

* :class:`Classify` (the task: ``fit(train, val=None) -> self``, ``predict`` -> DataFrame,
  ``evaluate`` with the majority and TF-IDF baselines, ``save`` / ``load``) and
  :class:`ClassifyConfig` (``model`` and ``data`` sections);
* :class:`TextClassifier`, :class:`ClassifierConfig`: the 0.1 interface, a thin wrapper;
* :mod:`.data`: CSV / TSV reading with file:line errors, encoding and batching;
* :mod:`.metrics`: accuracy, macro-F1, confusion matrix, RMSE, Pearson r;
* :mod:`.baselines`: TF-IDF + logistic regression / ridge.
"""

from lstmkit._extras import require

require("train", feature="lstmkit.tasks.classify")  # one line naming the extra, not a deep ImportError

from .api import TextClassifier
from .baselines import TfidfBaseline
from .config import ClassifyConfig, ClassifyDataConfig, ClassifyModelConfig
from .data import read_table
from .metrics import classification_report, confusion_matrix, regression_report
from .model import ClassifierConfig
from .task import Classify, Predictions

__all__ = [
    "ClassifierConfig",
    "Classify",
    "ClassifyConfig",
    "ClassifyDataConfig",
    "ClassifyModelConfig",
    "Predictions",
    "TextClassifier",
    "TfidfBaseline",
    "classification_report",
    "confusion_matrix",
    "read_table",
    "regression_report",
]
