"""The ``"triton"`` backend: the fused GPU path for every variant torch's cuDNN lacks.

Every LSTM option of ``lstmkit.kernels.spec`` (peephole, coupled gates, layer
norm, projection, zoneout, recurrent dropout, weight drop, residual), the GRU
in both reset conventions and the tanh / relu RNN; stacked, bidirectional,
with ``lengths`` and initial states; float32, float64, float16 and bfloat16
(pointwise math and state in float32). Per step: the recurrent product as one
cuBLAS GEMM and all the gate math, zoneout and length masking fused in one
Triton launch, forward and backward (``functions.py``, ``pointwise.py``).
Layers, directions and random masks come from ``run_stack``, so results match
the reference backend given a seed.

Importing this package imports nothing from Triton (``"auto"`` and
``registry.preload`` look here on every machine). The kernels run on CUDA
tensors; with ``TRITON_INTERPRET=1`` set before Triton is first imported and
``LSTMKIT_TRITON_CPU=1``, Triton's interpreter runs them on CPU tensors, which
is how the test suite checks them on machines without a GPU (slowly: tiny
shapes only).
"""

from __future__ import annotations

import importlib.util
import os

import torch
from torch import Tensor

from lstmkit.kernels.spec import DirParams, DirResult, LayerSpec, StepMasks
from lstmkit.kernels.stack import LoopBackend, RunDirection

_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16)
_HALF = (torch.float16, torch.bfloat16)  # declined on CUDA: see TritonBackend.unsupported


def runs_on_cpu() -> bool:
    """Whether the kernels may run on CPU tensors, in Triton's interpreter.

    Both ``TRITON_INTERPRET=1`` (set before Triton is first imported) and
    ``LSTMKIT_TRITON_CPU=1`` are needed: the second keeps ``"auto"`` from ever
    choosing the (very slow) interpreter in a process that merely has the first."""
    return os.environ.get("TRITON_INTERPRET", "0") == "1" and os.environ.get("LSTMKIT_TRITON_CPU", "0") == "1"


class TritonBackend(LoopBackend):
    """cuBLAS GEMMs and fused Triton pointwise kernels, one launch per step."""

    name = "triton"

    def unsupported(self, spec: LayerSpec, x: Tensor, return_gates: bool) -> str | None:
        if importlib.util.find_spec("triton") is None:
            return "Triton is not installed (pip install 'lstmkit[gpu]')"
        if x.device.type != "cuda" and not (x.device.type == "cpu" and runs_on_cpu()):
            return (f"runs on CUDA tensors (CPU ones only in Triton's interpreter: TRITON_INTERPRET=1 "
                    f"and LSTMKIT_TRITON_CPU=1), got device {x.device}")
        if x.dtype not in _DTYPES:
            return f"supports float16, bfloat16, float32 and float64, got {x.dtype}"
        if x.device.type == "cuda" and x.dtype in _HALF:
            return (f"{x.dtype} on a GPU: on an H200 its gradients disagreed with the float32 reference "
                    "(input gradient off by up to 0.46; float32 and float64 agree, and so does half "
                    "precision in Triton's interpreter), so half precision runs elsewhere until that is "
                    "found; cast the layer to float32 to use this backend")
        if x.shape[0] == 0:
            return "an empty sequence (T = 0)"
        if return_gates and torch.is_grad_enabled():
            return "return_gates under autograd (its traces are constants; the reference backend differentiates them)"
        if torch.compiler.is_compiling():
            return "torch.compile does not trace its autograd functions yet"
        return None

    def direction_runner(self) -> RunDirection:
        return _run_direction


def _run_direction(x: Tensor, h0: Tensor, c0: Tensor | None, params: DirParams, cell, lengths: Tensor | None,
                   reverse: bool, masks: StepMasks, return_gates: bool) -> DirResult:
    if x.shape[1] == 0:  # a batch of zero sequences: nothing to launch, the reference's empty loop
        from lstmkit.kernels.reference import run_direction as reference

        return reference(x, h0, c0, params, cell, lengths, reverse, masks, return_gates)
    from lstmkit.kernels.triton.functions import run_direction  # imports Triton

    return run_direction(x, h0, c0, params, cell, lengths, reverse, masks, return_gates)


BACKEND = TritonBackend()
