"""Writing and running ONNX programs (see :mod:`lstmkit.exporter.api` for the methods)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from torch import Tensor, nn

from lstmkit._extras import require
from lstmkit.exporter.errors import ExportError, ExportMismatch
from lstmkit.exporter.inputs import Flat

OPSET = 18


def write_onnx(wrapper: nn.Module, flat: Flat, dynamic: Mapping[str, Mapping[int, str]],
               output_names: list[str], path: Path, method: str) -> None:
    """Export ``wrapper`` (flat tensors in and out) to ``path`` with ``method``."""
    require("export", feature="lstmkit export (ONNX)")
    from lstmkit.exporter.api import _quiet

    args = tuple(flat.tensors)
    with _quiet():
        if method == "legacy":
            axes = {name: dict(dynamic.get(name, {})) for name in flat.names}
            torch.onnx.export(wrapper, args, str(path), dynamo=False, opset_version=OPSET,
                              input_names=flat.names, output_names=output_names, dynamic_axes=axes)
            return
        dims: dict[str, torch.export.Dim] = {}
        shapes = []
        for name in flat.names:
            spec = {}
            for dim, axis in dynamic.get(name, {}).items():
                spec[dim] = dims.setdefault(axis, torch.export.Dim(axis))
            shapes.append(spec or None)
        try:
            program = torch.onnx.export(wrapper, args, dynamo=True, opset_version=OPSET,
                                        dynamic_shapes=(tuple(shapes),), input_names=flat.names,
                                        output_names=output_names, verbose=False, report=False)
        except Exception as err:  # the exporter wraps everything; keep its first line
            cause = err
            while cause.__cause__ is not None:
                cause = cause.__cause__
            if isinstance(cause, ExportError):
                raise cause from err
            first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
            raise ExportError(f"torch.export cannot export this module with dynamic sizes: {first}") from err
        program.save(str(path))


def run_onnx(path: Path, names: list[str], inputs: list[Tensor]) -> list[Tensor]:
    """Run the ONNX program at ``path`` with onnxruntime (CPU)."""
    require("export", feature="lstmkit export (ONNX)")
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    wanted = [i.name for i in session.get_inputs()]
    feed = {name: t.detach().cpu().numpy() for name, t in zip(names, inputs) if name in wanted}
    missing = sorted(set(wanted) - set(feed))
    if missing:
        raise ExportError(f"the ONNX program wants inputs {missing} that the example does not name")
    try:
        outputs = session.run(None, feed)
    except Exception as err:  # onnxruntime's own error types: the program cannot run at these sizes
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise ExportMismatch(f"onnxruntime cannot run the exported program at the check sizes "
                             f"(a size was fixed at export?): {first}") from err
    return [torch.from_numpy(o) for o in outputs]
