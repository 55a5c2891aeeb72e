"""The anomaly detector's configuration (one frozen dataclass, validated on construction)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

DETECTORS = ("prediction", "reconstruction")


@dataclass(frozen=True)
class DetectorConfig:
    """How a detector is built, trained and thresholded.

    Attributes:
        detector: ``"prediction"`` (LSTM one-step predictor, Hundman et al. 2018) or
            ``"reconstruction"`` (LSTM encoder-decoder, Malhotra et al. 2016).
        window: lookback (prediction) or window length (reconstruction); None picks
            the dominant period of the training series (autocorrelation peak), clipped
            to [16, 200], or 64 when the series has none.
        stride: step between training windows (default 1).  Reconstruction scores
            windows with step max(1, window // 4) and averages each point's errors over
            the windows that cover it.
        hidden_size, num_layers: the LSTM(s).
        epochs, batch_size, lr, seed: training knobs (`lstmkit.train.fit`, AdamW, cosine decay).
        max_train_windows: at most this many training windows (evenly spaced) are used.
        smoothing: span h of the EWMA applied to per-point errors.
        min_decrease: the pruning parameter p of the dynamic threshold.
        progress: show progress bars.
    """

    detector: str = "prediction"
    window: int | None = None
    stride: int | None = None
    hidden_size: int = 32
    num_layers: int = 1
    epochs: int = 10
    batch_size: int = 64
    lr: float = 3e-3
    seed: int = 0
    max_train_windows: int = 8000
    smoothing: int = 8
    min_decrease: float = 0.13
    progress: bool = True

    def __post_init__(self) -> None:
        if self.detector not in DETECTORS:
            raise ValueError(f"detector must be one of {DETECTORS}, received {self.detector!r}")
        for name in ("hidden_size", "num_layers", "epochs", "batch_size", "max_train_windows", "smoothing"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, received {value!r}")
        for name, low in (("window", 2), ("stride", 1)):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < low):
                raise ValueError(f"{name} must be None or an integer >= {low}, received {value!r}")
        if not float(self.lr) > 0:
            raise ValueError(f"lr must be > 0, received {self.lr!r}")
        if not 0.0 <= float(self.min_decrease) < 1.0:
            raise ValueError(f"min_decrease must be in [0, 1), received {self.min_decrease!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> DetectorConfig:
        unknown = set(raw) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown DetectorConfig keys {sorted(unknown)}")
        return cls(**raw)
