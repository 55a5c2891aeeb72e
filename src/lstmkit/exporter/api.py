"""``lstmkit.export``: write a module as ONNX or TorchScript, and prove it at unseen sizes.

How each program is made (the module is copied and put in eval mode first;
the caller's module is not changed):

=================  ==========================================================
``"onnx"``         ``method="scan"`` when the module holds an lstmkit layer or a
                   ``torch.nn`` layer with ``proj_size``: recurrent layers become
                   :mod:`~lstmkit.exporter.modules` twins whose time loop is an
                   ONNX ``Scan``, exported by ``torch.export`` (dynamo) with
                   dynamic axes. ``"legacy"`` when its only recurrent layers are
                   stock ``torch.nn.LSTM/GRU/RNN``: the TorchScript-based
                   exporter writes ONNX's own LSTM/GRU/RNN ops. ``"dynamo"`` when
                   there is no recurrent layer.
``"torchscript"``  recurrent layers become scripted twins (a real loop over T),
                   the rest is traced (``torch.jit.trace``).
=================  ==========================================================

Then the written program is run (onnxruntime, or ``torch.jit.load``) on check
inputs at a batch size and sequence length the example did not have (see
:mod:`~lstmkit.exporter.inputs`) and compared with the module itself:
``max_abs_error`` is the largest ``|exported - pytorch|`` over every output.
Above ``tolerance * max(1, max|pytorch|)`` it raises
:class:`~lstmkit.exporter.errors.ExportMismatch` and nothing is written at
``path`` (the program is written beside it and moved in only once it passes).
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from lstmkit.exporter.errors import ExportError, ExportMismatch
from lstmkit.exporter.inputs import Flat, axis_sizes, check_inputs, default_dynamic, flatten
from lstmkit.exporter.modules import is_recurrent, replace_recurrent

FORMATS = ("onnx", "torchscript")
TOLERANCE = 1e-4
"""Default: float32 programs agree to 1e-4 · max(1, max|output|); measured errors are ~1e-6."""


@dataclass
class ExportResult:
    """What :func:`export` wrote and how well it matched PyTorch at the check sizes."""

    path: Path
    format: str
    method: str
    max_abs_error: float
    tolerance: float
    check_sizes: dict[str, int]
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)

    def summary(self) -> str:
        sizes = ", ".join(f"{k}={v}" for k, v in self.check_sizes.items()) or "fixed sizes"
        return (f"wrote {self.path} ({self.format}, {self.method}); max abs error vs PyTorch at unseen "
                f"{sizes}: {self.max_abs_error:.3g} (tolerance {self.tolerance:.3g})")


class _Flat(nn.Module):
    """Flat tensors in, flat tensors out: the shape every exporter and runtime agrees on."""

    def __init__(self, module: nn.Module, flat: Flat) -> None:
        super().__init__()
        self.module = module
        self.flat = flat

    def forward(self, *tensors: Tensor) -> tuple[Tensor, ...]:
        args, kwargs = self.flat.rebuild(tensors)
        return tuple(flat_outputs(self.module(*args, **kwargs)))


def flat_outputs(out: Any) -> list[Tensor]:
    """Every tensor of a (nested) result, in order; ``None`` entries dropped."""
    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in flat_outputs(o)]
    if out is None:
        return []
    raise ExportError(f"the module returns a {type(out).__name__}; only tensors and tuples of them can be exported")


def _output_names(module: nn.Module, count: int) -> list[str]:
    if is_recurrent(module):
        return ["output", "h_n", "c_n"][:count]
    return ["output"] if count == 1 else [f"output{i}" for i in range(count)]


def choose_method(module: nn.Module, format: str) -> str:
    """``scan`` / ``legacy`` / ``dynamo`` for ONNX, ``script`` for TorchScript (module docstring)."""
    if format == "torchscript":
        return "script"
    layers = [m for m in module.modules() if is_recurrent(m)]
    if not layers:
        return "dynamo"
    stock = all(isinstance(m, nn.RNNBase) and not getattr(m, "proj_size", 0) for m in layers)
    return "legacy" if stock else "scan"


@contextlib.contextmanager
def _quiet():
    """The exporters' progress lines and warnings go nowhere; errors still raise."""
    registry_log = logging.getLogger("torch.onnx._internal.exporter._registration")  # "torchvision not installed"
    level = registry_log.level
    registry_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        registry_log.setLevel(level)


def export(module: nn.Module, example: Any, format: str = "onnx", path: str | os.PathLike | None = None,
           *, dynamic: Mapping[str, Mapping[int, str]] | None = None, check_example: Any = None,
           tolerance: float = TOLERANCE, input_names: list[str] | None = None,
           output_names: list[str] | None = None, method: str = "auto") -> ExportResult:
    """Export ``module`` called on ``example`` to ``path`` and check it (module docstring).

    ``dynamic``: per input name, ``{dim: axis name}`` (default: see
    :mod:`lstmkit.exporter.inputs`); ``check_example``: the inputs to check
    at, in the example's structure (default: drawn at unseen sizes);
    ``input_names`` / ``output_names``: names in the exported program (default:
    the forward's parameter names; ``output``, ``h_n``, ``c_n`` for a layer);
    ``method``: ``"auto"`` or one of ``scan``, ``legacy``, ``dynamo`` (ONNX).
    """
    if format not in FORMATS:
        raise ExportError(f"format: expected one of {list(FORMATS)}, got {format!r}")
    if not isinstance(module, nn.Module):
        raise ExportError(f"module: expected a torch.nn.Module, got {type(module).__name__}")
    if path is None:
        path = "model.onnx" if format == "onnx" else "model.pt"
    path = Path(path)
    if path.is_dir():
        raise ExportError(f"path: '{path}' is a directory; give a file name")
    flat = flatten(module, example)
    if input_names is not None:
        if len(input_names) != len(flat.names):
            raise ExportError(f"input_names: {len(input_names)} names for {len(flat.names)} tensor inputs")
        flat.names = list(input_names)
    dyn = {k: dict(v) for k, v in (default_dynamic(module, flat) if dynamic is None else dynamic).items()}
    sizes = axis_sizes(flat, dyn)
    if check_example is None:
        check, check_sizes = check_inputs(flat, dyn, sizes)
    else:
        check = flatten(module, check_example).tensors
        if len(check) != len(flat.tensors):
            raise ExportError(f"check_example: {len(check)} tensor inputs, the example has {len(flat.tensors)}")
        check_sizes = axis_sizes(Flat(flat.names, check, [], {}), dyn)
        same = sorted(axis for axis, size in check_sizes.items() if sizes.get(axis) == size)
        if same:
            raise ExportError(f"check_example: axis {same[0]!r} has the example's size {sizes[same[0]]}; "
                              "check at sizes the export did not see")
    auto = choose_method(module, format)
    if method == "auto":
        method = auto
    elif format == "torchscript" or method not in ("scan", "legacy", "dynamo"):
        raise ExportError(f"method: expected 'auto' or, for ONNX, 'scan', 'legacy' or 'dynamo'; got {method!r}")
    with torch.no_grad():
        reference = copy.deepcopy(module).eval()
        ref_out = flat_outputs(_Flat(reference, flat)(*check))
        example_out = flat_outputs(_Flat(reference, flat)(*flat.tensors))
    names = output_names or _output_names(module, len(example_out))
    if len(names) != len(example_out):
        raise ExportError(f"output_names: {len(names)} names for {len(example_out)} outputs")
    twin = copy.deepcopy(module).eval().requires_grad_(False)  # (a scan needing grads fails to export)
    if method in ("scan", "script"):
        with _quiet():  # (torch 2.13 warns that torch.jit.script is deprecated)
            twin, _ = replace_recurrent(twin, "scan" if method == "scan" else "script")
    wrapper = _Flat(twin, flat).eval()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    try:
        if format == "onnx":
            from lstmkit.exporter.onnx import run_onnx, write_onnx

            write_onnx(wrapper, flat, dyn, names, tmp, method)
            got = run_onnx(tmp, flat.names, check)
        else:
            from lstmkit.exporter.torchscript import run_torchscript, write_torchscript

            write_torchscript(wrapper, flat, tmp)
            got = run_torchscript(tmp, check)
        error = compare(ref_out, got, names, tolerance, check_sizes)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return ExportResult(path=path, format=format, method=method, max_abs_error=error, tolerance=tolerance,
                        check_sizes=check_sizes, inputs=list(flat.names), outputs=list(names))


def compare(expected: list[Tensor], got: list[Tensor], names: list[str], tolerance: float,
            sizes: Mapping[str, int]) -> float:
    """The max abs error over all outputs; :class:`ExportMismatch` if shapes differ or it is too large."""
    at = ", ".join(f"{k}={v}" for k, v in sizes.items()) or "the check inputs"
    if len(expected) != len(got):
        raise ExportMismatch(f"the exported program returns {len(got)} outputs, PyTorch {len(expected)}")
    worst = 0.0
    for name, e, g in zip(names, expected, got):
        g = torch.as_tensor(g)
        if tuple(e.shape) != tuple(g.shape):
            raise ExportMismatch(f"output {name!r} at {at}: shape {tuple(g.shape)} exported, "
                                 f"{tuple(e.shape)} in PyTorch (a size was fixed at export)")
        if e.numel() == 0:
            continue
        e64, g64 = e.to(torch.float64), g.to(torch.float64)  # (also bool and integer outputs)
        err = float((g64 - e64).abs().max())
        limit = tolerance * max(1.0, float(e64.abs().max()))
        if not err <= limit:  # also catches NaN
            raise ExportMismatch(f"output {name!r} at {at}: max abs error {err:.3g} exceeds {limit:.3g}; "
                                 "the exported program does not compute what the module computes")
        worst = max(worst, err)
    return worst
