"""Frozen configuration of the forecasting task: a ``data`` and a ``model`` section.

`DataConfig` says how the long-format table is read and prepared (columns,
frequency, seasonal period, per-series transform, batch size), `ModelConfig`
what the network and its ensemble look like; `ForecastConfig` holds both and
fills in the derived defaults (lookback, Fourier periods). Training knobs
(epochs, learning rate, seed, ...) are the one `lstmkit.train.TrainConfig`.
Every field is validated on construction, so a bad value fails where it is
written; every field is also a CLI flag and a YAML key (`lstmkit.tasks.configs`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from lstmkit.tasks.configs import check_choices, from_dict, knob, to_dict

TRANSFORMS = ("none", "log", "boxcox")
CALIBRATIONS = ("cqr", "none")
# what happens after the calibration fit (see ModelConfig.calibration_refit)
CALIBRATION_REFITS = ("none", "offsets", "margins", "scaled")
_LEGACY_REFIT = {False: "none", True: "margins"}   # the former boolean knob
_TRANSFORMS = TRANSFORMS


TRAIN_DEFAULTS: dict[str, Any] = {  # the TrainConfig fields Forecast sets differently
    "max_epochs": 100, "lr": 3e-3, "weight_decay": 1e-4, "schedule": "cosine",
    "min_lr_ratio": 0.05, "gradient_clip_val": 1.0, "accelerator": "cpu",
}


def _check_positive_int(name: str, value: Any, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, received {value!r}")


@dataclass(frozen=True)
class DataConfig:
    """How a long-format table is read and prepared.

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
        season_length: m, the seasonal period: seasonal-naive baseline, MASE's
            scale, the default lookback and Fourier period.
        transform: per-series variance-stabilising transform applied before
            windowing: ``"none"``, ``"log"`` (log(y)) or ``"boxcox"`` (a per-series
            Box-Cox lambda fitted on the training values, after shifting them to
            be positive).  Use ``"log"``/``"boxcox"`` for multiplicative series.
        batch_size: training windows per batch.
        strict: refuse (instead of skipping with one warning) series too short to be
            forecast: fewer than 2 steps (fit, predict), fewer than H + 2 (evaluate).
    """

    id_col: str = knob("unique_id", help="series id column (absent from the table: one series)")
    time_col: str = knob("ds", help="timestamp column (dates or integer steps)")
    target_col: str = knob("y", help="target column")
    past_covariates: tuple[str, ...] = knob((), help="columns known only up to the forecast origin")
    future_covariates: tuple[str, ...] = knob(
        (), help="columns known for the horizon too (predict then needs their future values)")
    freq: str | None = knob(None, help="pandas frequency, e.g. MS or W-SAT (none: inferred)")
    season_length: int = knob(1, help="seasonal period m (seasonal naive, MASE, default lookback)")
    transform: str = knob("none", choices=TRANSFORMS,
                          help="per-series transform; log or boxcox for multiplicative series")
    batch_size: int = knob(64, help="training windows per batch")
    strict: bool = knob(False, help="refuse series too short to forecast instead of skipping them with a warning")

    def __post_init__(self) -> None:
        object.__setattr__(self, "past_covariates", tuple(self.past_covariates))
        object.__setattr__(self, "future_covariates", tuple(self.future_covariates))
        names = [self.id_col, self.time_col, self.target_col]
        names += list(self.past_covariates) + list(self.future_covariates)
        if len(set(names)) != len(names):
            raise ValueError(f"DataConfig column names must be distinct, received {names}")
        if self.transform not in TRANSFORMS:
            raise ValueError(f"transform must be one of {TRANSFORMS}, received {self.transform!r}")
        _check_positive_int("season_length", self.season_length)
        _check_positive_int("batch_size", self.batch_size)


@dataclass(frozen=True)
class ModelConfig:
    """The network: an LSTM encoder over the lookback window and a direct multi-step head.

    Attributes:
        lookback: number of past steps the encoder reads (L); ``None``: chosen from the
            training data by `adaptive_lookback` (the nominal max(2H, 3m), 3H without a
            season, capped so that the median series has a full window).  Shorter
            series are left-padded, never refused.
        horizon: number of future steps predicted at once (H).
        quantiles: quantile levels in (0, 1) predicted for each step; 0.5 is always
            included and gives the point forecast ``y_hat``.
        hidden_size, num_layers, dropout: the `lstmkit.LSTM` encoder.
        head_hidden: width of the MLP head that maps the encoder state and the
            horizon's known features to H x Q outputs.
        seasonal_periods: periods (in steps, may be fractional, e.g. 52.18 weeks)
            whose Fourier terms sin(2 pi k t / P), cos(2 pi k t / P), k = 1..K are
            fed as known features at every step; ``None``: m when m > 1, else none.
        fourier_order: K above.
        linear_skip: add a linear autoregressive path from the L scaled inputs to
            the H outputs (the "highway" of LSTNet, Lai et al. 2018).
        members: ensemble size; member k is trained with seed ``train.seed + k``
            and the members' quantiles are averaged.  Default 3, by the rule in
            docs/forecasting.md: the smallest k whose ensemble's validation MASE is
            within 1% of 5 members', measured on the benchmark panels (k* = 3 on
            both visnights and prisonLF).
        calibration: ``"cqr"``: conformalised quantile regression (`conformal`): the
            networks are first trained without each series' last K origins, the
            symmetric quantile pairs are widened by the per-step margins measured on
            those origins; ``"none"``: raw quantile regression.
        calibration_refit: what forecasts after the calibration fit.  ``"none"``: the
            calibration networks themselves, with their margins (split conformal
            prediction as it is proved; half the fit time).  The other modes train
            the members again on all the data (the refit networks) and forecast the
            median with them: ``"offsets"`` keeps the calibration networks beside
            them and puts their calibrated band around the refit median,
            q_k = m_refit + (q'_k - m'), q' the calibration networks' conformalised
            quantiles and m' their median (both ensembles are saved);
            ``"margins"`` widens the refit networks' own quantiles by the margins
            (the former ``calibration_refit=True``); ``"scaled"`` the same with the
            margins times s_refit / s_cal, the ratio of the two ensembles' mean
            absolute in-sample median residual.  ``True`` / ``False`` (the former
            boolean) read as ``"margins"`` / ``"none"``.  Default ``"offsets"``, chosen
            on the fpp2 panels' validation origins (docs/forecasting.md, *Refit*):
            MASE 1.28 / 0.80 (prisonLF / visnights) at coverage 0.84 / 0.88, against
            1.90 / 0.75 at 0.75 / 0.88 for ``"none"``; ``"margins"`` and ``"scaled"``
            share the refit median but covered 0.37 and 0.49 on prisonLF.
    """

    lookback: int | None = knob(
        None, help="encoder window L (none: from the data: min(max(2H, 3m) [3H if m = 1], median length - H), >= 2)")
    horizon: int = knob(12, help="steps to forecast (H)")
    quantiles: tuple[float, ...] = knob((0.1, 0.5, 0.9), help="quantile levels (0.5 is always added)")
    hidden_size: int = knob(32, help="LSTM hidden units")
    num_layers: int = knob(1, help="stacked LSTM layers")
    dropout: float = knob(0.0, help="dropout in the head, in [0, 1)")
    head_hidden: int = knob(64, help="width of the MLP head")
    seasonal_periods: tuple[float, ...] | None = knob(
        None, help="periods of the Fourier features (none: m when m > 1)")
    fourier_order: int = knob(2, help="Fourier terms per period (K)")
    linear_skip: bool = knob(True, help="add a linear path from the lookback to the horizon")
    members: int = knob(3, help="ensemble size (seeds seed, seed+1, ...; quantiles averaged); 3: see docs")
    calibration: str = knob("cqr", choices=CALIBRATIONS,
                            help="interval calibration: cqr (conformalised, per horizon step) or none")
    calibration_refit: str = knob(
        "offsets", choices=CALIBRATION_REFITS, legacy=_LEGACY_REFIT,
        help="after calibrating: none (forecast with the calibration networks), offsets (retrain on all "
             "the data; refit median + the calibration networks' calibrated band), margins (refit "
             "quantiles + margins), scaled (margins x in-sample residual ratio)")

    def __post_init__(self) -> None:
        if self.lookback is not None:
            _check_positive_int("lookback", self.lookback, 2)
        _check_positive_int("horizon", self.horizon)
        _check_positive_int("hidden_size", self.hidden_size)
        _check_positive_int("num_layers", self.num_layers)
        _check_positive_int("head_hidden", self.head_hidden)
        _check_positive_int("fourier_order", self.fourier_order)
        _check_positive_int("members", self.members)
        if isinstance(self.calibration_refit, bool):
            object.__setattr__(self, "calibration_refit", _LEGACY_REFIT[self.calibration_refit])
        if self.calibration_refit not in CALIBRATION_REFITS:
            raise ValueError(f"calibration_refit must be one of {CALIBRATION_REFITS}, "
                             f"received {self.calibration_refit!r}")
        if self.calibration not in CALIBRATIONS:
            raise ValueError(f"calibration must be one of {CALIBRATIONS}, received {self.calibration!r}")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), received {self.dropout!r}")
        qs = sorted({round(float(q), 6) for q in self.quantiles} | {0.5})
        if any(not 0.0 < q < 1.0 for q in qs):
            raise ValueError(f"quantiles must lie in (0, 1), received {self.quantiles!r}")
        object.__setattr__(self, "quantiles", tuple(qs))
        if self.seasonal_periods is not None:
            periods = tuple(float(p) for p in self.seasonal_periods)
            if any(p <= 1.0 for p in periods):
                raise ValueError(f"seasonal_periods must be > 1, received {self.seasonal_periods!r}")
            object.__setattr__(self, "seasonal_periods", periods)


@dataclass(frozen=True)
class ForecastConfig:
    """Everything `Forecast` needs besides the data and the training knobs.

    Sections ``data`` (`DataConfig`) and ``model`` (`ModelConfig`). On
    construction the Fourier periods are filled in; ``model.lookback`` left at None
    is chosen by `Forecast.fit` from the training data (`adaptive_lookback`).
    """

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)

    def __post_init__(self) -> None:
        if not isinstance(self.model, ModelConfig) or not isinstance(self.data, DataConfig):
            raise TypeError("ForecastConfig(model=ModelConfig(...), data=DataConfig(...))")
        check_choices(self.data)
        mc, m = self.model, self.data.season_length
        changes: dict[str, Any] = {}
        if mc.seasonal_periods is None:
            changes["seasonal_periods"] = (float(m),) if m > 1 else ()
        if changes:
            object.__setattr__(self, "model", dataclasses.replace(mc, **changes))

    # the former top-level names, read-only
    @property
    def transform(self) -> str:
        return self.data.transform

    @property
    def season_length(self) -> int:
        return self.data.season_length

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict ``{"model": ..., "data": ...}`` (tuples become lists)."""
        return to_dict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ForecastConfig:
        """Inverse of `to_dict`; unknown keys raise ValueError naming them."""
        return from_dict(cls, raw)


def nominal_lookback(horizon: int, season_length: int) -> int:
    """max(2H, 3m) with a season (m > 1), 3H without one.

    >>> nominal_lookback(6, 12), nominal_lookback(6, 1)
    (36, 18)
    """
    return max(2 * horizon, 3 * season_length) if season_length > 1 else 3 * horizon


def adaptive_lookback(horizon: int, season_length: int, lengths: list[int]) -> int:
    """The default lookback for training series of these lengths.

    L = max(2, min(nominal_lookback(H, m), median(T_i) - H)): the nominal window,
    shortened until at least half the series have one full window (lookback and
    horizon observed); series shorter than L + H are left-padded, not refused.

    >>> adaptive_lookback(6, 1, [100, 200]), adaptive_lookback(6, 1, [9, 20, 52])
    (18, 14)
    """
    median = int(sorted(lengths)[(len(lengths) - 1) // 2]) if lengths else 0
    return max(2, min(nominal_lookback(horizon, season_length), median - horizon))


LEGACY_TRAIN_KEYS = {"epochs": "max_epochs", "lr": "lr", "weight_decay": "weight_decay",
                     "grad_clip": "gradient_clip_val", "seed": "seed", "progress": "progress"}


def split_legacy(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """A config.json ``config`` of lstmkit 0.1 (flat training knobs) as (sections, train changes).

    Returns None when ``raw`` already has the sectioned layout.
    """
    if "transform" not in raw and "n_models" not in raw and "epochs" not in raw:
        return None
    data = {**raw.get("data", {}), "transform": raw.get("transform", "none"),
            "season_length": raw.get("season_length", 1), "batch_size": raw.get("batch_size", 64)}
    model = {**raw.get("model", {}), "members": raw.get("n_models", 1)}
    train = {new: raw[old] for old, new in LEGACY_TRAIN_KEYS.items() if old in raw}
    return {"model": model, "data": data}, train
