"""Writing and running TorchScript programs (see :mod:`lstmkit.exporter.api`)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from lstmkit.exporter.errors import ExportError, ExportMismatch
from lstmkit.exporter.inputs import Flat


def write_torchscript(wrapper: nn.Module, flat: Flat, path: Path) -> None:
    """Trace ``wrapper`` (its recurrent layers already scripted) and save it to ``path``."""
    from lstmkit.exporter.api import _quiet

    with _quiet():
        try:
            traced = torch.jit.trace(wrapper, tuple(flat.tensors), check_trace=False, strict=False)
        except (RuntimeError, torch.jit.Error) as err:
            first = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise ExportError(f"torch.jit.trace cannot trace this module: {first}") from err
    traced.save(str(path))


def run_torchscript(path: Path, inputs: list[Tensor]) -> list[Tensor]:
    """Load the program at ``path`` and run it."""
    loaded = torch.jit.load(str(path))
    try:
        with torch.no_grad():
            out = loaded(*inputs)
    except (RuntimeError, torch.jit.Error) as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise ExportMismatch(f"the TorchScript program cannot run at the check sizes (tracing fixed a loop or "
                             f"a size to the example's?): {first}") from err
    return list(out) if isinstance(out, (tuple, list)) else [out]
