"""Frozen configurations of the forecasting pipeline, one per concern.

`DataConfig` says how the long-format table is read, `ModelConfig` what the
network looks like, and `ForecastConfig` bundles both with the training knobs
that the forecaster owns (ensemble size, number of epochs).  Every field is
validated on construction, so a bad value fails where it is written.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

_TRANSFORMS = ("none", "log", "boxcox")


def _check_positive_int(name: str, value: Any, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, received {value!r}")


@dataclass(frozen=True)
class DataConfig:
    """How a long-format table is read.

    Attributes:
        id_col, time_col, target_col: names of the series id, timestamp and target
            columns (``unique_id``, ``ds``, ``y`` by default).
        past_covariates: columns observed only up to the forecast origin; the encoder
            reads them, the horizon never needs them.
        future_covariates: columns known in advance (prices, holidays, calendar);
            both the encoder and the horizon read them, so `predict` needs their
            values for the horizon.
        freq: pandas frequency string (``"MS"``, ``"W-SAT"``, ``"YS"``...).  ``None``
            infers it from the timestamps; integer timestamps need none.
    """

    id_col: str = "unique_id"
    time_col: str = "ds"
    target_col: str = "y"
    past_covariates: tuple[str, ...] = ()
    future_covariates: tuple[str, ...] = ()
    freq: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "past_covariates", tuple(self.past_covariates))
        object.__setattr__(self, "future_covariates", tuple(self.future_covariates))
        names = [self.id_col, self.time_col, self.target_col]
        names += list(self.past_covariates) + list(self.future_covariates)
        if len(set(names)) != len(names):
            raise ValueError(f"DataConfig column names must be distinct, received {names}")


@dataclass(frozen=True)
class ModelConfig:
    """The network: an LSTM encoder over the lookback window and a direct multi-step head.

    Attributes:
        lookback: number of past steps the encoder reads (L).
        horizon: number of future steps predicted at once (H).
        quantiles: quantile levels in (0, 1) predicted for each step; 0.5 is always
            included and gives the point forecast ``y_hat``.
        hidden_size, num_layers, dropout: the `lstmkit.LSTM` encoder.
        head_hidden: width of the MLP head that maps the encoder state and the
            horizon's known features to H x Q outputs.
        seasonal_periods: periods (in steps, may be fractional, e.g. 52.18 weeks)
            whose Fourier terms sin(2 pi k t / P), cos(2 pi k t / P), k = 1..K are
            fed as known features at every step.
        fourier_order: K above.
        linear_skip: add a linear autoregressive path from the L scaled inputs to
            the H outputs (the "highway" of LSTNet, Lai et al. 2018).
    """

    lookback: int = 36
    horizon: int = 12
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9)
    hidden_size: int = 32
    num_layers: int = 1
    dropout: float = 0.0
    head_hidden: int = 64
    seasonal_periods: tuple[float, ...] = ()
    fourier_order: int = 2
    linear_skip: bool = True

    def __post_init__(self) -> None:
        _check_positive_int("lookback", self.lookback, 2)
        _check_positive_int("horizon", self.horizon)
        _check_positive_int("hidden_size", self.hidden_size)
        _check_positive_int("num_layers", self.num_layers)
        _check_positive_int("head_hidden", self.head_hidden)
        _check_positive_int("fourier_order", self.fourier_order)
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), received {self.dropout!r}")
        qs = sorted({round(float(q), 6) for q in self.quantiles} | {0.5})
        if any(not 0.0 < q < 1.0 for q in qs):
            raise ValueError(f"quantiles must lie in (0, 1), received {self.quantiles!r}")
        object.__setattr__(self, "quantiles", tuple(qs))
        periods = tuple(float(p) for p in self.seasonal_periods)
        if any(p <= 1.0 for p in periods):
            raise ValueError(f"seasonal_periods must be > 1, received {self.seasonal_periods!r}")
        object.__setattr__(self, "seasonal_periods", periods)


@dataclass(frozen=True)
class ForecastConfig:
    """Everything `Forecaster` needs besides the data.

    Attributes:
        data, model: see `DataConfig` and `ModelConfig`.
        transform: per-series variance-stabilising transform applied before
            windowing: ``"none"``, ``"log"`` (log(y)) or ``"boxcox"`` (a per-series
            Box-Cox lambda fitted on the training values, after shifting them to
            be positive).  Use ``"log"``/``"boxcox"`` for multiplicative series.
        season_length: m, the seasonal period used by the seasonal-naive baseline
            and by MASE's scale.
        n_models: number of ensemble members (seeds ``seed, seed+1, ...``); their
            quantiles are averaged.
        epochs, batch_size, lr, weight_decay, grad_clip: training knobs per member.
        seed: seed of the first ensemble member.
        progress: show progress bars.
    """

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    transform: str = "none"
    season_length: int = 1
    n_models: int = 1
    epochs: int = 100
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-4
    grad_clip: float = 1.0
    seed: int = 0
    progress: bool = True

    def __post_init__(self) -> None:
        if self.transform not in _TRANSFORMS:
            raise ValueError(f"transform must be one of {_TRANSFORMS}, received {self.transform!r}")
        _check_positive_int("season_length", self.season_length)
        _check_positive_int("n_models", self.n_models)
        _check_positive_int("epochs", self.epochs)
        _check_positive_int("batch_size", self.batch_size)
        if not float(self.lr) > 0:
            raise ValueError(f"lr must be > 0, received {self.lr!r}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ForecastConfig:
        """Inverse of `to_dict`; unknown keys raise ValueError naming them."""
        known = {f.name for f in fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ValueError(f"unknown ForecastConfig keys {sorted(unknown)}")
        kwargs = dict(raw)
        if isinstance(kwargs.get("data"), dict):
            kwargs["data"] = DataConfig(**kwargs["data"])
        if isinstance(kwargs.get("model"), dict):
            kwargs["model"] = ModelConfig(**kwargs["model"])
        return cls(**kwargs)
