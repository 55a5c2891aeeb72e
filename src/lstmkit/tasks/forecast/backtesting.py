"""Rolling-origin backtesting of the LSTM beside the statistical baselines.

With horizon H, step s and K cut-offs, cut-off k (k = 0 is the latest) ends each
series' training part at T_i - H - k s and scores the H values after it.  With
``refit=False`` one model is trained on the data before the earliest cut-off and
forecasts from every origin (nothing after a cut-off is ever seen by the model that
forecasts from it); ``refit=True`` trains a fresh model per cut-off.

Every score row holds MAE, RMSE, sMAPE, MASE (scaled by the in-sample seasonal-naive
MAE of that cut-off's training part) and, for the LSTM, the quantile loss, the
empirical coverage of the outermost quantile band and its width over MASE's scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from lstmkit.tasks.forecast import baselines as bl
from lstmkit.tasks.forecast import metrics as fm
from lstmkit.tasks.forecast.api import Forecast, band_scores, quantile_column
from lstmkit.tasks.forecast.config import ForecastConfig
from lstmkit.tasks.forecast.data import Panel, drop_short, prepare_panel

DEFAULT_BASELINES = ("naive", "seasonal_naive", "ets", "arima", "theta")
LSTM = "lstm"


@dataclass
class BacktestResult:
    """Scores per (cut-off, series, model), their means per model, and all forecasts."""

    scores: pd.DataFrame
    summary: pd.DataFrame
    forecasts: pd.DataFrame
    history: pd.DataFrame
    fit_seconds: float


def _slice(panel: Panel, ends: list[int], starts: list[int] | None = None) -> Panel:
    starts = starts or [0] * len(panel)
    sl = [slice(a, b) for a, b in zip(starts, ends)]
    return Panel(list(panel.ids), [panel.ds[i][s] for i, s in enumerate(sl)],
                 [panel.t[i][s] for i, s in enumerate(sl)], [panel.y[i][s] for i, s in enumerate(sl)],
                 [panel.past[i][s] for i, s in enumerate(sl)], [panel.future[i][s] for i, s in enumerate(sl)],
                 panel.freq, panel.int_step)


def _frame(panel: Panel, config: ForecastConfig) -> pd.DataFrame:
    from lstmkit.tasks.forecast.data import panel_to_frame

    return panel_to_frame(panel, config.data)


def backtest(config: ForecastConfig, data: Any, *, train: Any = None, n_cutoffs: int = 1,
             step: int | None = None, refit: bool = False, baselines: Sequence[str] = DEFAULT_BASELINES,
             baseline_kwargs: dict[str, dict] | None = None) -> BacktestResult:
    """Rolling-origin evaluation (see the module docstring); returns a `BacktestResult`.

    `train`: the `lstmkit.train.TrainConfig` of each fit (default `Forecast.default_train()`).
    """
    train = Forecast.default_train() if train is None else train
    if not isinstance(n_cutoffs, int) or n_cutoffs < 1:
        raise ValueError(f"n_cutoffs must be an integer >= 1, received {n_cutoffs!r}")
    if step is not None and (isinstance(step, bool) or not isinstance(step, int) or step < 1):
        raise ValueError(f"step (--step, steps between forecast origins): expected an integer >= 1, "
                         f"received {step!r}")
    for name in baselines:
        if name not in bl.BASELINES:
            raise ValueError(f"baselines must be among {bl.BASELINES}, received {name!r}")
    mc, dc = config.model, config.data
    horizon = mc.horizon
    step = step or horizon
    need = 2 + (n_cutoffs - 1) * step + horizon    # two points before the earliest cut-off
    panel = drop_short(prepare_panel(data, dc, what="backtest data"), need, strict=dc.strict,
                       what="backtest data", why=f"fewer than 2 before the earliest of {n_cutoffs} cut-off(s)")
    lengths = [len(y) for y in panel.y]
    cut_ends = {k: [n - horizon - k * step for n in lengths] for k in range(n_cutoffs)}
    forecaster = None
    fit_seconds = 0.0
    rows, forecasts = [], []
    m = config.season_length
    for k in sorted(cut_ends, reverse=True):
        ends = cut_ends[k]
        part = _slice(panel, ends)
        if forecaster is None or refit:
            forecaster = Forecast(config, train).fit(_frame(part, config))
            fit_seconds += forecaster.fit_seconds
        future = None
        if dc.future_covariates:
            future = _frame(_slice(panel, [e + horizon for e in ends], ends), config)
        pred, y_q = forecaster.predict_arrays(_frame(part, config), future=future)
        cutoff_label = _cutoff_label(part)
        per_series = []
        for i, uid in enumerate(panel.ids):
            insample = part.y[i]
            actual = panel.y[i][ends[i]: ends[i] + horizon]
            stamps = panel.ds[i][ends[i]: ends[i] + horizon]
            fc = pred[pred[dc.id_col] == uid]
            block = pd.DataFrame({"cutoff": cutoff_label[i], dc.id_col: uid, dc.time_col: stamps, "y": actual})
            for col in [c for c in fc.columns if c == "y_hat" or c.startswith("y_q")]:
                block[col] = fc[col].to_numpy()
            quant = {q: fc[quantile_column(q)].to_numpy() for q in mc.quantiles}
            row = {"cutoff": cutoff_label[i], dc.id_col: uid, "model": LSTM,
                   **fm.point_metrics(actual, block["y_hat"].to_numpy(), insample, m),
                   "QL": fm.quantile_loss(actual, quant),
                   **band_scores(actual, y_q[i], mc.quantiles, insample, m)}
            rows.append(row)
            per_series.append((i, uid, insample, actual, block))
        names = list(baselines)
        for name in tqdm(names, desc=f"baselines (cut-off {k})", disable=not train.progress or not names):
            for i, uid, insample, actual, block in per_series:
                kwargs = (baseline_kwargs or {}).get(name, {})
                f = bl.baseline_forecast(name, insample, horizon, m, **kwargs)
                block[name] = f
                rows.append({"cutoff": cutoff_label[i], dc.id_col: uid, "model": name,
                             **fm.point_metrics(actual, f, insample, m), "QL": np.nan})
        forecasts += [b for *_, b in per_series]
    scores = pd.DataFrame(rows)
    order = [LSTM] + list(baselines)
    cols = [c for c in list(fm.POINT_METRICS) + ["QL", "coverage", "width"] if c in scores]
    summary = (scores.groupby("model")[cols].mean()
               .reindex(order).reset_index())
    history = _frame(panel, config)
    return BacktestResult(scores, summary, pd.concat(forecasts, ignore_index=True), history, fit_seconds)


def _cutoff_label(train: Panel) -> list[str]:
    return [str(pd.Timestamp(ds[-1]).date()) if train.freq else str(int(ds[-1])) for ds in train.ds]


def format_summary(summary: pd.DataFrame) -> str:
    """A plain-text table of the per-model mean scores (best MASE marked with *)."""
    cols = [c for c in list(fm.POINT_METRICS) + ["QL", "coverage", "width"] if c in summary]
    best = summary["MASE"].idxmin()
    lines = [f"{'model':<16}" + "".join(f"{c:>10}" for c in cols)]
    for idx, row in summary.iterrows():
        cells = "".join(f"{'-':>10}" if pd.isna(row[c]) else f"{row[c]:>10.3f}" for c in cols)
        lines.append(f"{row['model'] + (' *' if idx == best else ''):<16}{cells}")
    return "\n".join(lines)
