"""Speed and accuracy of the statistical forecast baselines alone (no LSTM).

The splits are those of ``benchmarks/forecast.py``: the last 24 months of AirPassengers
(m = 12), the last 52 weeks of Mauna Loa CO2 (m = 52, missing weeks interpolated, Fourier
period 365.25 / 7 for ARIMA) and the last 11 years of sunspots (m = 11). For each baseline
the script reports the MASE on the held-out window (scaled by the in-sample seasonal-naive
MAE) and the median wall time of ``--repeats`` fits.

``--module FILE`` times another implementation with the same functions, e.g. the
statsmodels grids this module replaced::

    git show 96136fd:src/lstmkit/tasks/forecast/baselines.py > /tmp/old_baselines.py
    .venv/bin/python benchmarks/forecast_baselines.py --module /tmp/old_baselines.py
    .venv/bin/python benchmarks/forecast_baselines.py            # the current module
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import warnings

import numpy as np

from lstmkit.data.timeseries import load_airpassengers, load_co2, load_sunspots
from lstmkit.io import atomic_write_json
from lstmkit.tasks.forecast import metrics as fm

WEEKS_PER_YEAR = 365.25 / 7
# name: (loader, horizon, season length, arima kwargs, transforms to try)
DATASETS = {
    "AirPassengers": (load_airpassengers, 24, 12, {}, ("none", "log")),
    "CO2": (load_co2, 52, 52, {"fourier_period": WEEKS_PER_YEAR}, ("none", "log")),
    "sunspots": (load_sunspots, 11, 11, {}, ("none",)),  # has zeros: no log
}


def _module(path: str | None):
    if path is None:
        from lstmkit.tasks.forecast import baselines

        return baselines
    spec = importlib.util.spec_from_file_location("baselines_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _series(loader) -> np.ndarray:
    frame = loader()
    return frame["y"].interpolate(limit_direction="both").to_numpy(dtype=np.float64)


SELECTION = {"protocol": "no LSTM and nothing tuned: each baseline selects its own model on the training "
                          "part (AIC / AICc); the held-out window of benchmarks/forecast.py is scored once",
             "validation_scores": None}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", help="a baselines.py to time instead of lstmkit's")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", nargs="*", default=["seasonal_naive", "ets", "arima"])
    parser.add_argument("--out", help="write the figures as JSON here")
    return parser


def output_path(args: argparse.Namespace) -> str | None:
    """Only ``--out``: without it nothing is written (there is no --quick run)."""
    return args.out


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    bl = _module(args.module)
    takes_transform = "transform" in bl.baseline_forecast.__code__.co_varnames
    warnings.filterwarnings("ignore")
    report = {"selection": SELECTION}
    print(f"{'data':<14}{'model':<16}{'transform':>10}{'MASE':>10}{'median s':>12}")
    for name, (loader, h, m, arima_kw, transforms) in DATASETS.items():
        y = _series(loader)
        train, test = y[:-h], y[-h:]
        for model in args.models:
            for transform in transforms if takes_transform else ("none",):
                kwargs = dict(arima_kw) if model == "arima" else {}
                if takes_transform:
                    kwargs["transform"] = transform
                times = []
                for _ in range(args.repeats):
                    start = time.perf_counter()
                    f = bl.baseline_forecast(model, train, h, m, **kwargs)
                    times.append(time.perf_counter() - start)
                mase = fm.mase(test, f, train, m)
                seconds = float(np.median(times))
                report.setdefault(name, {})[f"{model}/{transform}"] = {"MASE": mase, "median_seconds": seconds}
                print(f"{name:<14}{model:<16}{transform:>10}{mase:>10.3f}{seconds:>12.3f}", flush=True)
    if args.out:
        atomic_write_json(args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
