"""The anomaly detector's configuration: a ``model`` and a ``data`` section (frozen, validated).

Training knobs (epochs, learning rate, seed, ...) are the one
`lstmkit.train.TrainConfig`; every field here is also a CLI flag and a YAML
key (`lstmkit.tasks.configs`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lstmkit.tasks.configs import check_choices, from_dict, knob, to_dict

DETECTORS = ("prediction", "reconstruction")
NORMALISATIONS = ("phase", "global")
AGGREGATIONS = ("cycle", "point")
LEVELS = ("local", "global")


TRAIN_DEFAULTS: dict[str, Any] = {  # the TrainConfig fields Detect sets differently
    "max_epochs": 10, "lr": 3e-3, "schedule": "cosine", "min_lr_ratio": 0.05, "accelerator": "cpu",
}


def _positive(name: str, value: Any, low: int = 1, optional: bool = False) -> None:
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        what = f"None or an integer >= {low}" if optional else f"an integer >= {low}"
        raise ValueError(f"{name} must be {what}, received {value!r}")


@dataclass(frozen=True)
class DetectModelConfig:
    """The detector.

    Attributes:
        detector: ``"prediction"`` (LSTM one-step predictor, Hundman et al. 2018) or
            ``"reconstruction"`` (LSTM encoder-decoder, Malhotra et al. 2016).
        level: ``"local"``: every window is measured from its own level, the mean of
            its L values per channel, m_w = (1/L) sum_{i<L} z_{t-L+i}; the network reads
            z - m_w and predicts (or reconstructs) z - m_w, so a series that drifts
            out of the training range looks to it like the training data (its errors
            do not grow with the level); ``"global"``: the standardised values as they are
            (the former behaviour; models saved without this field load with it).
        window: lookback (prediction) or window length (reconstruction); None picks
            the smallest whole number of dominant periods of the training series that is
            >= 16 (capped at 400), or 64 when the series has none.
        normalise: ``"phase"``: each point's error is standardised by the median and MAD
            of the training errors at the same position in the cycle (`cycles`);
            ``"global"``: by the training errors' mean and standard deviation only.
        aggregate: ``"cycle"``: a point's score is its cycle's mean normalised error (flags
            cover whole cycles); ``"point"``: the EWMA (span `smoothing`) of the per-point
            error.  Both phase normalisation and cycles need a period; without one the
            score is the per-point EWMA.
        hidden_size, num_layers: the LSTM(s).
        smoothing: span h of the EWMA applied to per-point errors.
        min_decrease: the pruning parameter p of the dynamic threshold.
    """

    detector: str = knob("prediction", choices=DETECTORS,
                         help="prediction error + dynamic threshold (Hundman 2018) or "
                              "encoder-decoder reconstruction (Malhotra 2016)")
    level: str = knob("local", choices=LEVELS,
                      help="local: each window measured from its own mean (drift-proof); "
                           "global: the standardised values as they are")
    window: int | None = knob(None, help="lookback / window length (none: the series' dominant period)")
    hidden_size: int = knob(32, help="LSTM hidden units")
    num_layers: int = knob(1, help="stacked LSTM layers")
    normalise: str = knob("phase", choices=NORMALISATIONS,
                          help="phase: errors measured against training errors at the same cycle position; "
                               "global: against all training errors")
    aggregate: str = knob("point", choices=AGGREGATIONS,
                          help="cycle: score = the cycle's mean error (whole-cycle events); point: EWMA per point")
    smoothing: int = knob(8, help="EWMA span of the errors (aggregate=point)")
    min_decrease: float = knob(0.13, help="pruning parameter p of the dynamic threshold, in [0, 1)")

    def __post_init__(self) -> None:
        check_choices(self)
        for name in ("hidden_size", "num_layers", "smoothing"):
            _positive(name, getattr(self, name))
        _positive("window", self.window, 2, optional=True)
        if not 0.0 <= float(self.min_decrease) < 1.0:
            raise ValueError(f"min_decrease must be in [0, 1), received {self.min_decrease!r}")


@dataclass(frozen=True)
class DetectDataConfig:
    """How a series is read and cut into training windows.

    Attributes:
        value_col, time_col, label_col: the value column, the time column (absent:
            the row number) and the optional 0/1 label column.
        stride: step between training windows (default 1).  Reconstruction scores
            windows with step max(1, window // 4) and averages each point's errors over
            the windows that cover it.
        max_train_windows: at most this many training windows (evenly spaced) are used.
        batch_size: training windows per batch.
    """

    value_col: str = knob("y", help="value column")
    time_col: str = knob("ds", help="time column (absent from the table: the row number)")
    label_col: str = knob("label", help="0/1 label column (optional in the table)")
    stride: int | None = knob(None, help="step between training windows (none: 1)")
    max_train_windows: int = knob(8000, help="at most this many training windows, evenly spaced")
    batch_size: int = knob(64, help="training windows per batch")

    def __post_init__(self) -> None:
        _positive("stride", self.stride, 1, optional=True)
        _positive("max_train_windows", self.max_train_windows)
        _positive("batch_size", self.batch_size)


@dataclass(frozen=True)
class DetectConfig:
    """Everything `Detect` needs besides the data and the training knobs."""

    model: DetectModelConfig = field(default_factory=DetectModelConfig)
    data: DetectDataConfig = field(default_factory=DetectDataConfig)

    def __post_init__(self) -> None:
        if not isinstance(self.model, DetectModelConfig) or not isinstance(self.data, DetectDataConfig):
            raise TypeError("DetectConfig(model=DetectModelConfig(...), data=DetectDataConfig(...))")

    @property
    def detector(self) -> str:
        return self.model.detector

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> DetectConfig:
        return from_dict(cls, raw)


DetectorConfig = DetectConfig  # the former name

_LEGACY_MODEL = ("detector", "window", "hidden_size", "num_layers", "smoothing", "min_decrease")
_LEGACY_DATA = ("stride", "max_train_windows", "batch_size")
_LEGACY_TRAIN = {"epochs": "max_epochs", "lr": "lr", "seed": "seed", "progress": "progress"}


def split_legacy(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """A config.json ``config`` of lstmkit 0.1 (one flat dict) as (sections, train changes)."""
    if "model" in raw or "data" in raw:
        return None
    unknown = set(raw) - set(_LEGACY_MODEL) - set(_LEGACY_DATA) - set(_LEGACY_TRAIN)
    if unknown:
        raise ValueError(f"unknown detector config keys {sorted(unknown)}")
    sections = {"model": {k: raw[k] for k in _LEGACY_MODEL if k in raw},
                "data": {k: raw[k] for k in _LEGACY_DATA if k in raw}}
    return sections, {new: raw[old] for old, new in _LEGACY_TRAIN.items() if old in raw}
