"""`Forecast`: fit a global LSTM over many series, predict quantiles, evaluate, save and load.

    task = Forecast(ForecastConfig(model=ModelConfig(horizon=24, members=3),
                                   data=DataConfig(season_length=12, transform="log")),
                    train=Forecast.default_train(max_epochs=50))
    task.fit("train.csv", val="val.csv")   # long format: unique_id, ds, y [, covariates]
    out = task.predict("train.csv")        # unique_id, ds, y_hat, y_q10, y_q50, y_q90
    task.evaluate("full.csv")              # last H steps held out: LSTM beside the baselines
    task.save("model/");  Forecast.load("model/").predict(...)   # identical numbers

One model is trained for all series (a global model); each series keeps its own
transform (`scaling.SeriesScaler`) and every window is scaled by its own lookback
statistics.  With ``model.members > 1`` an ensemble of differently seeded networks
is trained and its quantiles averaged.  `Forecaster` is the former name.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, TensorDataset

from lstmkit.tasks.base import Task
from lstmkit.tasks.forecast.config import (
    TRAIN_DEFAULTS,
    DataConfig,
    ForecastConfig,
    ModelConfig,
    adaptive_lookback,
    split_legacy,
)
from lstmkit.tasks.forecast.conformal import band_scores
from lstmkit.tasks.forecast.data import (
    DEFAULT_DATA,
    ForecastDataError,
    Panel,
    drop_short,
    future_index,
    panel_to_frame,
    prepare_panel,
)
from lstmkit.tasks.forecast.model import ForecastModule, ForecastNet, predict_quantiles
from lstmkit.tasks.forecast.scaling import SeriesScaler, fit_scaler
from lstmkit.tasks.forecast.windowing import fourier_terms, inference_windows, training_windows

TASK = "forecast"
DEFAULT_BASELINES = ("naive", "seasonal_naive", "ets", "arima", "theta")


def quantile_column(q: float) -> str:
    """Column name of quantile level q: 0.1 -> 'y_q10', 0.025 -> 'y_q2.5'."""
    return f"y_q{q * 100:g}"


class Forecast(Task):
    """A global multi-series LSTM forecaster (see the module docstring)."""

    NAME: ClassVar[str] = TASK
    CONFIG: ClassVar[type] = ForecastConfig
    TRAIN_DEFAULTS: ClassVar[dict[str, Any]] = TRAIN_DEFAULTS
    SUPPORTS_VAL: ClassVar[bool] = True
    OUTPUT: ClassVar[str] = "frame"

    def __init__(self, config: ForecastConfig | None = None, train: Any = None) -> None:
        super().__init__(config, train)
        self.nets: torch.nn.ModuleList | None = None
        self.scalers: dict[str, SeriesScaler] = {}
        self.freq: str | None = None
        self.int_step = 1
        self.train_windows = 0
        self.conformal: dict[str, list[float]] = {}   # CQR margins per quantile pair (`conformal`)
        self.calibration_windows = 0
        self.calibration_nets: torch.nn.ModuleList | None = None   # kept under calibration_refit="offsets"
        self.refit_scale = 1.0   # s_refit / s_cal, the margins' factor under calibration_refit="scaled"

    @property
    def is_fitted(self) -> bool:
        return self.nets is not None

    # ------------------------------------------------------------------ features
    def _features(self, panel: Panel, scalers: list[SeriesScaler]):
        """Transformed targets, known features (Fourier + future covariates), past covariates."""
        mc = self.config.model
        n_fut = len(self.config.data.future_covariates)
        z, known, past = [], [], []
        for i in range(len(panel)):
            sc = scalers[i]
            covs = sc.scale_covariates(np.concatenate([panel.past[i], panel.future[i]], axis=1))
            z.append(sc.transform(panel.y[i]))
            four = fourier_terms(panel.t[i], mc.seasonal_periods, mc.fourier_order)
            known.append(np.concatenate([four, covs[:, covs.shape[1] - n_fut:]], axis=1))
            past.append(covs[:, : covs.shape[1] - n_fut])
        return z, known, past

    def _n_features(self) -> tuple[int, int]:
        mc, dc = self.config.model, self.config.data
        n_known = 2 * mc.fourier_order * len(mc.seasonal_periods) + len(dc.future_covariates)
        return n_known, len(dc.past_covariates)

    def _new_nets(self) -> torch.nn.ModuleList:
        n_known, n_past = self._n_features()
        return torch.nn.ModuleList(
            ForecastNet(self.config.model, n_known, n_past) for _ in range(self.members)
        )

    # ------------------------------------------------------------------ fit
    def fit(self, train: Any, val: Any = None, *, val_data: Any = None, **hooks: Any) -> Forecast:
        """Train on every window of every series in `train` (a table, see `data.read_table`).

        `val` (optional, same layout, each series continuing its training series)
        adds a validation loss per epoch; the weights of the best epoch are kept
        and `val_metrics` holds MAE, sMAPE and MASE of the forecast from the end of
        `train` over `val`'s first horizon.  ``val_data=`` is the former name of `val`.
        """
        if val_data is not None:
            warnings.warn("Forecast.fit(val_data=...) is deprecated; use val=...", DeprecationWarning,
                          stacklevel=2)
            val = val_data if val is None else val
        return super().fit(train, val, **hooks)

    def _fit(self, train: Any, val: Any) -> None:
        dc = self.config.data
        panel = drop_short(prepare_panel(train, dc, what="training data"), strict=dc.strict,
                           what="training data")
        if self.config.model.lookback is None:
            lookback = adaptive_lookback(self.config.model.horizon, dc.season_length,
                                         [len(y) for y in panel.y])
            self.config = dataclasses.replace(
                self.config, model=dataclasses.replace(self.config.model, lookback=lookback))
        mc = self.config.model
        self.freq, self.int_step = panel.freq, panel.int_step
        self.scalers = {
            uid: fit_scaler(dc.transform, panel.y[i],
                            np.concatenate([panel.past[i], panel.future[i]], axis=1), uid)
            for i, uid in enumerate(panel.ids)
        }
        scalers = [self.scalers[u] for u in panel.ids]
        z, known, past = self._features(panel, scalers)
        floors, spreads = _floors(scalers)
        val_loader, val_panel = (None, None) if val is None else self._validation_loader(panel, val)
        self.conformal, self.calibration_nets, self.refit_scale = {}, None, 1.0
        calibrated = None
        if mc.calibration == "cqr":
            calibrated = self._calibrate(z, known, past, floors, spreads, val_loader)
        win = training_windows(z, known, past, floors, mc.lookback, mc.horizon, spreads=spreads)
        if calibrated is None or mc.calibration_refit != "none":
            calibration_runs = len(self.fit_results)
            self.nets = self._train_nets(TensorDataset(*_tensors(win)), val_loader)
            self.fit_results = self.fit_results[calibration_runs:]   # the kept networks' runs
            if calibrated is not None:
                self._keep_calibration(*calibrated, win)
        self.train_windows = len(win)
        if val_panel is not None:
            self.val_metrics = self._origin_metrics(panel, val_panel)

    def _train_nets(self, dataset: TensorDataset, val_loader: Any,
                    stage: str | None = None) -> torch.nn.ModuleList:
        """Train `members` freshly initialised networks (seed, seed + 1, ...) on `dataset`
        (`stage`: see :meth:`Task._train_member`)."""
        nets = self._new_nets()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*val_dataloader.*")
            warnings.filterwarnings("ignore", message=".*does not have many workers.*")
            for k, net in enumerate(nets):
                seed = self.train_config.seed + k
                torch.manual_seed(seed)
                net.apply(_reset)
                module = ForecastModule(net, self.train_config)
                loader = DataLoader(dataset, batch_size=self.config.data.batch_size, shuffle=True,
                                    generator=torch.Generator().manual_seed(seed))
                self._train_member(module, loader, val_loader, k, stage=stage)
        return nets.cpu().eval()

    def _calibrate(self, z, known, past, floors, spreads, val_loader):
        """Split-conformal margins (`conformal`) of networks trained without the calibration windows.

        Returns None when no series can hold a calibration window (then nothing is
        calibrated), else (calibration networks, their in-sample median spread).
        """
        from lstmkit.tasks.forecast import conformal

        mc = self.config.model
        lengths = [len(v) for v in z]
        cuts, _ = conformal.calibration_split(lengths, mc.horizon, mc.lookback)
        fitted = training_windows(z, known, past, floors, mc.lookback, mc.horizon, limits=cuts, spreads=spreads)
        every = training_windows(z, known, past, floors, mc.lookback, mc.horizon, spreads=spreads)
        cut = np.asarray(cuts)[every.series]
        held = (every.origin >= cut - 1) & (cut < np.asarray(lengths)[every.series]) & (every.mask.all(axis=1))
        if not held.any():
            warnings.warn("calibration: no series is long enough to hold out a calibration window "
                          "(needs horizon + 2 steps); the quantiles are not calibrated", UserWarning, stacklevel=3)
            return None
        refit = mc.calibration_refit != "none"
        stage = "calibration" if refit else None  # the refit then uses run_dir itself
        self.nets = self._train_nets(TensorDataset(*_tensors(fitted)), val_loader, stage=stage)
        q = self.predict_windows(every.enc[held], every.dec[held], every.length[held])
        self.conformal = conformal.corrections(q, every.target[held].astype(np.float64), mc.quantiles)
        self.calibration_windows = int(held.sum())
        return self.nets, (self._spread(fitted) if refit else float("nan"))

    def _spread(self, win: Any) -> float:
        """The ensemble's mean absolute median residual on windows `win` (`conformal.median_spread`)."""
        from lstmkit.tasks.forecast.conformal import median_spread

        q = self.predict_windows(win.enc, win.dec, win.length)
        return median_spread(q, win.target.astype(np.float64), win.mask, self.config.model.quantiles)

    def _keep_calibration(self, nets: torch.nn.ModuleList, spread: float, win: Any) -> None:
        """What a refit keeps of the calibration fit: the ratio of the refit networks' in-sample
        spread on `win` to the calibration networks' on theirs (the margins' factor under
        "scaled", saved under every refit mode) and, under "offsets", the networks."""
        self.refit_scale = float(self._spread(win) / spread)
        if self.config.model.calibration_refit == "offsets":
            self.calibration_nets = nets

    def _origin_metrics(self, history: Panel, later: Panel) -> dict[str, float]:
        """Mean MAE, sMAPE and MASE of the forecast from the end of `history` over `later`."""
        from lstmkit.tasks.forecast import metrics as fm

        horizon, m = self.config.model.horizon, self.config.data.season_length
        pred, _ = self.predict_arrays(panel_to_frame(history, self.config.data))
        index = {u: i for i, u in enumerate(history.ids)}
        rows = []
        for j, uid in enumerate(later.ids):
            if len(later.y[j]) < horizon:
                continue
            fc = pred[pred[self.config.data.id_col] == uid]["y_hat"].to_numpy()
            scores = fm.point_metrics(later.y[j][:horizon], fc, history.y[index[uid]], m)
            rows.append({k: scores[k] for k in ("MAE", "sMAPE", "MASE")})
        if not rows:
            return {}
        return {f"val_{k}": float(np.mean([r[k] for r in rows])) for k in rows[0]}

    def _validation_loader(self, panel: Panel, val_data: Any) -> tuple[DataLoader, Panel]:
        """Windows whose horizon lies in `val_data`, appended to each training series."""
        mc, dc = self.config.model, self.config.data
        val = prepare_panel(val_data, dc, what="validation data", freq=self.freq,
                            integer_time=self.freq is None)
        joined_y, joined_t, joined_p, joined_f, limits = [], [], [], [], []
        index = {u: i for i, u in enumerate(panel.ids)}
        for j, uid in enumerate(val.ids):
            if uid not in index:
                raise ForecastDataError(f"validation data: series {uid!r} is not in the training data")
            i = index[uid]
            joined_y.append(np.concatenate([panel.y[i], val.y[j]]))
            joined_t.append(np.concatenate([panel.t[i], val.t[j]]))
            joined_p.append(np.concatenate([panel.past[i], val.past[j]]))
            joined_f.append(np.concatenate([panel.future[i], val.future[j]]))
            limits.append(len(panel.y[i]))
        joined = Panel(list(val.ids), [None] * len(val), joined_t, joined_y, joined_p, joined_f,
                       self.freq, self.int_step)
        scalers = [self.scalers[u] for u in val.ids]
        z, known, past = self._features(joined, scalers)
        floors, spreads = _floors(scalers)
        # keep only windows whose forecast origin is at or after the end of the training part
        win = training_windows(z, known, past, floors, mc.lookback, mc.horizon, spreads=spreads)
        keep = win.origin >= np.array(limits)[win.series] - 1
        if not keep.any():
            raise ForecastDataError(
                f"validation data: needs at least horizon = {mc.horizon} steps after the training data"
            )
        return DataLoader(TensorDataset(*(t[torch.from_numpy(keep)] for t in _tensors(win))),
                          batch_size=4096), val

    # ------------------------------------------------------------------ predict
    def predict(self, data: Any, future: Any = None) -> pd.DataFrame:
        """Forecast `horizon` steps after the end of each series in `data`.

        Args:
            data: history (series with fewer than `lookback` steps are left-padded;
                those with fewer than 2 are skipped with a warning, or refused when
                ``data.strict``).
            future: a table with the known-future covariates for the horizon (only
                when the model was trained with `future_covariates`).
        Returns:
            DataFrame ``unique_id, ds, y_hat, y_q10, ...`` with `horizon` rows per series.
        """
        frame, _ = self.predict_arrays(data, future)
        return frame

    def predict_arrays(self, data: Any, future: Any = None) -> tuple[pd.DataFrame, np.ndarray]:
        """Like `predict`, also returning the raw quantiles (N, H, Q) in original units."""
        win, panel, scalers, stamps = self.prepare_windows(data, future)
        q = self.calibrated_windows(win.enc, win.dec, win.length)             # (N, H, Q) scaled
        z_q = q * win.scale[:, None, None] + win.level[:, None, None]
        y_q = np.stack([scalers[i].inverse(z_q[i]) for i in range(len(panel))])  # (N, H, Q)
        return self._to_frame(panel.ids, stamps, y_q), y_q

    def prepare_windows(self, data: Any, future: Any = None):
        """Check `data` and build one inference window per series.

        Returns (windows, panel, per-series scalers, per-series horizon timestamps).
        """
        self._check_fitted("predict")
        cfg, mc = self.config, self.config.model
        panel = drop_short(prepare_panel(data, cfg.data, freq=self.freq, integer_time=self.freq is None,
                                         what="prediction data"),
                           strict=cfg.data.strict, what="prediction data")
        scalers = [self.scalers.get(uid) or fit_scaler(
            cfg.data.transform, panel.y[i], np.concatenate([panel.past[i], panel.future[i]], axis=1), uid)
            for i, uid in enumerate(panel.ids)]
        z, known, past = self._features(panel, scalers)
        cache: dict[Any, tuple[Any, np.ndarray]] = {}            # series often end on the same date
        for i in range(len(panel)):
            last = panel.ds[i][-1]
            if last not in cache:
                after = future_index(last, mc.horizon, self.freq, self.int_step)
                cache[last] = (after, _steps(after, self.freq, self.int_step))
        stamps = [cache[panel.ds[i][-1]][0] for i in range(len(panel))]
        steps = [cache[panel.ds[i][-1]][1] for i in range(len(panel))]
        future_known = self._future_known(panel, stamps, steps, scalers, future)
        floors, spreads = _floors(scalers)
        win = inference_windows(z, known, past, future_known, floors, mc.lookback, spreads=spreads)
        return win, panel, scalers, stamps

    def predict_windows(self, enc: np.ndarray, dec: np.ndarray, lengths: np.ndarray | None = None,
                        nets: torch.nn.ModuleList | None = None) -> np.ndarray:
        """Ensemble-mean raw scaled quantiles (N, H, Q) for ready-made windows, one batched pass per
        member of `nets` (default: the forecasting networks)."""
        outs = [predict_quantiles(net, enc, dec, lengths) for net in (self.nets if nets is None else nets)]
        return torch.stack(outs).mean(0).numpy().astype(np.float64)

    def calibrated_windows(self, enc: np.ndarray, dec: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
        """The forecast quantiles (N, H, Q), scaled: `predict_windows` with the conformal margins
        applied as ``model.calibration_refit`` says (`ModelConfig`)."""
        from lstmkit.tasks.forecast import conformal

        q, qs = self.predict_windows(enc, dec, lengths), self.config.model.quantiles
        if not self.conformal:
            return q
        if self.calibration_nets is not None:        # "offsets"
            band = conformal.apply(self.predict_windows(enc, dec, lengths, self.calibration_nets),
                                   self.conformal, qs)
            return conformal.offset_band(q, band, qs)
        scale = self.refit_scale if self.config.model.calibration_refit == "scaled" else 1.0
        return conformal.apply(q, self.conformal, qs, scale)

    def _future_known(self, panel: Panel, stamps, steps, scalers, future: Any) -> list[np.ndarray]:
        mc, dc = self.config.model, self.config.data
        out = []
        fut_panel, fut_index = None, {}
        if dc.future_covariates:
            if future is None:
                raise ForecastDataError(
                    f"prediction: the model uses future covariates {list(dc.future_covariates)}; "
                    f"pass future= with their values for the {mc.horizon} steps after each series"
                )
            fut_panel = prepare_panel(future, dc, require_target=False, freq=self.freq,
                                      integer_time=self.freq is None, what="future covariates")
            fut_index = {u: j for j, u in enumerate(fut_panel.ids)}
        n_past = len(dc.past_covariates)
        for i, uid in enumerate(panel.ids):
            four = fourier_terms(steps[i], mc.seasonal_periods, mc.fourier_order)
            if fut_panel is None:
                out.append(four)
                continue
            if uid not in fut_index:
                raise ForecastDataError(f"future covariates: series {uid!r} is missing")
            j = fut_index[uid]
            rows = pd.Index(fut_panel.ds[j]).get_indexer(pd.Index(stamps[i]))
            if (rows < 0).any():
                missing = pd.Index(stamps[i])[rows < 0][0]
                raise ForecastDataError(f"future covariates: series {uid!r} has no row for {missing!s}")
            values = fut_panel.future[j][rows]
            padded = np.concatenate([np.zeros((len(values), n_past)), values], axis=1)
            out.append(np.concatenate([four, scalers[i].scale_covariates(padded)[:, n_past:]], axis=1))
        return out

    def _to_frame(self, ids, stamps, y_q: np.ndarray) -> pd.DataFrame:
        dc, qs = self.config.data, self.config.model.quantiles
        horizon = y_q.shape[1]
        frame = pd.DataFrame({
            dc.id_col: np.repeat(np.asarray(ids, dtype=object), horizon),
            dc.time_col: np.concatenate([np.asarray(s) for s in stamps]),
        })
        frame["y_hat"] = y_q[:, :, qs.index(0.5)].reshape(-1)
        for k, q in enumerate(qs):
            frame[quantile_column(q)] = y_q[:, :, k].reshape(-1)
        return frame

    # ------------------------------------------------------------------ evaluate
    def evaluate(self, data: Any, baselines: tuple[str, ...] | None = None) -> dict[str, dict[str, float]]:
        """Hold out the last `horizon` steps of each series in `data`, forecast them from the rest.

        Returns ``{"lstm": {MAE, RMSE, sMAPE, MASE, QL, coverage, width}, <baseline>: {...}}``,
        each the mean over series; coverage is the share of held-out values inside the
        outermost quantile band (10-90% by default), width its mean width over MASE's
        scale (`band_scores`); `baselines` default to naive, seasonal naive, ETS, ARIMA and Theta.
        """
        from lstmkit.tasks.forecast import baselines as bl
        from lstmkit.tasks.forecast import metrics as fm

        self._check_fitted("evaluate")
        mc, dc = self.config.model, self.config.data
        names = DEFAULT_BASELINES if baselines is None else tuple(baselines)
        for name in names:
            if name not in bl.BASELINES:
                raise ValueError(f"baselines must be among {bl.BASELINES}, received {name!r}")
        panel = drop_short(prepare_panel(data, dc, freq=self.freq, integer_time=self.freq is None,
                                         what="evaluation data"),
                           mc.horizon + 2, strict=dc.strict, what="evaluation data",
                           why="fewer than 2 steps before the held-out horizon")
        ends = [len(y) - mc.horizon for y in panel.y]
        history = Panel(list(panel.ids), [d[:e] for d, e in zip(panel.ds, ends)],
                        [t[:e] for t, e in zip(panel.t, ends)], [y[:e] for y, e in zip(panel.y, ends)],
                        [p[:e] for p, e in zip(panel.past, ends)], [f[:e] for f, e in zip(panel.future, ends)],
                        panel.freq, panel.int_step)
        future = None
        if dc.future_covariates:
            future = panel_to_frame(panel, dc)
        frame, y_q = self.predict_arrays(panel_to_frame(history, dc), future=future)
        rows: dict[str, list[dict[str, float]]] = {"lstm": [], **{n: [] for n in names}}
        m = dc.season_length
        for i in range(len(panel)):
            actual, insample = panel.y[i][ends[i]:], history.y[i]
            point = y_q[i][:, mc.quantiles.index(0.5)]
            quant = {q: y_q[i][:, k] for k, q in enumerate(mc.quantiles)}
            rows["lstm"].append({**fm.point_metrics(actual, point, insample, m),
                                 "QL": fm.quantile_loss(actual, quant),
                                 **band_scores(actual, y_q[i], mc.quantiles, insample, m)})
            for name in names:
                forecast = bl.baseline_forecast(name, insample, mc.horizon, m)
                rows[name].append(fm.point_metrics(actual, forecast, insample, m))
        return {name: {k: float(np.mean([r[k] for r in rs])) for k in rs[0]} for name, rs in rows.items()}

    # ------------------------------------------------------------------ persistence
    def _state_dict(self) -> dict[str, Any]:
        """The forecasting members ``0..k-1``, then the kept calibration members ``k..2k-1``."""
        if self.calibration_nets is None:
            return self.nets.state_dict()
        return torch.nn.ModuleList([*self.nets, *self.calibration_nets]).state_dict()

    def _extras(self) -> dict[str, Any]:
        return {"scalers": {u: s.to_dict() for u, s in self.scalers.items()},
                "freq": self.freq, "int_step": self.int_step, "conformal": self.conformal,
                "calibration_nets": self.calibration_nets is not None, "refit_scale": self.refit_scale}

    def _restore(self, saved: Any) -> None:
        scalers = {u: SeriesScaler.from_dict(s) for u, s in saved.extras["scalers"].items()}
        both = bool(saved.extras.get("calibration_nets", False))
        nets = torch.nn.ModuleList([*self._new_nets(), *(self._new_nets() if both else [])])
        saved.load_into(nets)
        nets.eval()
        self.nets = torch.nn.ModuleList(list(nets)[: self.members])
        self.calibration_nets = torch.nn.ModuleList(list(nets)[self.members:]) if both else None
        self.refit_scale = float(saved.extras.get("refit_scale", 1.0))
        self.scalers = scalers
        self.freq, self.int_step = saved.extras["freq"], int(saved.extras["int_step"])
        self.conformal = dict(saved.extras.get("conformal", {}))

    @classmethod
    def config_from_record(cls, record: Any) -> tuple[Any, Any]:
        """Also reads the flat layout that lstmkit 0.1 saved (training knobs beside the sections)."""
        legacy = split_legacy(dict(record))
        if legacy is None:
            return super().config_from_record(record)
        sections, train = legacy
        config, _ = super().config_from_record(sections)
        return config, cls.default_train(**train)


Forecaster = Forecast  # the former name


def _floors(scalers: list[SeriesScaler]) -> tuple[np.ndarray, np.ndarray]:
    return np.array([s.floor for s in scalers]), np.array([s.spread for s in scalers])


def _tensors(win: Any) -> tuple[torch.Tensor, ...]:
    """(enc, dec, target, mask, lengths) of a `windowing.Windows`, the batch layout of `ForecastModule`."""
    return tuple(torch.from_numpy(np.ascontiguousarray(a)) for a in
                 (win.enc, win.dec, win.target, win.mask, win.length.astype(np.int64)))


def _reset(module: torch.nn.Module) -> None:
    if hasattr(module, "reset_parameters"):
        module.reset_parameters()


def _steps(stamps: Any, freq: str | None, int_step: int) -> np.ndarray:
    from lstmkit.tasks.forecast.data import time_in_steps

    if freq is None:
        return np.asarray(stamps, dtype=np.float64) / int_step
    return time_in_steps(pd.DatetimeIndex(stamps), freq)


def default_config(horizon: int, season_length: int, *, lookback: int | None = None,
                   transform: str = "none", seasonal_periods: tuple[float, ...] | None = None,
                   data: DataConfig = DEFAULT_DATA, members: int = 3, **model: Any) -> ForecastConfig:
    """A configuration for a horizon and seasonal period m (lookback and Fourier periods derived).

    lookback defaults to `config.adaptive_lookback` at fit time; seasonal Fourier
    terms use period m (or `seasonal_periods`); `model` are further `ModelConfig` fields.
    """
    import dataclasses

    data = dataclasses.replace(data, season_length=season_length, transform=transform)
    return ForecastConfig(model=ModelConfig(horizon=horizon, lookback=lookback, members=members,
                                            seasonal_periods=seasonal_periods, **model), data=data)
