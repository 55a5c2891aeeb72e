"""``lstmkit demo [forecast|adding]``: the showcase jobs (``make run`` runs the first).

* ``forecast`` (default): train on the bundled AirPassengers series, hold out
  the last 24 months, print MAE, RMSE, sMAPE and MASE beside seasonal-naive
  and ETS baselines, and write a PNG of history, forecast and interval.
* ``adding``: the adding problem of Hochreiter & Schmidhuber (1997), an LSTM
  and a vanilla RNN side by side.

The jobs live in the task modules (:func:`lstmkit.tasks.forecast.run_demo`,
:func:`lstmkit.tasks.adding.run_demo`); this module only parses arguments.
"""

from __future__ import annotations

import argparse
from typing import Any

from lstmkit.commands._common import add_parser

DEMOS = ("forecast", "adding")


def register(subparsers: Any) -> None:
    parser = add_parser(
        subparsers,
        "demo",
        help="run a showcase job: AirPassengers forecasting (default) or the adding problem",
        func=run,
    )
    parser.add_argument("which", nargs="?", choices=DEMOS, default="forecast",
                        help="which demo to run")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--out", default=None,
                        help="where to write the demo's files (forecast: a directory for the "
                             "plot, forecasts and metrics, None = runs/demo; adding: a JSON file, "
                             "None = none)")
    forecast = parser.add_argument_group("forecast demo")
    forecast.add_argument("--quick", action="store_true",
                          help="one seed and fewer epochs instead of the demo's ensemble")
    adding = parser.add_argument_group("adding demo")
    adding.add_argument("--T", dest="T", type=int, default=100,
                        help="minimal sequence length of the adding problem")
    adding.add_argument("--steps", type=int, default=None,
                        help="training steps per model (None = the demo's own)")


def run(args: argparse.Namespace) -> int:
    if args.which == "adding":
        from lstmkit.tasks.adding import run_demo as adding_demo

        kwargs: dict[str, Any] = {"T": args.T, "seed": args.seed, "out": args.out}
        if args.steps is not None:
            kwargs["steps"] = args.steps
        return int(adding_demo(**kwargs) or 0)
    from lstmkit.tasks.forecast import run_demo as forecast_demo

    return int(forecast_demo(out_dir=args.out, seed=args.seed, quick=args.quick) or 0)
