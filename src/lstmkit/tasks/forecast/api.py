"""`Forecaster`: fit a global LSTM over many series, predict quantiles, save and load.

    fc = Forecaster(ForecastConfig(model=ModelConfig(lookback=36, horizon=24),
                                   transform="log", season_length=12, n_models=3))
    fc.fit("train.csv")                 # long format: unique_id, ds, y [, covariates]
    out = fc.predict("train.csv")       # unique_id, ds, y_hat, y_q10, y_q50, y_q90
    fc.save("model/");  Forecaster.load("model/").predict(...)   # identical numbers

One model is trained for all series (a global model); each series keeps its own
transform (`scaling.SeriesScaler`) and every window is scaled by its own lookback
statistics.  With ``n_models > 1`` an ensemble of differently seeded networks is
trained and its quantiles averaged.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, TensorDataset
from tqdm.auto import tqdm

from lstmkit.tasks._loading import load_errors
from lstmkit.tasks.forecast.config import DataConfig, ForecastConfig, ModelConfig
from lstmkit.tasks.forecast.data import (
    DEFAULT_DATA,
    ForecastDataError,
    Panel,
    future_index,
    prepare_panel,
)
from lstmkit.tasks.forecast.model import ForecastModule, ForecastNet, predict_quantiles
from lstmkit.tasks.forecast.scaling import SeriesScaler, fit_scaler
from lstmkit.tasks.forecast.windowing import fourier_terms, inference_windows, training_windows
from lstmkit.train import ModelLoadError, TrainConfig, fit, load_model, save_model

TASK = "forecast"


def quantile_column(q: float) -> str:
    """Column name of quantile level q: 0.1 -> 'y_q10', 0.025 -> 'y_q2.5'."""
    return f"y_q{q * 100:g}"


class Forecaster:
    """A global multi-series LSTM forecaster (see the module docstring)."""

    def __init__(self, config: ForecastConfig | None = None) -> None:
        if config is not None and not isinstance(config, ForecastConfig):
            raise TypeError(f"config must be a ForecastConfig, received {type(config).__name__}")
        self.config = config or ForecastConfig()
        self.nets: torch.nn.ModuleList | None = None
        self.scalers: dict[str, SeriesScaler] = {}
        self.freq: str | None = None
        self.int_step = 1
        self.fit_seconds = 0.0
        self.train_windows = 0

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
            ForecastNet(self.config.model, n_known, n_past) for _ in range(self.config.n_models)
        )

    # ------------------------------------------------------------------ fit
    def fit(self, data: Any, val_data: Any = None) -> Forecaster:
        """Train on every window of every series in `data` (a table, see `data.read_table`).

        `val_data` (optional, same layout, each series continuing its training
        series) adds a validation loss per epoch; the weights of the best epoch are kept.
        """
        cfg, mc = self.config, self.config.model
        panel = prepare_panel(data, cfg.data, min_length=mc.lookback + mc.horizon, what="training data")
        self.freq, self.int_step = panel.freq, panel.int_step
        self.scalers = {
            uid: fit_scaler(cfg.transform, panel.y[i],
                            np.concatenate([panel.past[i], panel.future[i]], axis=1), uid)
            for i, uid in enumerate(panel.ids)
        }
        scalers = [self.scalers[u] for u in panel.ids]
        z, known, past = self._features(panel, scalers)
        floors = np.array([s.floor for s in scalers])
        win = training_windows(z, known, past, floors, mc.lookback, mc.horizon)
        dataset = TensorDataset(*(torch.from_numpy(a) for a in (win.enc, win.dec, win.target)))
        val_loader = None
        if val_data is not None:
            val_loader = self._validation_loader(panel, val_data)
        self.nets = self._new_nets()
        self.fit_seconds = 0.0
        bar = tqdm(total=cfg.n_models * cfg.epochs, desc=f"training {cfg.n_models} model(s)",
                   unit="epoch", disable=not cfg.progress)
        with bar, warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*val_dataloader.*")
            warnings.filterwarnings("ignore", message=".*does not have many workers.*")
            for k, net in enumerate(self.nets):
                seed = cfg.seed + k
                torch.manual_seed(seed)
                net.apply(_reset)
                module = ForecastModule(net, self._train_config(seed, val_loader is not None), bar)
                loader = DataLoader(dataset, batch_size=cfg.batch_size, shuffle=True,
                                    generator=torch.Generator().manual_seed(seed))
                result = fit(module, loader, val_loader, module.train_config)
                module._progress = None
                self.fit_seconds += result.seconds
        self.train_windows = len(win)
        return self

    def _train_config(self, seed: int, has_val: bool) -> TrainConfig:
        cfg = self.config
        return TrainConfig(
            max_epochs=cfg.epochs, lr=cfg.lr, weight_decay=cfg.weight_decay, schedule="cosine",
            min_lr_ratio=0.05, gradient_clip_val=cfg.grad_clip, seed=seed, accelerator="cpu",
            progress=False, checkpoint=False, restore_best=has_val, run_dir=None,
        )

    def _validation_loader(self, panel: Panel, val_data: Any) -> DataLoader:
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
        floors = np.array([s.floor for s in scalers])
        # keep only windows whose forecast origin is at or after the end of the training part
        win = training_windows(z, known, past, floors, mc.lookback, mc.horizon)
        keep = win.origin >= np.array(limits)[win.series] - 1
        if not keep.any():
            raise ForecastDataError(
                f"validation data: needs at least horizon = {mc.horizon} steps after the training data"
            )
        tensors = (torch.from_numpy(a[keep]) for a in (win.enc, win.dec, win.target))
        return DataLoader(TensorDataset(*tensors), batch_size=4096)

    # ------------------------------------------------------------------ predict
    def predict(self, data: Any, future: Any = None) -> pd.DataFrame:
        """Forecast `horizon` steps after the end of each series in `data`.

        Args:
            data: history (at least `lookback` steps per series).
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
        q = self.predict_windows(win.enc, win.dec)                            # (N, H, Q) scaled
        z_q = q * win.scale[:, None, None] + win.level[:, None, None]
        y_q = np.stack([scalers[i].inverse(z_q[i]) for i in range(len(panel))])  # (N, H, Q)
        return self._to_frame(panel.ids, stamps, y_q), y_q

    def prepare_windows(self, data: Any, future: Any = None):
        """Check `data` and build one inference window per series.

        Returns (windows, panel, per-series scalers, per-series horizon timestamps).
        """
        if self.nets is None:
            raise RuntimeError("Forecaster.predict called before fit (or load)")
        cfg, mc = self.config, self.config.model
        panel = prepare_panel(data, cfg.data, min_length=mc.lookback, freq=self.freq,
                              integer_time=self.freq is None, what="prediction data")
        scalers = [self.scalers.get(uid) or fit_scaler(
            cfg.transform, panel.y[i], np.concatenate([panel.past[i], panel.future[i]], axis=1), uid)
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
        floors = np.array([s.floor for s in scalers])
        win = inference_windows(z, known, past, future_known, floors, mc.lookback)
        return win, panel, scalers, stamps

    def predict_windows(self, enc: np.ndarray, dec: np.ndarray) -> np.ndarray:
        """Ensemble-mean scaled quantiles (N, H, Q) for ready-made windows, one batched pass per member."""
        outs = [predict_quantiles(net, enc, dec) for net in self.nets]
        return torch.stack(outs).mean(0).numpy().astype(np.float64)

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

    # ------------------------------------------------------------------ persistence
    def save(self, path) -> None:
        """Write the model directory (config.json + model.safetensors) atomically."""
        if self.nets is None:
            raise RuntimeError("Forecaster.save called before fit")
        extras = {"scalers": {u: s.to_dict() for u, s in self.scalers.items()},
                  "freq": self.freq, "int_step": self.int_step}
        save_model(path, task=TASK, config=self.config.to_dict(),
                   state_dict=self.nets.state_dict(), extras=extras)

    @classmethod
    @load_errors("forecast")
    def load(cls, path) -> Forecaster:
        """Rebuild a saved forecaster; problems raise `lstmkit.train.ModelLoadError`."""
        saved = load_model(path, task=TASK)
        try:
            config = ForecastConfig.from_dict(saved.config)
            scalers = {u: SeriesScaler.from_dict(s) for u, s in saved.extras["scalers"].items()}
            freq, int_step = saved.extras["freq"], int(saved.extras["int_step"])
        except (KeyError, TypeError, ValueError) as err:
            raise ModelLoadError(f"'{path}' has an unusable forecast config: {err}") from None
        self = cls(config)
        self.nets = self._new_nets()
        saved.load_into(self.nets)
        self.nets.eval()
        self.scalers, self.freq, self.int_step = scalers, freq, int_step
        return self


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
                   data: DataConfig = DEFAULT_DATA, **overrides: Any) -> ForecastConfig:
    """A sensible configuration for a horizon and seasonal period m.

    lookback defaults to max(2 H, 3 m) (3 H without a season, m = 1); seasonal Fourier
    terms use period m (or `seasonal_periods`).
    """
    if lookback is None:
        lookback = max(2 * horizon, 3 * season_length) if season_length > 1 else 3 * horizon
    periods = seasonal_periods if seasonal_periods is not None else (
        (float(season_length),) if season_length > 1 else ())
    model = ModelConfig(lookback=lookback, horizon=horizon, seasonal_periods=periods)
    return ForecastConfig(data=data, model=model, transform=transform, season_length=season_length,
                          **overrides)
