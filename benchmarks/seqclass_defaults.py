"""The sequence classifier's defaults on a set the seqclass benchmark never used (MNIST-1D).

The defaults (LSTM-FCN, 1000 optimizer steps, cosine 2e-3 -> 1e-4) were chosen on the
aeon sets of ``benchmarks/seqclass.py``.  This script checks that the choice carries
over to a set none of those runs saw: MNIST-1D (Greydanus 2020; ``pip install mnist1d``,
regenerated from its seed, no download), 4000 training series of length 40, 10 classes.
Only the training part is used: a stratified 75 / 25 split of it (seed 0); the 1000
test series are not read.  Compared on the held-out quarter, seeds 0, 1, 2:

* ``new``: ``SeqClass()`` with the library defaults;
* ``former``: the former defaults, a BiLSTM(64) for 60 epochs at 3e-3 (cosine).

    .venv/bin/python benchmarks/seqclass_defaults.py           # results/seqclass_defaults.json
    .venv/bin/python benchmarks/seqclass_defaults.py --quick   # 1 seed, a few steps
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from _common import result_path

from lstmkit.io import atomic_write_json
from lstmkit.tasks.seqclass import SeqClass, SeqClassConfig, SeqClassModelConfig

FORMER = {"model": SeqClassModelConfig(model="lstm", bidirectional=True),
          "train": {"max_epochs": 60, "max_steps": -1, "lr": 3e-3}}


def mnist1d_train_split(seed: int = 0) -> tuple[list[np.ndarray], np.ndarray, list[np.ndarray], np.ndarray]:
    """MNIST-1D's training part, split 75 / 25 stratified: (fit X, fit y, held-out X, held-out y)."""
    from mnist1d.data import get_dataset_args, make_dataset

    data = make_dataset(get_dataset_args())
    x, y = np.asarray(data["x"], dtype=np.float64), np.asarray(data["y"])
    rng = np.random.default_rng(seed)
    fit_idx, val_idx = [], []
    for k in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == k))
        cut = len(members) // 4
        val_idx += members[:cut].tolist()
        fit_idx += members[cut:].tolist()
    as_series = [row[None, :] for row in x]                     # (1 channel, 40 steps) each
    return ([as_series[i] for i in fit_idx], y[fit_idx].astype(str),
            [as_series[i] for i in val_idx], y[val_idx].astype(str))


def run(name: str, seed: int, data, quick: bool) -> dict:
    x_fit, y_fit, x_val, y_val = data
    if name == "new":
        config, train = SeqClassConfig(), SeqClass.default_train(seed=seed, progress=False)
    else:
        config = SeqClassConfig(model=FORMER["model"])
        train = SeqClass.default_train(**FORMER["train"], seed=seed, progress=False)
    if quick:
        train = dataclasses.replace(train, max_epochs=1, max_steps=5)
    t = time.perf_counter()
    task = SeqClass(config, train).fit((x_fit, y_fit))
    seconds = time.perf_counter() - t
    accuracy = float(np.mean(task.predict(x_val)["prediction"].to_numpy() == y_val))
    print(f"{name:7s} seed {seed}: held-out accuracy {accuracy:.4f} in {seconds:.0f} s", flush=True)
    return {"accuracy": accuracy, "fit_seconds": seconds, "model": task.model_name}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--quick", action="store_true", help="one seed, a few steps (smoke run)")
    parser.add_argument("--out", default=None, help="JSON output (default results/seqclass_defaults.json)")
    return parser


def output_path(args: argparse.Namespace) -> Path:
    return result_path("seqclass_defaults", args.out, args.quick)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    seeds = args.seeds[:1] if args.quick else args.seeds
    data = mnist1d_train_split()
    runs = {name: [run(name, seed, data, args.quick) for seed in seeds] for name in ("new", "former")}
    summary = {name: {"mean": statistics.mean(r["accuracy"] for r in rs),
                      "std": statistics.pstdev(r["accuracy"] for r in rs),
                      "fit_seconds_median": statistics.median(r["fit_seconds"] for r in rs)}
               for name, rs in runs.items()}
    for name, row in summary.items():
        print(f"{name:7s} {row['mean']:.4f} +- {row['std']:.4f}  (fit {row['fit_seconds_median']:.0f} s)")
    report = {"selection": {"protocol": "a check, not a choice: the defaults were fixed before this run "
                                        "(on benchmarks/seqclass.py's cross-validation); MNIST-1D's test "
                                        "series are not read, the score is on a held-out quarter of its "
                                        "training part",
                            "validation_scores": summary},
              "data": {"set": "MNIST-1D (mnist1d.data.make_dataset(get_dataset_args()))", "fit": len(data[0]),
                       "held_out": len(data[2]), "length": 40, "classes": 10},
              "threads": 1, "quick": args.quick, "seeds": seeds, "runs": runs, "summary": summary}
    out = atomic_write_json(output_path(args), report)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
