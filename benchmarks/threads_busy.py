"""Threads on a busy machine: why the command line takes no more threads than idle cores.

While ``--busy`` other processes spin on the CPU (plain Python loops, started
here and stopped at the end), times three things at 1 thread and at all of the
machine's cores (``--threads``, default the core count), each in its own
subprocess, alternating for ``--repeats`` rounds (medians):

* ``linear``: an ``nn.Linear(32, 64)`` forward and backward on 64 rows;
* ``lstm``: one training step (forward, backward, Adam) of ``lstmkit.LSTM(8, 32)``
  on (64, 14, 8) with ``backend="cpu"`` and with ``backend="native"`` (torch.nn);
* ``forecast``: ``lstmkit forecast fit`` through the command line with ``--threads``
  on 119 short synthetic yearly series (9-52 points, h = 6, 1 member, 3 epochs).

    .venv/bin/python benchmarks/threads_busy.py           # results/threads_busy.json
    .venv/bin/python benchmarks/threads_busy.py --quick   # fewer steps and repeats
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import result_path

from lstmkit.io import atomic_write_json

SRC = Path(__file__).resolve().parents[1] / "src"
SPIN = "while True: pass"
MICRO = """
import sys, time, torch
threads, what, steps = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
torch.set_num_threads(threads)
import lstmkit
if what == "linear":
    lin, y = torch.nn.Linear(32, 64), torch.randn(64, 32)
    def step():
        lin(y).sum().backward()
else:
    m = lstmkit.LSTM(8, 32, batch_first=True, backend=what.split("_")[1])
    x, opt = torch.randn(64, 14, 8, requires_grad=True), torch.optim.Adam(m.parameters())
    def step():
        out, _ = m(x); out.sum().backward(); opt.step(); opt.zero_grad()
for _ in range(3):
    step()
t = time.perf_counter()
for _ in range(steps):
    step()
print((time.perf_counter() - t) / steps * 1000)
"""


def panel(path: Path) -> None:
    """119 yearly series of 9-52 points (+ 6 held out, not written), seeded."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    rows = []
    for i in range(119):
        n = int(rng.integers(9, 53))
        y = rng.uniform(50, 500) * np.exp(np.cumsum(rng.normal(rng.normal(0, 0.05), 0.08, n)))
        rows += [{"unique_id": f"T{i}", "ds": 1960 + t, "y": float(v)} for t, v in enumerate(y)]
    pd.DataFrame(rows).to_csv(path, index=False)


def run_once(kind: str, threads: int, steps: int, epochs: int, work: Path) -> float:
    """Milliseconds per step (micro) or seconds per fit (forecast), in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "LSTMKIT_THREADS"):
        env.pop(name, None)
    if kind == "forecast":
        out = work / f"model-{threads}-{time.perf_counter_ns()}"
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "lstmkit.cli", "--threads", str(threads), "forecast", "fit",
                        "--data", str(work / "panel.csv"), "--horizon", "6", "--members", "1",
                        "--epochs", str(epochs), "--no-progress", "--out", str(out)],
                       env=env, check=True, capture_output=True)
        return time.perf_counter() - t
    done = subprocess.run([sys.executable, "-c", MICRO, str(threads), kind, str(steps)], env=env,
                          check=True, capture_output=True, text=True)
    return float(done.stdout.strip().splitlines()[-1])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--busy", type=int, default=1, help="spinning processes kept running meanwhile")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                        help="the many-thread count compared with 1")
    parser.add_argument("--repeats", type=int, default=3, help="alternating rounds (medians)")
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--out", default=None, help="JSON output (default results/threads_busy.json)")
    return parser


def output_path(args: argparse.Namespace) -> Path:
    return result_path("threads_busy", args.out, args.quick)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    steps, epochs, repeats = (10, 1, 1) if args.quick else (30, 3, args.repeats)
    kinds = ("linear", "lstm_cpu", "lstm_native", "forecast")
    spinners = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(args.busy)]
    times: dict = {k: {1: [], args.threads: []} for k in kinds}
    try:
        time.sleep(2.0)
        load_before = os.getloadavg()[0]
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            panel(work / "panel.csv")
            for _ in range(repeats):
                for kind in kinds:
                    for threads in (1, args.threads):
                        times[kind][threads].append(run_once(kind, threads, steps, epochs, work))
                        print(f"{kind:12s} threads {threads}: {times[kind][threads][-1]:.3f}", flush=True)
        load_after = os.getloadavg()[0]
    finally:
        for p in spinners:
            p.kill()
    rows = {}
    for kind in kinds:
        one, many = statistics.median(times[kind][1]), statistics.median(times[kind][args.threads])
        rows[kind] = {"unit": "s per fit" if kind == "forecast" else "ms per step", "1": one,
                      str(args.threads): many, "ratio_many_to_1": many / one, "all": times[kind]}
        print(f"{kind:12s} 1 thread {one:9.3f}   {args.threads} threads {many:9.3f}   x{many / one:.1f}")
    report = {"cores": len(os.sched_getaffinity(0)), "busy_processes": args.busy, "threads": args.threads,
              "repeats": repeats, "steps": steps, "epochs": epochs, "quick": args.quick,
              "load_before": load_before, "load_after": load_after, "results": rows}
    out = atomic_write_json(output_path(args), report)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
