"""The video task's configuration: a ``model`` and a ``data`` section (frozen, validated).

Every field is also a CLI flag and a YAML key (:mod:`lstmkit.tasks.configs`);
training knobs are the one :class:`lstmkit.train.TrainConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lstmkit.tasks.configs import check_choices, from_dict, knob, to_dict

OBJECTIVES = ("nextframe", "action")
MODELS = ("convlstm", "lrcn")

TRAIN_DEFAULTS: dict[str, Any] = {  # the TrainConfig fields Video sets differently
    "max_epochs": 20, "lr": 2e-3, "weight_decay": 0.0, "schedule": "cosine", "min_lr_ratio": 0.05,
    "warmup_steps": 10, "accelerator": "cpu",
}


def _positive(name: str, value: Any, low: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, received {value!r}")


@dataclass(frozen=True)
class VideoModelConfig:
    """The network.

    Attributes:
        objective: ``nextframe`` (given ``input_frames`` frames, predict the
            next ``output_frames``: an encoder-forecaster ConvLSTM, Shi et al.
            2015) or ``action`` (one label per clip).
        model: for ``action``: ``convlstm`` (ConvLSTM over the frames, its
            last hidden maps pooled and classified) or ``lrcn`` (a small CNN
            per frame, an LSTM over the frame features; Donahue et al. 2015).
            ``nextframe`` always uses the ConvLSTM.
        hidden_channels, num_layers, kernel_size: the ConvLSTM stacks.
        patch: frames are cut into ``patch``×``patch`` blocks stacked as
            channels before the ConvLSTM (space-to-depth, as PredRNN does), so
            a 64×64 frame is a 16×16 map of 16 channels with ``patch=4``.
        residual: nextframe: each predicted frame corrects the previous one
            in logit space (starts as copy-last) instead of being drawn anew.
        hidden_size: the LRCN's LSTM; ``cnn_channels``: the frame CNN's width.
        dropout: on the pooled features of the classifiers.
    """

    objective: str = knob("nextframe", choices=OBJECTIVES, help="predict future frames, or classify clips")
    model: str = knob("convlstm", choices=MODELS, help="action: ConvLSTM classifier or LRCN (CNN + LSTM)")
    hidden_channels: int = knob(32, help="ConvLSTM hidden channels per layer")
    num_layers: int = knob(2, help="stacked ConvLSTM layers (encoder and forecaster each)")
    kernel_size: int = knob(3, help="ConvLSTM kernel size (odd)")
    patch: int = knob(4, help="space-to-depth patch: frames become (C*p*p, H/p, W/p) maps")
    residual: bool = knob(True, help="nextframe: predict a correction of the previous frame (logit space)")
    hidden_size: int = knob(64, help="LRCN: LSTM hidden units")
    cnn_channels: int = knob(16, help="LRCN and the frame-averaging baseline: CNN channels")
    dropout: float = knob(0.1, help="dropout on the classifier's pooled features, in [0, 1)")

    def __post_init__(self) -> None:
        check_choices(self)
        for name in ("hidden_channels", "num_layers", "kernel_size", "patch", "hidden_size", "cnn_channels"):
            _positive(name, getattr(self, name))
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, received {self.kernel_size}")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), received {self.dropout!r}")


@dataclass(frozen=True)
class VideoDataConfig:
    """How clips are read and batched.

    Attributes:
        input_frames, output_frames: ``nextframe``: context and prediction
            lengths (clips need ``input_frames + output_frames`` frames to
            train and evaluate, ``input_frames`` to predict).
        time_first: arrays are ``(T, N, ...)`` (the layout of
            ``mnist_test_seq.npy``) instead of ``(N, T, ...)``.
        batch_size: clips per batch.
        val_fraction: when ``fit`` gets no ``val``, this share of the
            training clips is held out for the kept epoch (0: none).
    """

    input_frames: int = knob(10, help="nextframe: frames given")
    output_frames: int = knob(10, help="nextframe: frames to predict")
    time_first: bool = knob(False, help="arrays are (T, N, ...) instead of (N, T, ...)")
    batch_size: int = knob(16, help="clips per batch")
    val_fraction: float = knob(0.1, help="share of the training clips held out when no --val-data (0: none)")

    def __post_init__(self) -> None:
        check_choices(self)
        for name in ("input_frames", "output_frames", "batch_size"):
            _positive(name, getattr(self, name))
        if self.input_frames < 2:
            raise ValueError(f"input_frames must be >= 2 (the linear baseline needs two), "
                             f"received {self.input_frames}")
        if not 0.0 <= float(self.val_fraction) < 0.9:
            raise ValueError(f"val_fraction must be in [0, 0.9), received {self.val_fraction!r}")


@dataclass(frozen=True)
class VideoConfig:
    """Everything :class:`~lstmkit.tasks.video.Video` needs besides the data and the training knobs."""

    model: VideoModelConfig = field(default_factory=VideoModelConfig)
    data: VideoDataConfig = field(default_factory=VideoDataConfig)

    def __post_init__(self) -> None:
        if not isinstance(self.model, VideoModelConfig) or not isinstance(self.data, VideoDataConfig):
            raise TypeError("VideoConfig(model=VideoModelConfig(...), data=VideoDataConfig(...))")

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> VideoConfig:
        return from_dict(cls, raw)
