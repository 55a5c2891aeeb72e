"""Speed of lstmkit.rl's PPO loop against an earlier checkout, side by side (issue 16).

Times ``lstmkit.rl.train`` on masked-velocity CartPole for ``--steps`` environment
steps (seed 0, one torch thread, ``--epochs`` PPO epochs) with the lstmkit this
script imports ("new") and with the ``src`` folder of another checkout ("old",
``--old-src``: e.g. ``git worktree add /tmp/old be2ef07`` then ``--old-src
/tmp/old/src``), each run in its own subprocess, the two alternating for
``--repeats`` rounds; medians of steps per second and their ratio.

    .venv/bin/python benchmarks/rl_speed.py --old-src /tmp/old/src   # results/rl_speed.json
    .venv/bin/python benchmarks/rl_speed.py --quick --old-src /tmp/old/src
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from _common import result_path

from lstmkit.io import atomic_write_json

SRC = Path(__file__).resolve().parents[1] / "src"
ONE_RUN = """
import sys, warnings, torch
warnings.filterwarnings("ignore")
torch.set_num_threads(1)
from lstmkit.rl import PPOConfig, make_env, train
steps, epochs = int(sys.argv[1]), int(sys.argv[2])
result = train(make_env("MaskedCartPole"), PPOConfig(total_steps=steps, seed=0, epochs=epochs))
print(steps / result.seconds)
"""


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old-src", default=None, help="the src/ folder of the checkout to compare against (required)")
    ap.add_argument("--steps", type=int, default=8192, help="environment steps per run")
    ap.add_argument("--epochs", type=int, default=10, help="PPO epochs per update, the same for both")
    ap.add_argument("--repeats", type=int, default=3, help="alternating rounds (medians)")
    ap.add_argument("--quick", action="store_true", help="512 steps, 1 round (smoke)")
    ap.add_argument("--out", default=None, help="JSON output (default results/rl_speed.json; --quick: *.quick.json)")
    return ap


def output_path(args: argparse.Namespace) -> Path:
    return result_path("rl_speed", args.out, args.quick)


def steps_per_second(src: Path, steps: int, epochs: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", ONE_RUN, str(steps), str(epochs)], env=env,
                          capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.old_src is None:
        raise SystemExit("lstmkit: error: --old-src is required (the src/ folder of the checkout to compare against)")
    old = Path(args.old_src).resolve()
    if not (old / "lstmkit" / "rl").is_dir():
        raise SystemExit(f"lstmkit: error: --old-src {old}: no lstmkit/rl package there")
    steps, repeats = (512, 1) if args.quick else (args.steps, args.repeats)
    runs: dict[str, list[float]] = {"old": [], "new": []}
    for _ in range(repeats):
        for name, src in (("old", old), ("new", SRC)):
            runs[name].append(steps_per_second(src, steps, args.epochs))
            print(f"{name}: {runs[name][-1]:.0f} steps/s", flush=True)
    medians = {k: statistics.median(v) for k, v in runs.items()}
    result = {"benchmark": "rl_speed", "steps": steps, "epochs": args.epochs, "repeats": repeats,
              "old_src": str(old), "steps_per_s": runs, "median_steps_per_s": medians,
              "speedup": medians["new"] / medians["old"], "quick": args.quick,
              "selection": {"protocol": "a timing benchmark: nothing is trained for a score or selected",
                            "validation_scores": None}}
    out = output_path(args)
    atomic_write_json(out, result)
    print(json.dumps({k: result[k] for k in ("median_steps_per_s", "speedup")}), f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
