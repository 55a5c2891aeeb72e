"""Backend registry: name -> implementation. The only module that imports kernels.

A backend is an object with

    name: str
    def unsupported(spec: LayerSpec, x: Tensor, return_gates: bool) -> str | None
        # why this backend cannot run the configuration, or None if it can
    def run(spec, x, h0, c0, params, lengths, training, return_gates) -> StackResult

Kernels are imported lazily, the first time they are asked for, so that a
missing compiler or Triton never breaks ``import lstmkit``. ``"auto"`` takes
the first backend that can run the configuration, in the order measured
fastest by ``benchmarks/kernels.py``: when gradients are needed (training),
``AUTO_TRAIN`` (the fused ``cpu`` kernels beat torch's own forward+backward on
CPU); without them (inference), ``AUTO_INFER`` per cell (torch's oneDNN
forward is the fastest LSTM inference, the fused kernels the fastest GRU/RNN). A backend
named by the user is never silently replaced: its optional ``prepare()`` runs
first (the ``cpu`` backend builds its kernels there, with messages, if they
are not built yet), and if it still cannot run the configuration, ``resolve``
raises ``ValueError`` saying why. ``"auto"`` never waits for a build: a backend
that is not ready reports it from ``unsupported`` and the next one is taken.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol

from torch import Tensor

from lstmkit.kernels.spec import DirParams, LayerSpec, StackResult


class Backend(Protocol):
    name: str

    def unsupported(self, spec: LayerSpec, x: Tensor, return_gates: bool) -> str | None: ...

    def run(
        self,
        spec: LayerSpec,
        x: Tensor,
        h0: Tensor,
        c0: Tensor | None,
        params: list[DirParams],
        lengths: Tensor | None,
        training: bool,
        return_gates: bool,
    ) -> StackResult: ...


# name -> "module:attribute", imported on first use.
_BACKENDS: dict[str, str] = {
    "reference": "lstmkit.kernels.reference:BACKEND",
    "native": "lstmkit.kernels.native:BACKEND",
    "cpu": "lstmkit.kernels.cpu:BACKEND",
    "triton": "lstmkit.kernels.triton:BACKEND",
}
# The orders "auto" tries; the first that supports the configuration wins.
# On CUDA tensors "cpu" declines, so torch's cuDNN ("native") runs the configurations
# it has and "triton" every option cuDNN lacks (timed on an H200, docs/gpu.md: 4-50x cuDNN's
# time where cuDNN runs, 1.5-3.4x faster than the reference loop for the options it lacks).
AUTO_TRAIN: tuple[str, ...] = ("cpu", "native", "triton", "reference")
AUTO_INFER: dict[str, tuple[str, ...]] = {  # by cell: torch's oneDNN LSTM wins inference,
    "LSTM": ("native", "cpu", "triton", "reference"),  # the fused GRU / RNN kernels beat torch's
    "GRU": ("cpu", "native", "triton", "reference"),
    "RNN_TANH": ("cpu", "native", "triton", "reference"),
    "RNN_RELU": ("cpu", "native", "triton", "reference"),
}
# torch runs a projected LSTM (proj_size > 0) without oneDNN, on its slow generic
# path ("LSTM with projections is not supported with oneDNN"): the fused kernels
# measured 1.01-1.12x torch's unprojected oneDNN LSTM there, torch's own 2.26-2.38x
# (docs/performance.md), so a projected LSTM's inference goes to "cpu" first.
AUTO_INFER_PROJECTED: tuple[str, ...] = ("cpu", "native", "triton", "reference")
_loaded: dict[str, Any] = {}


def names() -> tuple[str, ...]:
    """Every backend name a module accepts (``"auto"`` included)."""
    return ("auto", *_BACKENDS)


def check_name(name: str) -> str:
    if not isinstance(name, str) or name not in names():
        raise ValueError(f"backend: expected one of {list(names())}, got {name!r}")
    return name


def get(name: str) -> Backend:
    """The backend object called ``name`` (imported on first use)."""
    check_name(name)
    if name == "auto":
        raise ValueError("backend: 'auto' is resolved per call; use resolve()")
    if name not in _loaded:
        module, attr = _BACKENDS[name].split(":")
        _loaded[name] = getattr(importlib.import_module(module), attr)
    return _loaded[name]


def preload() -> None:
    """Import every registered backend now (compiling nothing).

    The layers call this when they are built, so that a traced forward
    (``torch.compile``, ``torch.export``) never meets an import or a first
    look-up, which would break its graph. A backend's optional ``warm()``
    does its own first look-up here (the ``cpu`` backend finds its build)."""
    for name in _BACKENDS:
        warm = getattr(get(name), "warm", None)
        if warm is not None:
            warm()


def auto_order(spec: LayerSpec, needs_grad: bool) -> tuple[str, ...]:
    """The backends "auto" tries, in order, for this configuration."""
    if needs_grad:
        return AUTO_TRAIN
    if spec.cell.mode == "LSTM" and spec.cell.proj_size > 0:
        return AUTO_INFER_PROJECTED
    return AUTO_INFER[spec.cell.mode]


def resolve(name: str, spec: LayerSpec, x: Tensor, return_gates: bool,
            needs_grad: bool = True) -> Backend:
    """The backend that runs this call; raises ValueError when the named one cannot.

    ``needs_grad``: whether this call will be differentiated (picks the auto order).
    """
    if check_name(name) != "auto":
        backend = get(name)
        prepare = getattr(backend, "prepare", None)
        if prepare is not None:  # a named backend may build itself first (and say so)
            prepare()
        why = backend.unsupported(spec, x, return_gates)
        if why is not None:
            raise ValueError(f"backend {name!r} cannot run this configuration: {why}")
        return backend
    reasons = []
    for candidate in auto_order(spec, needs_grad):
        backend = get(candidate)
        why = backend.unsupported(spec, x, return_gates)
        if why is None:
            return backend
        reasons.append(f"{candidate}: {why}")
    raise ValueError("no backend can run this configuration (" + "; ".join(reasons) + ")")
