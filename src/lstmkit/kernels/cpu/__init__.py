"""The ``"cpu"`` backend: fused C++ forward and backward through time.

Every LSTM option of ``lstmkit.kernels.spec`` (peephole, coupled gates, layer
norm, projection, zoneout, recurrent dropout, weight drop, residual), the GRU in
both reset conventions and the tanh / relu RNN; stacked, bidirectional, with
variable lengths and initial states. Layers, directions and masks come from
``run_stack`` (the same mask order and draws as the reference backend); each
layer and direction runs in ``functions.run_direction``.

Importing this package compiles nothing. The extension is normally built when
the package is installed (``setup.py``); see ``_loader`` for the on-demand
fallback. ``unsupported`` never builds (it says why the kernels are not ready,
so that ``"auto"`` takes the next backend); ``prepare``, which the registry
calls only for an explicit ``backend="cpu"``, builds them if need be.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor

from lstmkit.kernels.cpu import _loader
from lstmkit.kernels.spec import LayerSpec
from lstmkit.kernels.stack import LoopBackend, RunDirection

_DTYPES = (torch.float32, torch.float64)


class CPUBackend(LoopBackend):
    """Fused C++ kernels for CPU tensors in float32 / float64."""

    name = "cpu"
    _warned = False

    def unsupported(self, spec: LayerSpec, x: Tensor, return_gates: bool) -> str | None:
        if x.device.type != "cpu":
            return f"runs on CPU tensors only, got device {x.device}"
        if x.dtype not in _DTYPES:
            return f"supports float32 and float64, got {x.dtype}"
        if return_gates:
            return "return_gates is not traced by the fused kernels (the reference backend traces them)"
        if x.shape[0] == 0:
            return "an empty sequence (T = 0)"
        why = _loader.reason(build=False)
        if why is not None and not self._warned and not torch.compiler.is_compiling():
            self._warned = True  # once per process, when "auto" first passes the kernels by
            warnings.warn(f"lstmkit: {why}; 'auto' uses the next backend. {_loader.HOW_TO_BUILD}",
                          RuntimeWarning, stacklevel=4)
        return why

    def warm(self) -> None:
        """Find an installed or cached build now (never compiles, never warns), so
        that a traced forward only reads the answer (see ``registry.preload``)."""
        _loader.load(build=False)

    def prepare(self) -> None:
        """Build the kernels now if they are not built (an explicit ``backend="cpu"``)."""
        _loader.load(build=True)

    def direction_runner(self) -> RunDirection:
        from lstmkit.kernels.cpu.functions import run_direction  # loads the extension

        return run_direction


BACKEND = CPUBackend()
