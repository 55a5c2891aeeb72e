"""Helpers for comparing implementations of the same function.

``TOL`` is the one table of tolerances per dtype used wherever two
implementations (torch.nn vs lstmkit, a fast backend vs the reference) are
compared. float64 differences beyond round-off mean a bug; float32 ones are
bounded by accumulation order over a sequence.
"""

from __future__ import annotations

import torch
from torch import Tensor

TOL: dict[torch.dtype, tuple[float, float]] = {  # dtype -> (atol, rtol)
    torch.float64: (1e-10, 1e-9),
    torch.float32: (2e-5, 1e-4),
}


def assert_close(actual: Tensor, expected: Tensor, msg: str = "") -> None:
    """torch.testing.assert_close with the tolerance of ``expected``'s dtype."""
    atol, rtol = TOL[expected.dtype]
    torch.testing.assert_close(actual, expected, atol=atol, rtol=rtol,
                               msg=(lambda m: f"{msg}: {m}") if msg else None)
