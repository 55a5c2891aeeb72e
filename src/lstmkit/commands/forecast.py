"""``lstmkit forecast fit | predict | evaluate | backtest``: argument parsing for `lstmkit.tasks.forecast`.

    lstmkit forecast fit --data train.csv --horizon 24 --season-length 12 --out model/
    lstmkit forecast fit --config model/run.yaml --data train.csv --out model2/   # same settings
    lstmkit forecast predict --model model/ --data history.csv --out forecast.csv --plot forecast.png
    lstmkit forecast evaluate --model model/ --data full.csv --out report/   # last horizon held out
    lstmkit forecast backtest --data series.csv --horizon 24 --season-length 12 --cutoffs 3 --out bt/

Tables are long format (``unique_id, ds, y`` plus covariates) or a single series
(``ds, y``).  Every field of the model, data and train sections is a flag and a
key of ``--config FILE.yaml``; ``--print-config`` shows the effective run.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from lstmkit.commands._common import print_summary, write_metrics
from lstmkit.commands._options import command

# tasks.forecast.baselines.BASELINES, spelled out so that building the parser imports no numpy
BASELINES = ("naive", "seasonal_naive", "ets", "arima", "theta")
DEFAULT_BASELINES = BASELINES

ALIASES = {"--n-models": "--members"}  # old spelling -> new flag, for one release


def register(subparsers: Any) -> None:
    from lstmkit.tasks.forecast.config import TRAIN_DEFAULTS, ForecastConfig

    parser = subparsers.add_parser(
        "forecast", help="multi-series LSTM forecasting: fit, predict, evaluate, backtest",
        description=__doc__.splitlines()[0],
    )
    sub = parser.add_subparsers(dest="forecast_command", metavar="SUBCOMMAND", required=True)
    shape = {"config": ForecastConfig, "train_defaults": TRAIN_DEFAULTS}

    fit = command(sub, "fit", help="train a forecaster on a long-format CSV and save it", func=run_fit,
                  **shape)
    fit.option("--data", required=True, help="training CSV (unique_id, ds, y [, covariates])")
    fit.option("--out", required=True, help="directory to save the model in")
    fit.option("--val-data", help="CSV continuing each series: validation loss per epoch, best epoch kept")
    fit.aliases(ALIASES)

    pred = command(sub, "predict", help="forecast the horizon after each series with a saved model",
                   func=run_predict)
    pred.option("--model", required=True, help="a directory written by 'forecast fit'")
    pred.option("--data", required=True, help="history CSV (at least lookback steps per series)")
    pred.option("--out", required=True, help="CSV to write: unique_id, ds, y_hat, y_q10, ...")
    pred.option("--future", help="CSV of known-future covariates for the horizon")
    pred.option("--plot", help="PNG of history and forecast (first --plot-series)")
    pred.option("--plot-series", type=int, default=4, help="how many series to plot")

    ev = command(sub, "evaluate", help="score a saved model on each series' last horizon beside the baselines",
                 func=run_evaluate)
    ev.option("--model", required=True, help="a directory written by 'forecast fit'")
    ev.option("--data", required=True,
              help="CSV with the full series: the last horizon of each is held out and forecast from the rest")
    ev.option("--out", help="directory for metrics.json")
    ev.option("--baselines", many=True, default=DEFAULT_BASELINES,
              choices=BASELINES, help="statsforecast baselines to report")

    bt = command(sub, "backtest", help="rolling-origin evaluation beside statistical baselines",
                 func=run_backtest, **shape)
    bt.option("--data", required=True, help="CSV with the full series")
    bt.option("--out", required=True,
              help="directory for scores.csv, summary.csv, forecasts.csv, metrics.json, forecast.png")
    bt.option("--cutoffs", type=int, default=1, help="number of forecast origins")
    bt.option("--step", type=int, help="steps between origins (none: the horizon)")
    bt.option("--refit", type=bool, default=False,
              help="train a new model per origin (else one model, trained before the first)")
    bt.option("--baselines", many=True, default=DEFAULT_BASELINES,
              choices=BASELINES, help="statsforecast baselines to report")
    bt.option("--plot-series", type=int, default=4, help="how many series to plot")
    bt.aliases(ALIASES)


def run_fit(args: argparse.Namespace) -> int:
    from lstmkit.tasks.forecast import Forecast
    from lstmkit.train.model_dir import check_outputs

    check_outputs(args.out)  # before any training: refuse unusable outputs
    task = Forecast(args.config_obj, args.train_config).fit(args.data, val=args.val_data)
    task.save(args.out)
    print_summary(
        "forecast fit",
        {"lstm": {"series": len(task.scalers), "windows": task.train_windows,
                  "members": task.members, "fit_seconds": round(task.fit_seconds, 2)}},
        files={"model": args.out},
        notes=task.fit_summary(),
    )
    return 0


def run_predict(args: argparse.Namespace) -> int:
    import os

    import pandas as pd

    from lstmkit.tasks.forecast import Forecast, read_table
    from lstmkit.tasks.forecast.io import write_csv_atomic
    from lstmkit.tasks.forecast.plots import check_max_series, plot_forecasts

    if args.plot:
        check_max_series(args.plot_series)  # before any work, not after it
    forecaster = Forecast.load(args.model)
    started = time.perf_counter()
    frame = forecaster.predict(args.data, future=args.future)
    seconds = time.perf_counter() - started
    files = {"forecasts": args.out}
    plot_tmp = None
    if args.plot:
        # draw first (to a temporary name), so a failure leaves neither output behind
        dc = forecaster.config.data
        history = read_table(args.data, dc)
        if forecaster.freq is not None:
            history[dc.time_col] = pd.to_datetime(history[dc.time_col], format="mixed")
        plot_path = Path(args.plot)
        plot_tmp = plot_path.with_name(f".{plot_path.stem}.partial{plot_path.suffix or '.png'}")
        plot_forecasts(history, frame, plot_tmp, max_series=args.plot_series,
                       id_col=dc.id_col, time_col=dc.time_col, target_col=dc.target_col)
        files["plot"] = args.plot
    try:
        write_csv_atomic(frame, args.out)
    except BaseException:
        if plot_tmp is not None:
            plot_tmp.unlink(missing_ok=True)
        raise
    if plot_tmp is not None:
        os.replace(plot_tmp, args.plot)
    n_series = frame[forecaster.config.data.id_col].nunique()
    print_summary("forecast predict", {"lstm": {"series": n_series, "horizon": forecaster.config.model.horizon,
                                                "seconds": round(seconds, 3)}}, files=files)
    return 0


SHOWN = ("MAE", "RMSE", "sMAPE", "MASE", "QL", "coverage", "width")  # columns of the printed tables


def run_evaluate(args: argparse.Namespace) -> int:
    from lstmkit.tasks.forecast import Forecast

    forecaster = Forecast.load(args.model)
    report = forecaster.evaluate(args.data, baselines=tuple(args.baselines))
    files = write_metrics(args.out, {"data": str(args.data), "model": str(args.model),
                                     "horizon": forecaster.config.model.horizon, "report": report})
    rows = {name: {k: row[k] for k in SHOWN if k in row} for name, row in report.items()}
    print_summary(f"forecast evaluate (last {forecaster.config.model.horizon} steps held out)", rows, files=files)
    return 0


def run_backtest(args: argparse.Namespace) -> int:
    from lstmkit.io import atomic_write_json
    from lstmkit.tasks.forecast.backtesting import backtest
    from lstmkit.tasks.forecast.io import atomic_dir, write_csv_atomic
    from lstmkit.tasks.forecast.plots import check_max_series, plot_forecasts

    check_max_series(args.plot_series)  # before the backtest trains, not after it
    config = args.config_obj
    result = backtest(config, args.data, train=args.train_config, n_cutoffs=args.cutoffs, step=args.step,
                      refit=args.refit, baselines=tuple(args.baselines))
    out = Path(args.out)
    with atomic_dir(out) as tmp:
        write_csv_atomic(result.scores, tmp / "scores.csv")
        write_csv_atomic(result.summary, tmp / "summary.csv")
        write_csv_atomic(result.forecasts, tmp / "forecasts.csv")
        last = result.forecasts[result.forecasts["cutoff"] == result.forecasts["cutoff"].max()]
        dc = config.data
        plot_forecasts(result.history, last, tmp / "forecast.png", max_series=args.plot_series,
                       id_col=dc.id_col, time_col=dc.time_col, target_col=dc.target_col,
                       baselines={b: last.assign(y_hat=last[b]) for b in args.baselines[:2]})
        atomic_write_json(tmp / "metrics.json",
                          {"summary": result.summary.to_dict(orient="records"), "cutoffs": args.cutoffs,
                           "horizon": config.model.horizon, "fit_seconds": result.fit_seconds})
    rows = {r["model"]: {k: r[k] for k in SHOWN if k in r and r[k] == r[k]}   # r[k] == r[k]: not NaN
            for r in result.summary.to_dict(orient="records")}
    print_summary(f"forecast backtest ({args.cutoffs} cut-off(s), horizon {config.model.horizon})", rows,
                  files={k: out / k for k in ("scores.csv", "summary.csv", "forecasts.csv",
                                               "metrics.json", "forecast.png")})
    return 0
