"""Time-series anomaly detection with LSTMs.

Two detectors (`DetectorConfig.detector`): ``"prediction"``, an LSTM one-step predictor
whose smoothed errors go through the non-parametric dynamic threshold of Hundman et al.
(2018), and ``"reconstruction"``, the LSTM encoder-decoder of Malhotra et al. (2016).
`zscore_baseline` is the rolling z-score baseline; `metrics` has ROC-AUC, PR-AUC,
point-wise and event-wise F1.
"""

from lstmkit._extras import require

require("train", feature="lstmkit.tasks.anomaly")  # one line naming the extra, not a deep ImportError

from lstmkit.tasks.anomaly.api import (
    AnomalyDetector,
    ScoreResult,
    estimate_period,
    intervals_frame,
    rolling_zscore,
    zscore_baseline,
)
from lstmkit.tasks.anomaly.config import DETECTORS, DetectorConfig

__all__ = [
    "DETECTORS",
    "AnomalyDetector",
    "DetectorConfig",
    "ScoreResult",
    "estimate_period",
    "intervals_frame",
    "rolling_zscore",
    "zscore_baseline",
]
