"""GPU: the "triton" backend against torch's cuDNN LSTM and the reference loop.

Needs a CUDA device (it exits with one line where there is none). For each
shape of the grid and each configuration it first checks the fused backend
against the reference backend on the GPU (max |difference| of outputs and
input gradients, training mode, same seed), then times forward+backward
(training, the input needing its gradient) and forward alone (inference,
``no_grad``, eval mode) with CUDA events: ``--repeats`` interleaved rounds,
medians. The bar is torch's own ``nn.LSTM`` / ``nn.GRU`` (cuDNN) of the same
shape: ``ratio`` is triton time / cuDNN time (<= 1.0 is at cuDNN speed), and
``speedup_vs_reference`` what the fused kernels buy over the Python loop.

    python benchmarks/triton_gpu.py            # the grid, results/triton_gpu.json
    python benchmarks/triton_gpu.py --quick    # one small shape, two configurations
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import torch
from _common import result_path

import lstmkit

SHAPES = [(100, 32, 128, 128), (200, 16, 256, 256), (100, 64, 512, 512)]  # (T, B, I, H)
CONFIGS: dict[str, tuple[str, dict]] = {
    "lstm": ("LSTM", {}),
    "peephole": ("LSTM", {"peephole": True}),
    "coupled": ("LSTM", {"coupled_gates": True}),
    "layer_norm": ("LSTM", {"layer_norm": True}),
    "zoneout": ("LSTM", {"zoneout": 0.1}),
    "recurrent_dropout": ("LSTM", {"recurrent_dropout": 0.25}),
    "projection+peephole": ("LSTM", {"proj_size": 64, "peephole": True}),
    "gru": ("GRU", {}),
    "gru_reset_before": ("GRU", {"reset_after": False}),
}


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=15, help="interleaved timing rounds (medians)")
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    ap.add_argument("--quick", action="store_true", help="one small shape, two configurations (smoke)")
    ap.add_argument("--out", type=Path, default=None,
                    help="JSON output (default results/triton_gpu.json; --quick: *.quick.json)")
    return ap


def output_path(args: argparse.Namespace) -> Path:
    return result_path("triton_gpu", args.out, args.quick)


def _time(fn) -> float:
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / 1e3


def _step(layer, x, train: bool):
    if train:
        layer.train()
        out, _ = layer(x)
        out.sum().backward()
    else:
        layer.eval()
        with torch.no_grad():
            layer(x)


def check(family: str, opts: dict, shape, dtype) -> float:
    """max |triton - reference| over the output and the input gradient (training mode)."""
    T, B, inp, hid = shape
    torch.manual_seed(0)
    ref = getattr(lstmkit, family)(inp, hid, backend="reference", device="cuda", dtype=dtype, **opts)
    fused = getattr(lstmkit, family)(inp, hid, backend="triton", device="cuda", dtype=dtype, **opts)
    fused.load_state_dict(ref.state_dict())
    x = torch.randn(min(T, 50), B, inp, device="cuda", dtype=dtype)
    results = []
    for layer in (ref, fused):
        xi = x.clone().requires_grad_()
        torch.manual_seed(1)
        out, _ = layer(xi)
        out.float().square().sum().backward()
        results.append((out.float(), xi.grad.float()))
    return max((a - b).abs().max().item() for a, b in zip(*results))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not torch.cuda.is_available():
        print("lstmkit: error: benchmarks/triton_gpu.py needs a CUDA device", file=sys.stderr)
        return 2
    dtype = getattr(torch, args.dtype)
    shapes, configs = (SHAPES[:1], ["lstm", "layer_norm"]) if args.quick else (SHAPES, list(CONFIGS))
    repeats = 3 if args.quick else args.repeats
    rows = []
    for shape in shapes:
        T, B, inp, hid = shape
        x = torch.randn(T, B, inp, device="cuda", dtype=dtype, requires_grad=True)
        bars = {fam: getattr(torch.nn, fam)(inp, hid, device="cuda", dtype=dtype) for fam in ("LSTM", "GRU")}
        for name in configs:
            family, opts = CONFIGS[name]
            err = check(family, opts, shape, dtype)
            layers = {b: getattr(lstmkit, family)(inp, hid, backend=b, device="cuda", dtype=dtype, **opts)
                      for b in ("triton", "reference")}
            contestants = {"cudnn": bars[family], **layers}
            for mode, train in (("fwd+bwd", True), ("fwd", False)):
                times: dict[str, list[float]] = {k: [] for k in contestants}
                for layer in contestants.values():  # warm-up (Triton compiles here)
                    _step(layer, x, train)
                for round_ in range(repeats):  # interleaved rounds: drift hits every contestant alike
                    for key, layer in contestants.items():
                        if key == "reference" and round_ > 2:
                            continue  # the slow loop: three rounds are enough for its median
                        times[key].append(_time(lambda layer=layer, x=x, train=train: _step(layer, x, train)))
                med = {k: statistics.median(v) for k, v in times.items()}
                rows.append({"shape": list(shape), "config": name, "mode": mode, "max_abs_err": err,
                             "median_s": med, "ratio_vs_cudnn": med["triton"] / med["cudnn"],
                             "speedup_vs_reference": med["reference"] / med["triton"]})
                print(f"{shape} {name:20s} {mode:8s} triton/cuDNN {rows[-1]['ratio_vs_cudnn']:.2f}  "
                      f"x{rows[-1]['speedup_vs_reference']:.1f} vs reference  err {err:.1e}", flush=True)
    out = output_path(args)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "benchmark": "triton_gpu", "device": torch.cuda.get_device_name(), "dtype": args.dtype,
        "torch": torch.__version__, "repeats": repeats, "rows": rows,
        "selection": {"protocol": "speed and agreement only: a fixed grid of shapes and configurations, "
                                  "nothing chosen on any score", "validation_scores": None},
    }, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
