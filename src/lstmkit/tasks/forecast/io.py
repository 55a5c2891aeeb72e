"""Atomic outputs of the forecasting task (see :mod:`lstmkit.io`)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from lstmkit.io import atomic_dir, atomic_path

__all__ = ["atomic_dir", "write_csv_atomic"]


def write_csv_atomic(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write `frame` to a temp file beside `path`, then rename it over `path`."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)
    return Path(path)
