"""Reading one series for anomaly detection from a CSV or DataFrame.

Columns: the value column (``y`` by default), an optional time column (``ds``; when
absent the row number is the time), an optional 0/1 label column (``label``), and an
optional ``unique_id`` that must name a single series.  The checks and messages are the
forecasting pipeline's (`lstmkit.tasks.forecast.data`): missing columns, non-numeric
values, duplicate or irregular timestamps, unparseable dates and empty files raise a
`ValueError` naming the series and the problem; missing values are interpolated with a
warning.  Labels must be 0 or 1 and are never interpolated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lstmkit.tasks.forecast.config import DataConfig
from lstmkit.tasks.forecast.data import ForecastDataError, check_columns, prepare_panel, read_table


@dataclass
class Series:
    """A checked series: name, time index, values (T,), labels (T,) or None."""

    name: str
    index: Any
    values: np.ndarray
    labels: np.ndarray | None


def read_series(source: Any, *, value_col: str = "y", time_col: str = "ds", label_col: str | None = "label",
                min_length: int = 1, what: str = "data") -> Series:
    """Read and check one series (see the module docstring).

    `label_col` is optional: when the column is absent the series has no labels.
    """
    config = DataConfig(target_col=value_col, time_col=time_col)
    frame = read_table(source, config, what=what)
    check_columns(frame, [value_col], what=what)
    if time_col not in frame.columns:
        frame[time_col] = frame.groupby(config.id_col, sort=False).cumcount().astype(np.int64)
    ids = frame[config.id_col].unique()
    if len(ids) != 1:
        raise ForecastDataError(
            f"{what}: expected one series, found {len(ids)} ({', '.join(map(str, ids[:3]))}, ...); "
            "score them one at a time"
        )
    has_labels = label_col is not None and label_col in frame.columns
    labels = None
    if has_labels:
        raw = pd.to_numeric(frame[label_col], errors="coerce")
        bad = ~raw.isin([0, 1])
        if bad.any():
            raise ForecastDataError(
                f"{what}: series {ids[0]!r}: column {label_col!r} must hold 0 or 1, "
                f"found {frame[label_col][bad].iloc[0]}"
            )
        frame = frame.assign(**{label_col: raw.astype(np.float64)})
        config = DataConfig(target_col=value_col, time_col=time_col, past_covariates=(label_col,))
    panel = prepare_panel(frame, config, min_length=min_length, what=what)
    if has_labels:
        labels = panel.past[0][:, 0]
        if not np.isin(labels, (0.0, 1.0)).all():
            raise ForecastDataError(
                f"{what}: series {panel.ids[0]!r}: timestamps missing from the grid cannot be labelled; "
                "give every timestamp a row"
            )
        labels = labels.astype(np.int64)
    return Series(panel.ids[0], panel.ds[0], panel.y[0], labels)
