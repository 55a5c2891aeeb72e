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

import importlib
from typing import Any

from lstmkit._extras import require

_EXPORTS = {
    **dict.fromkeys(("AnomalyDetector", "Detect", "ScoreResult", "estimate_period", "intervals_frame",
                     "rolling_zscore", "zscore_baseline"), "api"),
    **dict.fromkeys(("DETECTORS", "TRAIN_DEFAULTS", "DetectConfig", "DetectDataConfig",
                     "DetectModelConfig", "DetectorConfig"), "config"),
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'lstmkit.tasks.anomaly' has no attribute {name!r}")
    if _EXPORTS[name] != "config":  # the configs need no extra; the rest needs the trainer
        require("train", feature="lstmkit.tasks.anomaly")
    value = getattr(importlib.import_module(f"lstmkit.tasks.anomaly.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
