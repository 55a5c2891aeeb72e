"""minGRU / minLSTM: the log-space parallel scan against the step loop, by sequence length T.

For each T: wall time of the forward pass (no grad) and of forward + backward,
``mode="scan"`` against ``mode="loop"`` (same weights), on one CPU thread,
interleaved repeats, medians; and the float32 error of each form against the
float64 loop (the scan's ``L_t = Σ log a_s`` grows like T, so its float32
precision falls with T). Also mLSTM's parallel, chunkwise (64) and recurrent
forms, whose costs grow as T², T·64 and T. Prints a Markdown table and writes
benchmarks/results/min_scan.json.

    .venv/bin/python benchmarks/min_scan.py            # T = 16 ... 4096 (a few minutes)
    .venv/bin/python benchmarks/min_scan.py --quick    # a smoke run (min_scan.quick.json)
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import torch
from _common import result_path

import lstmkit

SELECTION = {
    "protocol": "a timing and precision measurement on random inputs and random initial weights; "
                "nothing is trained or tuned, so there is no validation split",
    "validation_scores": None,
    "choices": "batch 16, input = hidden = 64, one layer, one thread, fixed in advance",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two short lengths, few repeats")
    parser.add_argument("--out", default=None,
                        help="JSON output (default results/min_scan.json; --quick: *.quick.json)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    return parser


def output_path(args: argparse.Namespace) -> Path:
    return result_path("min_scan", args.out, args.quick)


def _race(models: dict, fn, x: torch.Tensor, repeats: int) -> dict[str, float]:
    """Median milliseconds of ``fn(model, x)`` per model: one warm-up each, then interleaved runs."""
    times: dict[str, list[float]] = {name: [] for name in models}
    for m in models.values():
        fn(m, x)
    for _ in range(repeats):
        for name, m in models.items():
            t0 = time.perf_counter()
            fn(m, x)
            times[name].append(time.perf_counter() - t0)
    return {name: 1e3 * statistics.median(ts) for name, ts in times.items()}


def _fwd(m, x):
    with torch.no_grad():
        m(x)


def _fwd_bwd(m, x):
    y, h = m(x)
    (y.square().mean() + h.sum()).backward()


def _fwd_bwd_multi(m, x):
    y, state = m(x)
    (y.square().mean() + sum(s.sum() for s in state)).backward()


def _precision(cls, steps: int, batch: int, width: int) -> dict[str, float]:
    torch.manual_seed(0)
    ref = cls(width, width, mode="loop", dtype=torch.float64)
    x = torch.randn(steps, batch, width, dtype=torch.float64)
    with torch.no_grad():
        y_ref, _ = ref(x)
        errs = {}
        for mode in ("scan", "loop"):
            m = cls(width, width, mode=mode)
            m.load_state_dict({k: v.float() for k, v in ref.state_dict().items()})
            y, _ = m(x.float())
            errs[mode] = float((y.double() - y_ref).abs().max() / y_ref.abs().max())
    return errs


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    batch, width = 16, 64
    lengths = [16, 128] if args.quick else [16, 64, 256, 1024, 4096]
    repeats = 2 if args.quick else args.repeats
    rows = []
    for name, cls in (("minGRU", lstmkit.MinGRU), ("minLSTM", lstmkit.MinLSTM)):
        for steps in lengths:
            torch.manual_seed(0)
            models = {mode: cls(width, width, mode=mode) for mode in ("scan", "loop")}
            models["loop"].load_state_dict(models["scan"].state_dict())
            x = torch.randn(steps, batch, width)
            row = {"model": name, "T": steps}
            for what, fn in (("fwd", _fwd), ("fwd_bwd", _fwd_bwd)):
                for mode, ms in _race(models, fn, x, repeats).items():
                    row[f"{what}_{mode}_ms"] = ms
                row[f"{what}_speedup"] = row[f"{what}_loop_ms"] / row[f"{what}_scan_ms"]
            row["f32_rel_err"] = _precision(cls, steps, 4, width)
            rows.append(row)
            print(json.dumps(row), flush=True)
    mlstm_rows = []
    for steps in [16, 128] if args.quick else [16, 64, 256, 1024]:
        torch.manual_seed(0)
        models = {mode: lstmkit.MLSTM(width, width, num_heads=4, mode=mode, chunk_size=64)
                  for mode in ("parallel", "chunkwise", "recurrent")}
        for m in models.values():
            m.load_state_dict(models["parallel"].state_dict())
        x = torch.randn(steps, 8, width)
        row = {"model": "mLSTM", "T": steps}
        for what, fn in (("fwd", _fwd), ("fwd_bwd", _fwd_bwd_multi)):
            for mode, ms in _race(models, fn, x, repeats).items():
                row[f"{what}_{mode}_ms"] = ms
        mlstm_rows.append(row)
        print(json.dumps(row), flush=True)
    print("\n| model | T | fwd scan ms | fwd loop ms | loop/scan | fwd+bwd scan ms | fwd+bwd loop ms "
          "| loop/scan | f32 rel. err scan | f32 rel. err loop |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['T']} | {r['fwd_scan_ms']:.2f} | {r['fwd_loop_ms']:.2f} | "
              f"{r['fwd_speedup']:.1f}x | {r['fwd_bwd_scan_ms']:.2f} | {r['fwd_bwd_loop_ms']:.2f} | "
              f"{r['fwd_bwd_speedup']:.1f}x | {r['f32_rel_err']['scan']:.1e} | {r['f32_rel_err']['loop']:.1e} |")
    print("\n| mLSTM T | fwd parallel | fwd chunkwise | fwd recurrent | fwd+bwd parallel "
          "| fwd+bwd chunkwise | fwd+bwd recurrent |  (ms)")
    print("|---|---|---|---|---|---|---|")
    for r in mlstm_rows:
        print(f"| {r['T']} | " + " | ".join(f"{r[f'{w}_{m}_ms']:.2f}" for w in ("fwd", "fwd_bwd")
                                            for m in ("parallel", "chunkwise", "recurrent")) + " |")
    out = output_path(args)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "setup": {"batch": batch, "input_size": width, "hidden_size": width, "threads": args.threads,
                  "repeats": repeats, "torch": torch.__version__, "machine": platform.machine(),
                  "mlstm": {"batch": 8, "num_heads": 4, "chunk_size": 64}},
        "selection": SELECTION,
        "min_rnn": rows,
        "mlstm": mlstm_rows,
    }, indent=1) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
