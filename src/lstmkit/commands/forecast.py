"""``lstmkit forecast fit | predict | backtest``: argument parsing for `lstmkit.tasks.forecast`.

    lstmkit forecast fit --data train.csv --horizon 24 --season-length 12 --out model/
    lstmkit forecast predict --model model/ --data history.csv --out forecast.csv --plot forecast.png
    lstmkit forecast backtest --data series.csv --horizon 24 --season-length 12 --cutoffs 3 --out bt/

Tables are long format (``unique_id, ds, y`` plus covariates) or a single series
(``ds, y``).  Every option can also come from ``--config FILE.yaml``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from lstmkit.commands._common import add_parser, print_summary


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "forecast", help="multi-series LSTM forecasting: fit, predict, backtest",
        description=__doc__.splitlines()[0],
    )
    sub = parser.add_subparsers(dest="forecast_command", metavar="SUBCOMMAND", required=True)

    fit = add_parser(sub, "fit", help="train a forecaster on a long-format CSV and save it", func=run_fit)
    fit.add_argument("--data", required=True, help="training CSV (unique_id, ds, y [, covariates])")
    fit.add_argument("--out", required=True, help="directory to save the model in")
    fit.add_argument("--val-data", default=None,
                     help="optional CSV continuing each series, for a validation loss per epoch")
    _add_model_arguments(fit)

    pred = add_parser(sub, "predict", help="forecast the horizon after each series with a saved model",
                      func=run_predict)
    pred.add_argument("--model", required=True, help="a directory written by 'forecast fit'")
    pred.add_argument("--data", required=True, help="history CSV (at least lookback steps per series)")
    pred.add_argument("--out", required=True, help="CSV to write: unique_id, ds, y_hat, y_q10, ...")
    pred.add_argument("--future", default=None, help="CSV of known-future covariates for the horizon")
    pred.add_argument("--plot", default=None, help="PNG of history and forecast (first --plot-series)")
    pred.add_argument("--plot-series", type=int, default=4, help="how many series to plot")

    bt = add_parser(sub, "backtest", help="rolling-origin evaluation beside statistical baselines",
                    func=run_backtest)
    bt.add_argument("--data", required=True, help="CSV with the full series")
    bt.add_argument("--out", required=True,
                    help="directory for scores.csv, summary.csv, forecasts.csv, metrics.json, forecast.png")
    bt.add_argument("--cutoffs", type=int, default=1, help="number of forecast origins")
    bt.add_argument("--step", type=int, default=None, help="steps between origins (default: horizon)")
    bt.add_argument("--refit", action=argparse.BooleanOptionalAction, default=False,
                    help="train a new model per origin (default: one model, trained before the first)")
    bt.add_argument("--baselines", nargs="*", default=["naive", "seasonal_naive", "ets"],
                    choices=["naive", "seasonal_naive", "ets", "arima"], help="baselines to report")
    bt.add_argument("--plot-series", type=int, default=4, help="how many series to plot")
    _add_model_arguments(bt)


def _add_model_arguments(parser: argparse.ArgumentParser) -> None:
    data = parser.add_argument_group("data")
    data.add_argument("--id-col", default="unique_id", help="series id column (absent: one series)")
    data.add_argument("--time-col", default="ds", help="timestamp column (dates or integer steps)")
    data.add_argument("--target-col", default="y", help="target column")
    data.add_argument("--past-covariates", nargs="*", default=[], help="columns known only up to the origin")
    data.add_argument("--future-covariates", nargs="*", default=[], help="columns known for the horizon too")
    data.add_argument("--freq", default=None, help="pandas frequency (default: inferred), e.g. MS, W-SAT")
    model = parser.add_argument_group("model")
    model.add_argument("--horizon", type=int, required=True, help="steps to forecast (H)")
    model.add_argument("--season-length", type=int, default=1,
                       help="seasonal period m (seasonal naive, MASE, Fourier features)")
    model.add_argument("--lookback", type=int, default=None, help="encoder window L (default: max(2H, 3m))")
    model.add_argument("--seasonal-periods", type=float, nargs="*", default=None,
                       help="periods of the Fourier features (default: m)")
    model.add_argument("--quantiles", type=float, nargs="+", default=[0.1, 0.5, 0.9],
                       help="quantile levels to predict (0.5 is always added)")
    model.add_argument("--transform", choices=["none", "log", "boxcox"], default="none",
                       help="per-series transform; log/boxcox for multiplicative series")
    model.add_argument("--hidden-size", type=int, default=32, help="LSTM hidden size")
    model.add_argument("--num-layers", type=int, default=1, help="LSTM layers")
    model.add_argument("--dropout", type=float, default=0.0, help="dropout")
    train = parser.add_argument_group("training")
    train.add_argument("--n-models", type=int, default=1, help="ensemble size (seeds seed, seed+1, ...)")
    train.add_argument("--epochs", type=int, default=100, help="epochs per ensemble member")
    train.add_argument("--batch-size", type=int, default=64, help="windows per batch")
    train.add_argument("--lr", type=float, default=3e-3, help="peak learning rate (AdamW, cosine decay)")
    train.add_argument("--seed", type=int, default=0, help="seed of the first member")
    train.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                       help="show progress bars")


def _config(args: argparse.Namespace):
    from lstmkit.tasks.forecast import DataConfig, default_config
    from lstmkit.tasks.forecast.config import ModelConfig

    data = DataConfig(id_col=args.id_col, time_col=args.time_col, target_col=args.target_col,
                      past_covariates=tuple(args.past_covariates),
                      future_covariates=tuple(args.future_covariates), freq=args.freq)
    periods = tuple(args.seasonal_periods) if args.seasonal_periods is not None else None
    config = default_config(args.horizon, args.season_length, lookback=args.lookback,
                            transform=args.transform, seasonal_periods=periods, data=data,
                            n_models=args.n_models, epochs=args.epochs, batch_size=args.batch_size,
                            lr=args.lr, seed=args.seed, progress=args.progress)
    model = ModelConfig(**{**config.model.__dict__, "quantiles": tuple(args.quantiles),
                           "hidden_size": args.hidden_size, "num_layers": args.num_layers,
                           "dropout": args.dropout})
    return type(config)(**{**config.__dict__, "model": model})


def run_fit(args: argparse.Namespace) -> int:
    from lstmkit.tasks.forecast import Forecaster
    from lstmkit.train.model_dir import check_outputs

    check_outputs(args.out)  # before any training: refuse unusable outputs
    config = _config(args)
    forecaster = Forecaster(config).fit(args.data, val_data=args.val_data)
    forecaster.save(args.out)
    print_summary(
        "forecast fit",
        {"lstm": {"series": len(forecaster.scalers), "windows": forecaster.train_windows,
                  "models": config.n_models, "fit_seconds": round(forecaster.fit_seconds, 2)}},
        files={"model": args.out},
    )
    return 0


def run_predict(args: argparse.Namespace) -> int:
    import os

    import pandas as pd

    from lstmkit.tasks.forecast import Forecaster, read_table
    from lstmkit.tasks.forecast.io import write_csv_atomic
    from lstmkit.tasks.forecast.plots import plot_forecasts

    forecaster = Forecaster.load(args.model)
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


def run_backtest(args: argparse.Namespace) -> int:
    from lstmkit.io import dumps_json
    from lstmkit.tasks.forecast.backtest import backtest
    from lstmkit.tasks.forecast.io import atomic_dir, write_csv_atomic
    from lstmkit.tasks.forecast.plots import plot_forecasts

    config = _config(args)
    result = backtest(config, args.data, n_cutoffs=args.cutoffs, step=args.step, refit=args.refit,
                      baselines=tuple(args.baselines))
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
        (tmp / "metrics.json").write_text(dumps_json(
            {"summary": result.summary.to_dict(orient="records"), "cutoffs": args.cutoffs,
             "horizon": config.model.horizon, "fit_seconds": result.fit_seconds}, indent=2))
    rows = {r["model"]: {k: r[k] for k in ("MAE", "RMSE", "sMAPE", "MASE", "QL")}
            for r in result.summary.to_dict(orient="records")}
    print_summary(f"forecast backtest ({args.cutoffs} cut-off(s), horizon {config.model.horizon})", rows,
                  files={k: out / k for k in ("scores.csv", "summary.csv", "forecasts.csv",
                                               "metrics.json", "forecast.png")})
    return 0
