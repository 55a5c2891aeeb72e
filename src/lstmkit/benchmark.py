"""Speed and memory of the "cpu" backend against torch.nn and the reference backend.

Run as ``python benchmarks/kernels.py`` or ``lstmkit bench``. In one process,
side by side and interleaved (every repeat times every contestant once, in
turn, after one warm-up call each):

- torch.nn.LSTM / GRU (torch's fused CPU path), lstmkit ``reference``, lstmkit ``cpu``
  and lstmkit ``auto`` (what a user gets by default: ``native`` for inference,
  ``cpu`` when gradients are needed, see ``kernels/registry.py``);
- the LSTM with each option alone on ``cpu`` (peephole, coupled gates, layer
  norm, projection, zoneout, recurrent dropout), compared with torch.nn.LSTM;
- forward only (``no_grad``) and forward + backward (sum of the output), the
  latter twice: with an input that requires a gradient (``fwd+bwd``, the
  common case: every LSTM that is not a model's first layer, so the backward
  also computes dx) and without (``fwd+bwd no-dx``, a first layer fed data);
  the training targets are judged on ``fwd+bwd``;
- every (T, B, I, H) of the grid at 1 and 2 threads (training mode, float32).

Reported per contestant: the median wall time over the repeats and the median
process CPU time (robust when the machine is shared), and the ratio of
lstmkit's median to torch.nn.LSTM's (torch.nn.GRU's for the GRU). Also the
streaming latency (B = 1, H = 128, 1000 single steps with the state passed
back: torch.nn.LSTM, the lstmkit layer on "cpu", and ``Stream``) and the peak
memory of one forward + backward, each in a fresh subprocess.

Targets (issue 3): ratio <= 1.0 for the standard LSTM and GRU, <= 1.3 for each
option alone, streaming <= 0.5 of torch's per-step latency, peak memory <=
torch's + 10%.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

import lstmkit
from lstmkit.io import atomic_write_json

SHAPES = ((100, 32, 128, 128), (100, 64, 512, 512), (500, 1, 64, 64), (200, 16, 256, 256), (50, 8, 32, 32))
OPTIONS: dict[str, dict[str, Any]] = {
    "peephole": {"peephole": True},
    "coupled_gates": {"coupled_gates": True},
    "layer_norm": {"layer_norm": True},
    "proj_size": {"proj_size": -1},  # -1: H // 2
    "zoneout": {"zoneout": 0.1},
    "recurrent_dropout": {"recurrent_dropout": 0.1},
}
MODES = ("fwd", "fwd+bwd", "fwd+bwd no-dx")
"""Timed modes: forward under no_grad; forward + backward with the input requiring a
gradient (the headline: an LSTM that is not the first layer); the same without dx."""
TARGETS = {"standard": 1.0, "option": 1.3, "streaming": 0.5, "memory": 1.1}


@dataclass(frozen=True)
class BenchConfig:
    """shapes: (T, B, I, H) grid; threads: torch thread counts; repeats: timed
    repeats per contestant (the reference, a Python loop, gets ``reference_repeats``);
    stream_steps: single steps of the streaming test; memory_shapes: shapes of the
    peak-memory probes; out: the JSON file (written atomically)."""

    shapes: tuple[tuple[int, int, int, int], ...] = SHAPES
    threads: tuple[int, ...] = (1, 2)
    repeats: int = 7
    reference_repeats: int = 3
    stream_steps: int = 1000
    memory_shapes: tuple[tuple[int, int, int, int], ...] = ((100, 64, 512, 512), (200, 16, 256, 256))
    options: tuple[str, ...] = tuple(OPTIONS)
    out: str = "benchmarks/results/kernels.json"
    seed: int = 0


@dataclass
class Contestant:
    name: str  # e.g. "lstm/torch", "lstm/cpu", "peephole/cpu"
    family: str  # "lstm" | "gru": which torch.nn model it is compared with
    module: torch.nn.Module
    repeats: int
    times: dict[str, list[float]] = field(default_factory=lambda: {m: [] for m in MODES})
    cpu_times: dict[str, list[float]] = field(default_factory=lambda: {m: [] for m in MODES})


def _module(family: str, backend: str, size: tuple[int, int], options: dict[str, Any]) -> torch.nn.Module:
    inp, hid = size
    opts = {k: (hid // 2 if v == -1 else v) for k, v in options.items()}
    if backend == "torch":
        return (torch.nn.LSTM if family == "lstm" else torch.nn.GRU)(inp, hid)
    layer = lstmkit.LSTM if family == "lstm" else lstmkit.GRU
    return layer(inp, hid, backend=backend, **opts)


def contestants(shape: tuple[int, int, int, int], cfg: BenchConfig) -> list[Contestant]:
    size = (shape[2], shape[3])
    out = []
    for family in ("lstm", "gru"):
        for backend in ("torch", "reference", "cpu", "auto"):
            reps = cfg.reference_repeats if backend == "reference" else cfg.repeats
            out.append(Contestant(f"{family}/{backend}", family, _module(family, backend, size, {}), reps))
    for name in cfg.options:
        out.append(Contestant(f"{name}/cpu", "lstm", _module("lstm", "cpu", size, OPTIONS[name]), cfg.repeats))
    for c in out:
        c.module.train()
    return out


def _timed(fn: Callable[[], Any]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def _runners(module: torch.nn.Module, x: torch.Tensor) -> dict[str, Callable[[], Any]]:
    def forward() -> None:
        with torch.no_grad():
            module(x)

    x_grad = x.detach().clone().requires_grad_(True)

    def forward_backward() -> None:  # the input needs dx: the backward's full work
        module.zero_grad(set_to_none=True)
        x_grad.grad = None
        module(x_grad)[0].sum().backward()

    def forward_backward_no_dx() -> None:  # a first layer fed data: dx is skipped
        module.zero_grad(set_to_none=True)
        module(x)[0].sum().backward()

    return {"fwd": forward, "fwd+bwd": forward_backward, "fwd+bwd no-dx": forward_backward_no_dx}


def bench_shape(shape: tuple[int, int, int, int], threads: int, cfg: BenchConfig, bar: tqdm) -> list[dict]:
    """Every contestant at one grid point, interleaved; -> one row per contestant and mode."""
    torch.set_num_threads(threads)
    torch.manual_seed(cfg.seed)
    steps, batch, inp, _ = shape
    x = torch.randn(steps, batch, inp)
    group = contestants(shape, cfg)
    runners = {c.name: _runners(c.module, x) for c in group}
    for c in group:  # warm-up (and the one-time build of the extension)
        for fn in runners[c.name].values():
            fn()
    for r in range(cfg.repeats):
        for c in group:
            if r >= c.repeats:
                continue
            for mode, fn in runners[c.name].items():
                wall, cpu = _timed(fn)
                c.times[mode].append(wall)
                c.cpu_times[mode].append(cpu)
        bar.update(1)
    base = {(c.family, m): c for c in group if c.name.endswith("/torch") for m in c.times}
    rows = []
    for c in group:
        for mode in c.times:
            ref = base[(c.family, mode)]
            wall, cpu = statistics.median(c.times[mode]), statistics.median(c.cpu_times[mode])
            rows.append({
                "shape": list(shape), "threads": threads, "contestant": c.name, "mode": mode,
                "repeats": len(c.times[mode]), "median_s": wall, "median_cpu_s": cpu,
                "ratio": wall / statistics.median(ref.times[mode]),
                "ratio_cpu_time": cpu / statistics.median(ref.cpu_times[mode]),
            })  # fmt: skip
    return rows


def bench_streaming(cfg: BenchConfig, threads: int = 1) -> dict:
    """Per-step latency of 1000 single steps (B = 1, I = H = 128), state passed back."""
    from lstmkit.kernels.cpu.stream import Stream

    torch.set_num_threads(threads)
    torch.manual_seed(cfg.seed)
    ref = torch.nn.LSTM(128, 128).eval()
    layer = lstmkit.LSTM(128, 128, backend="cpu").eval()
    layer.load_state_dict(ref.state_dict())
    stream = Stream(layer)
    xs = torch.randn(cfg.stream_steps, 1, 1, 128)

    def loop(step: Callable[[torch.Tensor, Any], tuple[torch.Tensor, Any]]) -> Callable[[], None]:
        def run() -> None:
            state = None
            with torch.no_grad():
                for x in xs:
                    _, state = step(x, state)
        return run

    runs = {
        "torch.nn.LSTM": loop(lambda x, s: ref(x, s)),
        "lstmkit.LSTM(cpu)": loop(lambda x, s: layer(x, s)),
        "Stream": loop(lambda x, s: stream(x[0], s)),
    }
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in runs}
    for fn in runs.values():
        fn()
    for _ in range(cfg.repeats):
        for name, fn in runs.items():
            times[name].append(_timed(fn))
    per_step = {k: statistics.median(w for w, _ in v) / cfg.stream_steps for k, v in times.items()}
    per_step_cpu = {k: statistics.median(c for _, c in v) / cfg.stream_steps for k, v in times.items()}
    base, base_cpu = per_step["torch.nn.LSTM"], per_step_cpu["torch.nn.LSTM"]
    return {
        "threads": threads, "steps": cfg.stream_steps,
        "per_step_us": {k: v * 1e6 for k, v in per_step.items()},
        "per_step_cpu_us": {k: v * 1e6 for k, v in per_step_cpu.items()},
        "ratio": {k: v / base for k, v in per_step.items()},
        "ratio_cpu_time": {k: v / base_cpu for k, v in per_step_cpu.items()},
    }  # fmt: skip


def memory_probe(family: str, backend: str, shape: tuple[int, int, int, int]) -> float:
    """Peak RSS growth (MiB) of one forward + backward, sampled every millisecond (run in a subprocess)."""
    torch.set_num_threads(1)
    steps, batch, inp, hid = shape
    module = _module(family, backend, (inp, hid), {}).train()
    x = torch.randn(steps, batch, inp, requires_grad=True)  # as in the fwd+bwd timing
    if backend == "cpu":  # load the extension (built already) outside the measurement
        from lstmkit.kernels.cpu import functions

        functions.ext()
    page = os.sysconf("SC_PAGE_SIZE")

    def rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * page

    base, peak, done = rss(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss())
            time.sleep(0.001)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    module(x)[0].sum().backward()
    peak[0] = max(peak[0], rss())
    done.set()
    sampler.join()
    return (peak[0] - base) / 2**20


def bench_memory(cfg: BenchConfig) -> list[dict]:
    rows = []
    for shape in cfg.memory_shapes:
        for family in ("lstm", "gru"):
            mib = {}
            for backend in ("torch", "cpu"):
                code = (
                    "import json; from lstmkit.benchmark import memory_probe; "
                    f"print(json.dumps(memory_probe({family!r}, {backend!r}, {tuple(shape)!r})))"
                )
                out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
                mib[backend] = float(out.stdout.strip().splitlines()[-1])
            rows.append({"shape": list(shape), "family": family, "peak_mib": mib,
                         "ratio": mib["cpu"] / mib["torch"] if mib["torch"] > 0 else float("nan")})  # fmt: skip
    return rows


def summarize(grid: list[dict], stream: dict, memory: list[dict]) -> dict:
    """The worst ratio of each target family per timed mode, and whether it meets the target.

    The top-level ``*_worst_ratio`` figures and ``meets`` are those of training
    (``fwd+bwd``: the input requires a gradient); ``by_mode`` has every mode.
    """

    def worst(pred: Callable[[dict], bool], mode: str, key: str = "ratio") -> float:
        vals = [r[key] for r in grid if pred(r) and r["mode"] == mode]
        return max(vals) if vals else float("nan")

    std = lambda r: r["contestant"] in ("lstm/cpu", "gru/cpu")
    auto = lambda r: r["contestant"] in ("lstm/auto", "gru/auto")
    opt = lambda r: r["contestant"].endswith("/cpu") and not std(r)
    by_mode = {}
    for mode in dict.fromkeys(r["mode"] for r in grid):
        by_mode[mode] = {
            f"{name}_worst_ratio{suffix}": worst(pred, mode, key)
            for name, pred in (("standard", std), ("auto", auto), ("option", opt))
            for suffix, key in (("", "ratio"), ("_cpu_time", "ratio_cpu_time"))
        }
    out = {**by_mode.get("fwd+bwd", {}), "by_mode": by_mode,
           "streaming_ratio": stream["ratio"]["Stream"], "streaming_layer_ratio": stream["ratio"]["lstmkit.LSTM(cpu)"],
           "memory_worst_ratio": max((m["ratio"] for m in memory), default=float("nan"))}  # fmt: skip
    train = by_mode.get("fwd+bwd", {})
    out["meets"] = {
        "standard": train.get("standard_worst_ratio", float("nan")) <= TARGETS["standard"],
        "option": train.get("option_worst_ratio", float("nan")) <= TARGETS["option"],
        "streaming": out["streaming_ratio"] <= TARGETS["streaming"],
        "memory": out["memory_worst_ratio"] <= TARGETS["memory"],
    }
    return out


def format_tables(result: dict) -> str:
    lines = []
    for threads in sorted({r["threads"] for r in result["grid"]}):
        lines += [f"\n### {threads} thread(s): median ms (ratio to torch.nn, wall | CPU time)\n",
                  "| (T, B, I, H) | contestant | fwd ms | fwd ratio | fwd+bwd ms | fwd+bwd ratio "
                  "| fwd+bwd no-dx ms | fwd+bwd no-dx ratio |",
                  "|---|---|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
        rows = [r for r in result["grid"] if r["threads"] == threads]
        for shape in dict.fromkeys(tuple(r["shape"]) for r in rows):
            by = {(r["contestant"], r["mode"]): r for r in rows if tuple(r["shape"]) == shape}
            for name in dict.fromkeys(c for c, _ in by):
                cells = [f"{r['median_s'] * 1e3:.2f} | {r['ratio']:.2f} \\| {r['ratio_cpu_time']:.2f}"
                         for r in (by[(name, mode)] for mode in MODES)]
                lines.append(f"| {shape} | {name} | " + " | ".join(cells) + " |")
    s = result["streaming"]
    lines += ["\n### Streaming (B = 1, H = 128, 1 thread): per-step latency\n",
              "| path | us/step (wall) | ratio | us/step (CPU) | ratio |", "|---|---:|---:|---:|---:|"]  # fmt: skip
    for k in s["per_step_us"]:
        lines.append(f"| {k} | {s['per_step_us'][k]:.1f} | {s['ratio'][k]:.2f} | "
                     f"{s['per_step_cpu_us'][k]:.1f} | {s['ratio_cpu_time'][k]:.2f} |")  # fmt: skip
    lines += ["\n### Peak memory of one forward + backward (MiB above the baseline, 1 thread)\n",
              "| (T, B, I, H) | model | torch.nn | lstmkit cpu | ratio |", "|---|---|---:|---:|---:|"]  # fmt: skip
    for m in result["memory"]:
        lines.append(f"| {tuple(m['shape'])} | {m['family']} | {m['peak_mib']['torch']:.1f} | "
                     f"{m['peak_mib']['cpu']:.1f} | {m['ratio']:.2f} |")  # fmt: skip
    lines.append("\nSummary: " + json.dumps(result["summary"]))
    return "\n".join(lines)


def machine() -> dict:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = os.getloadavg()
    except OSError:
        load = (float("nan"),) * 3
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "torch": torch.__version__,
            "platform": platform.platform(), "loadavg_at_start": load}  # fmt: skip


def write_json_atomic(path: str | Path, data: dict) -> None:
    atomic_write_json(path, data)


def run(cfg: BenchConfig, command: str = "") -> dict:
    started = time.time()
    result: dict[str, Any] = {"command": command, "machine": machine(), "config": asdict(cfg),
                              "modes": {"fwd": "forward under torch.no_grad()",
                                        "fwd+bwd": "forward + backward of output.sum(), the input requires a "
                                                   "gradient (the headline: an LSTM that is not the first layer)",
                                        "fwd+bwd no-dx": "forward + backward, the input needs no gradient "
                                                         "(a first layer fed data: the backward skips dx)"}}
    result["selection"] = {"protocol": "a timing benchmark: nothing is trained or selected; the grid, repeats "
                                       "and contestants are fixed in BenchConfig",
                           "validation_scores": None}
    grid: list[dict] = []
    with tqdm(total=len(cfg.threads) * len(cfg.shapes) * cfg.repeats, desc="kernels", unit="repeat") as bar:
        for threads in cfg.threads:
            for shape in cfg.shapes:
                grid += bench_shape(shape, threads, cfg, bar)
    result["grid"] = grid
    result["streaming"] = bench_streaming(cfg)
    result["memory"] = bench_memory(cfg)
    result["summary"] = summarize(grid, result["streaming"], result["memory"])
    result["machine"]["loadavg_at_end"] = os.getloadavg()
    result["seconds"] = time.time() - started
    write_json_atomic(cfg.out, result)
    return result


def _shape(text: str) -> tuple[int, int, int, int]:
    parts = text.replace("(", "").replace(")", "").split(",")
    if len(parts) != 4 or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
        raise ValueError(f"--shapes: expected T,B,I,H with four positive integers, got {text!r}")
    return tuple(int(p) for p in parts)  # type: ignore[return-value]


def add_arguments(parser: Any, out_default: str = BenchConfig.out,
                  out_help: str = "JSON output path") -> None:
    """The benchmark's options, shared by benchmarks/kernels.py and ``lstmkit bench``
    (which makes ``--out`` a run directory, see ``lstmkit.commands.bench``)."""
    d = BenchConfig()
    parser.add_argument("--shapes", nargs="+", type=_shape, default=list(d.shapes), metavar="T,B,I,H",
                        help="grid of (T, B, I, H)")
    parser.add_argument("--threads", nargs="+", type=int, default=list(d.threads), help="torch thread counts")
    parser.add_argument("--repeats", type=int, default=d.repeats, help="timed repeats (>= 7 for the targets)")
    parser.add_argument("--reference-repeats", type=int, default=d.reference_repeats,
                        help="timed repeats of the slow Python-loop reference backend")
    parser.add_argument("--stream-steps", type=int, default=d.stream_steps, help="steps of the streaming test")
    parser.add_argument("--memory-shapes", nargs="*", type=_shape, default=list(d.memory_shapes),
                        metavar="T,B,I,H", help="shapes of the peak-memory probes")
    parser.add_argument("--options", nargs="*", choices=list(OPTIONS), default=list(d.options),
                        help="LSTM options timed alone")
    parser.add_argument("--out", default=out_default, help=out_help)
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: one small shape, 1 thread, 2 repeats (not for the targets)")  # fmt: skip


def config_from_args(args: Any) -> BenchConfig:
    if args.quick:
        return BenchConfig(shapes=((20, 4, 16, 16),), threads=(1,), repeats=2, reference_repeats=1,
                           stream_steps=50, memory_shapes=((20, 4, 16, 16),), options=tuple(args.options),
                           out=args.out)  # fmt: skip
    for name in ("repeats", "reference_repeats", "stream_steps"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')}: expected a positive integer, got {getattr(args, name)}")
    return BenchConfig(shapes=tuple(args.shapes), threads=tuple(args.threads), repeats=args.repeats,
                       reference_repeats=args.reference_repeats, stream_steps=args.stream_steps,
                       memory_shapes=tuple(args.memory_shapes), options=tuple(args.options), out=args.out)  # fmt: skip


def main_from_args(args: Any, command: str) -> int:
    result = run(config_from_args(args), command=command)
    print(format_tables(result))
    print(f"\nwrote {args.out}")
    return 0
