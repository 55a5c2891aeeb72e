"""``lstmkit export MODEL_DIR --format onnx|torchscript --out FILE``: a saved task model, deployable.

The library does the work (:func:`lstmkit.exporter.tasks.export_task`): it
exports the task's network, runs the written program (onnxruntime, or the
loaded TorchScript) against PyTorch at a batch size and sequence length the
export did not see, and prints the max abs error; above the tolerance it is
an error and nothing is written. Translation models give two programs,
``FILE.encoder.EXT`` and ``FILE.step.EXT``.
"""

from __future__ import annotations

import argparse
from typing import Any

from lstmkit.commands._common import add_parser

SUFFIX = {"onnx": ".onnx", "torchscript": ".pt"}


def register(subparsers: Any) -> None:
    parser = add_parser(
        subparsers,
        "export",
        help="export a saved task model to ONNX or TorchScript, checked against PyTorch",
        func=run,
    )
    parser.add_argument("model", metavar="MODEL_DIR", help="a saved model directory (from any task's fit)")
    parser.add_argument("--format", choices=("onnx", "torchscript"), default="onnx",
                        help="onnx (run with onnxruntime) or torchscript (torch.jit.load)")
    parser.add_argument("--out", default=None,
                        help="output file (default: model.onnx or model.pt)")
    parser.add_argument("--member", type=int, default=1,
                        help="which network of an ensemble (tag, forecast, seqclass), from 1")
    parser.add_argument("--tolerance", type=float, default=None,
                        help="largest accepted |exported - pytorch|, relative to max(1, max|output|) "
                             "(default 1e-4)")


def run(args: argparse.Namespace) -> int:
    from lstmkit.exporter.tasks import export_task

    if args.tolerance is not None and not args.tolerance > 0:
        raise ValueError(f"--tolerance: expected a positive number, got {args.tolerance}")
    out = args.out or "model" + SUFFIX[args.format]
    for result in export_task(args.model, args.format, out, member=args.member, tolerance=args.tolerance):
        print(result.summary())
    return 0
