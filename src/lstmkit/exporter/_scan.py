"""The one place that imports PyTorch's private ``scan`` operator.

``torch._higher_order_ops.scan.scan(combine_fn, init, xs, reverse=...)`` runs
``carry, y_t = combine_fn(carry, x_t)`` over dim 0 of ``xs`` and stacks the
``y_t``. ``torch.export`` keeps it as one higher-order op and the ONNX
exporter turns it into an ONNX ``Scan`` whose trip count is the input's
length, so the sequence and batch sizes stay dynamic. It is private API
(measured with torch 2.13): if a later torch moves or removes it, every ONNX
export of an lstmkit layer stops here with one clear message instead of an
``ImportError`` from deep inside a trace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PINNED = "torch._higher_order_ops.scan.scan"


def get_scan() -> Callable[..., Any]:
    """PyTorch's ``scan`` operator; ``ExportError`` when this torch has none."""
    from lstmkit.exporter.errors import ExportError

    try:
        from torch._higher_order_ops.scan import scan
    except ImportError as err:
        import torch

        raise ExportError(
            f"ONNX export of recurrent layers needs {PINNED} (private PyTorch API, present in "
            f"torch 2.13); this torch {torch.__version__} has none: {err}"
        ) from err
    return scan
