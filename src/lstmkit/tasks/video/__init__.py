"""Video as sequences: next-frame prediction and clip classification (see `api`).

Public API: `Video`, the configs (`VideoConfig`, `VideoModelConfig`,
`VideoDataConfig`), the reader (`read_clips`, `Clips`), the generators
(`moving_objects`, `action_clips`, `load_fashion_mnist`, `ACTIONS`), the
networks (`EncoderForecaster`, `LRCN`, `ConvLSTMClassifier`,
`FrameAverageCNN`) and the metrics (`nextframe_metrics`, `ssim_frames`,
`copy_last`, `linear_extrapolation`, `prediction_strip`).

Names are imported on first use, so reading the configs (what the command line
needs to build its parsers) does not load torch's trainer.
"""

from __future__ import annotations

from lstmkit.tasks._lazy import lazy_exports

_EXPORTS = {
    "Video": "api", "classification_metrics": "api",
    "VideoConfig": "config", "VideoModelConfig": "config", "VideoDataConfig": "config",
    "TRAIN_DEFAULTS": "config",
    "Clips": "data", "read_clips": "data",
    "moving_objects": "synth", "action_clips": "synth", "load_fashion_mnist": "synth", "ACTIONS": "synth",
    "EncoderForecaster": "models", "LRCN": "models", "ConvLSTMClassifier": "models",
    "FrameAverageCNN": "models",
    "nextframe_metrics": "metrics", "ssim_frames": "metrics", "copy_last": "metrics",
    "linear_extrapolation": "metrics", "prediction_strip": "metrics",
}
__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
