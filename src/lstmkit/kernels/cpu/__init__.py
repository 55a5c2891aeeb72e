"""The ``"cpu"`` backend: fused C++ forward and backward through time.

Every LSTM option of ``lstmkit.kernels.spec`` (peephole, coupled gates, layer
norm, projection, zoneout, recurrent dropout, weight drop, residual), the GRU in
both reset conventions and the tanh / relu RNN; stacked, bidirectional, with
variable lengths and initial states. Layers, directions and masks come from
``run_stack`` (the same mask order and draws as the reference backend); each
layer and direction runs in ``functions.run_direction``.

Importing this package compiles nothing: the extension is built on first use
(see ``_loader``), and when it cannot be built ``unsupported`` says why so that
``"auto"`` falls back to another backend.
"""

from __future__ import annotations

import torch
from torch import Tensor

from lstmkit.kernels.cpu import _loader
from lstmkit.kernels.spec import LayerSpec
from lstmkit.kernels.stack import LoopBackend, RunDirection

_DTYPES = (torch.float32, torch.float64)


class CPUBackend(LoopBackend):
    """Fused C++ kernels for CPU tensors in float32 / float64."""

    name = "cpu"

    def unsupported(self, spec: LayerSpec, x: Tensor, return_gates: bool) -> str | None:
        if x.device.type != "cpu":
            return f"runs on CPU tensors only, got device {x.device}"
        if x.dtype not in _DTYPES:
            return f"supports float32 and float64, got {x.dtype}"
        if return_gates:
            return "return_gates is not traced by the fused kernels (the reference backend traces them)"
        if x.shape[0] == 0:
            return "an empty sequence (T = 0)"
        return _loader.reason()

    def direction_runner(self) -> RunDirection:
        from lstmkit.kernels.cpu.functions import run_direction  # loads the extension

        return run_direction


BACKEND = CPUBackend()
