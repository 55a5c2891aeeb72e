"""Time-series anomaly detection with LSTMs.

`Detect` (formerly `AnomalyDetector`) with two detectors
(`DetectModelConfig.detector`): ``"prediction"``, an LSTM one-step predictor
whose smoothed errors go through the non-parametric dynamic threshold of
Hundman et al. (2018), and ``"reconstruction"``, the LSTM encoder-decoder of
Malhotra et al. (2016). `zscore_baseline` is the rolling z-score baseline;
`metrics` has ROC-AUC, PR-AUC, point-wise and event-wise F1.

Names are imported on first use (the command line reads the configs without
loading the trainer).
"""

from __future__ import annotations

from lstmkit.tasks._lazy import lazy_exports

_EXPORTS = {
    **dict.fromkeys(("AnomalyDetector", "Detect", "ScoreResult", "estimate_period", "intervals_frame",
                     "rolling_zscore", "zscore_baseline"), "api"),
    **dict.fromkeys(("DETECTORS", "TRAIN_DEFAULTS", "DetectConfig", "DetectDataConfig",
                     "DetectModelConfig", "DetectorConfig"), "config"),
}
__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
