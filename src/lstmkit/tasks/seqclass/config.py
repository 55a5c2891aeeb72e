"""The sequence classifier's configuration: a ``model`` and a ``data`` section (frozen, validated).

Training knobs (epochs, learning rate, seed, ...) are the one
:class:`lstmkit.train.TrainConfig`; every field here is also a CLI flag and a
YAML key (:mod:`lstmkit.tasks.configs`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lstmkit.tasks.configs import check_choices, from_dict, knob, to_dict

MODELS = ("lstm", "lstm_fcn")
POOLINGS = ("last", "mean", "attention")
MISSING = ("impute", "mask", "error")
NORMALIZE = ("channel", "series")
BASELINES = ("dtw", "minirocket", "summary_lr")

# The TrainConfig fields SeqClass sets differently.  A fit is a budget of optimizer steps,
# not of epochs: 1000 steps (at most 500 epochs) with the rate decaying from 2e-3 to 1e-4
# (cosine), whatever the size of the training set, so that a set of 40 series gets as
# many updates as one of 500.  Chosen by cross-validation inside the train splits of five
# aeon sets (benchmarks/seqclass.py --recipe-study): mean last-epoch validation accuracy
# of LSTM-FCN 0.933 against 0.898 with the former 60 epochs at 3e-3.
TRAIN_DEFAULTS: dict[str, Any] = {
    "max_epochs": 500, "max_steps": 1000, "lr": 2e-3, "weight_decay": 1e-4, "schedule": "cosine",
    "min_lr_ratio": 0.05, "warmup_steps": 10, "accelerator": "cpu",
}


def _positive(name: str, value: Any, low: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, received {value!r}")


@dataclass(frozen=True)
class SeqClassModelConfig:
    """The network.

    Attributes:
        model: ``"lstm"``: a (Bi)LSTM whose outputs are pooled (``pooling``)
            into one vector and classified; ``"lstm_fcn"``: the same LSTM
            branch beside a fully convolutional branch (Karim et al. 2017),
            features concatenated before the classifier.
        hidden_size, num_layers, bidirectional: the LSTM.
        pooling: ``last`` (final state of each direction), ``mean`` (average
            over the valid steps) or ``attention`` (additive attention with a
            learned query).
        dropout: on the pooled features (and between LSTM layers).
        filters, kernels: the convolution blocks of the FCN branch (one block
            per entry: Conv1d, BatchNorm, ReLU).
        members: independently seeded networks whose probabilities are averaged.

    Defaults: LSTM-FCN with a unidirectional LSTM(64), as Karim et al.  In the
    benchmark's cross-validation inside the train splits of six aeon sets
    (benchmarks/seqclass.py, second run) its best configuration scored above the
    BiLSTM's on five (mean 0.895 against 0.777; ArrowHead 0.711 against 0.489,
    GunPoint 0.968 against 0.752; ItalyPowerDemand 0.955 against 0.970).  The plain
    ``lstm`` model, unidirectional, is the one that streams (``predict_proba_steps``).
    """

    model: str = knob("lstm_fcn", choices=MODELS, help="network: LSTM-FCN, or a (Bi)LSTM with pooling")
    hidden_size: int = knob(64, help="LSTM hidden units per direction")
    num_layers: int = knob(1, help="stacked LSTM layers")
    bidirectional: bool = knob(False, help="read each sequence in both directions (no streaming then)")
    pooling: str = knob("last", choices=POOLINGS, help="how the LSTM outputs become one vector")
    dropout: float = knob(0.2, help="dropout on the pooled features, in [0, 1)")
    filters: tuple[int, ...] = knob((128, 256, 128), help="LSTM-FCN: output channels of each conv block")
    kernels: tuple[int, ...] = knob((8, 5, 3), help="LSTM-FCN: kernel size of each conv block")
    members: int = knob(1, help="ensemble size (probabilities averaged)")

    def __post_init__(self) -> None:
        check_choices(self)
        for name in ("hidden_size", "num_layers", "members"):
            _positive(name, getattr(self, name))
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), received {self.dropout!r}")
        if len(self.filters) != len(self.kernels) or not self.filters:
            raise ValueError(f"filters and kernels must be non-empty and of equal length, received "
                             f"{list(self.filters)} and {list(self.kernels)}")
        for name in ("filters", "kernels"):
            for v in getattr(self, name):
                _positive(name, v)


@dataclass(frozen=True)
class SeqClassDataConfig:
    """How sequences are read and prepared.

    Attributes:
        id_col, time_col, label_col: the long CSV layout (``series_id, t,
            channel columns..., label``); every other column is a channel.
        missing: what NaN values become: ``impute`` (carried forward within
            each channel, then backward, then the training mean), ``mask``
            (the same, plus one 0/1 "was missing" input per channel) or
            ``error``. A warning says how many were filled.
        normalize: ``channel`` (default): each channel standardised with its
            training mean and standard deviation; ``series``: each series'
            channels z-normalised with their own mean and standard deviation
            (the UCR convention; for series whose amplitudes differ by orders
            of magnitude, at the price of the amplitude information).
        downsample: average every ``downsample`` consecutive steps (1: off),
            for long series.
        batch_size: sequences per batch.
        val_fraction: when ``fit`` gets no ``val``, this share of the
            training sequences (stratified) is held out for early stopping
            and the kept epoch (0: none).
    """

    id_col: str = knob("series_id", help="long CSV: series identifier column")
    time_col: str = knob("t", help="long CSV: time (order) column")
    label_col: str = knob("label", help="class label column (optional at predict)")
    missing: str = knob("impute", choices=MISSING, help="NaN handling: impute, mask (impute + indicator), error")
    normalize: str = knob("channel", choices=NORMALIZE,
                          help="standardise per channel with training statistics, or z-normalise each series")
    downsample: int = knob(1, help="average every k consecutive steps (1: off)")
    batch_size: int = knob(32, help="sequences per batch")
    val_fraction: float = knob(0.0, help="share of the training data held out when no --val-data (0: none)")

    def __post_init__(self) -> None:
        check_choices(self)
        _positive("downsample", self.downsample)
        _positive("batch_size", self.batch_size)
        if not 0.0 <= float(self.val_fraction) < 0.9:
            raise ValueError(f"val_fraction must be in [0, 0.9), received {self.val_fraction!r}")


@dataclass(frozen=True)
class SeqClassConfig:
    """Everything :class:`~lstmkit.tasks.seqclass.SeqClass` needs besides the data and the training knobs."""

    model: SeqClassModelConfig = field(default_factory=SeqClassModelConfig)
    data: SeqClassDataConfig = field(default_factory=SeqClassDataConfig)

    def __post_init__(self) -> None:
        if not isinstance(self.model, SeqClassModelConfig) or not isinstance(self.data, SeqClassDataConfig):
            raise TypeError("SeqClassConfig(model=SeqClassModelConfig(...), data=SeqClassDataConfig(...))")

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> SeqClassConfig:
        return from_dict(cls, raw)
