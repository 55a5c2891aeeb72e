"""Time-series anomaly detection with LSTMs.

`Detect` (formerly `AnomalyDetector`) with two detectors (`DetectModelConfig.detector`): ``"prediction"``, an LSTM one-step predictor
whose smoothed errors go through the non-parametric dynamic threshold of Hundman et al.
(2018), and ``"reconstruction"``, the LSTM encoder-decoder of Malhotra et al. (2016).
`zscore_baseline` is the rolling z-score baseline; `metrics` has ROC-AUC, PR-AUC,
point-wise and event-wise F1.
"""

from lstmkit.tasks.anomaly.api import (
    AnomalyDetector,
    Detect,
    ScoreResult,
    estimate_period,
    intervals_frame,
    rolling_zscore,
    zscore_baseline,
)
from lstmkit.tasks.anomaly.config import (
    DETECTORS,
    DetectConfig,
    DetectDataConfig,
    DetectModelConfig,
    DetectorConfig,
)

__all__ = [
    "DETECTORS",
    "AnomalyDetector",
    "Detect",
    "DetectConfig",
    "DetectDataConfig",
    "DetectModelConfig",
    "DetectorConfig",
    "ScoreResult",
    "estimate_period",
    "intervals_frame",
    "rolling_zscore",
    "zscore_baseline",
]
