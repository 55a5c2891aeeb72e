"""Export to ONNX and TorchScript, checked against PyTorch (see :mod:`lstmkit.exporter.api`).

``lstmkit.export(module, example, format="onnx", path="model.onnx")`` is
:func:`export`; ``lstmkit export MODEL_DIR`` exports a saved task model
(:mod:`lstmkit.exporter.tasks`). Nothing heavy is imported until an export runs.
"""

from __future__ import annotations

from typing import Any

from lstmkit.exporter.errors import ExportError, ExportMismatch


def export(module: Any, example: Any, format: str = "onnx", path: Any = None, **options: Any) -> Any:
    """Export ``module`` and check it at unseen sizes; see :func:`lstmkit.exporter.api.export`."""
    from lstmkit.exporter.api import export as run

    return run(module, example, format, path, **options)


__all__ = ["export", "ExportError", "ExportMismatch"]
