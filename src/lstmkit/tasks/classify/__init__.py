"""Text classification and sentiment: (Bi)LSTM with last / max / mean / attention pooling.

* :class:`TextClassifier` (``fit``, ``predict``, ``evaluate``, ``save``, ``load``),
  :class:`ClassifierConfig`, :class:`Predictions`;
* :mod:`.data`: CSV / TSV reading with file:line errors, encoding and batching;
* :mod:`.metrics`: accuracy, macro-F1, confusion matrix, RMSE, Pearson r;
* :mod:`.baselines`: TF-IDF + logistic regression / ridge.
"""

from lstmkit._extras import require

require("train", feature="lstmkit.tasks.classify")  # one line naming the extra, not a deep ImportError

from .api import Predictions, TextClassifier
from .baselines import TfidfBaseline
from .data import read_table
from .metrics import classification_report, confusion_matrix, regression_report
from .model import ClassifierConfig

__all__ = [
    "ClassifierConfig",
    "Predictions",
    "TextClassifier",
    "TfidfBaseline",
    "classification_report",
    "confusion_matrix",
    "read_table",
    "regression_report",
]
