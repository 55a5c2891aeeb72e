"""Reading labelled multivariate sequences, and preparing them for the network.

Accepted inputs (``read_sequences``):

* a 3-D array ``(n, channels, length)`` (aeon / sktime "numpy3D"); trailing
  steps that are NaN in every channel are padding (the series ends there);
  a 2-D array ``(n, length)`` is ``n`` univariate series;
* a list of ``(channels, length)`` arrays of unequal lengths (aeon's
  "np-list"; a 1-D item is one channel);
* an sktime nested DataFrame (one column per channel, one ``pd.Series`` per cell);
* a ``.ts`` file (read with :func:`aeon.datasets.load_from_ts_file`);
* a long table (CSV path or DataFrame): ``series_id, t, channel columns...,
  label`` (names from the ``data`` section; every other column is a channel;
  the label must be constant within a series);
* a pair ``(X, y)`` of any of the array forms and their labels.

Each series becomes a ``(length, channels)`` float64 array (time first, as the
LSTM reads it). Problems are one-line ``ValueError``s: an empty set, a wrong
number of dimensions, series with different channel counts, infinite values,
labels that do not match the series.

``Preprocessor`` (fitted on training data only) fills NaNs (carried forward,
then backward, then the channel's training mean; ``mask`` adds a 0/1
indicator channel per channel), standardises, and optionally averages blocks
of ``downsample`` steps. Standardisation (``normalize``):

* ``channel``: ``z_t = (x_t - mean_c) / std_c`` with the training mean and
  standard deviation of channel ``c`` over every observed training step
  (amplitudes stay comparable across series);
* ``series``: ``z_t = (x_t - m_{i,c}) / s_{i,c}`` with the mean and standard
  deviation of channel ``c`` over the observed steps of series ``i`` itself
  (the UCR archive's z-normalisation; a constant channel becomes 0). Needed
  where amplitudes span orders of magnitude (PLAID: 2e-4 to 460), which
  ``channel`` squeezes to near-constant inputs for all but the largest series.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch


@dataclass
class Sequences:
    """Series (each ``(length, channels)``), optional labels ``(n,)`` and identifiers."""

    values: list[np.ndarray]
    labels: np.ndarray | None
    ids: list[Any]

    @property
    def channels(self) -> int:
        return self.values[0].shape[1]

    @property
    def lengths(self) -> np.ndarray:
        return np.array([len(v) for v in self.values], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.values)

    def subset(self, index: np.ndarray) -> Sequences:
        labels = None if self.labels is None else self.labels[index]
        return Sequences([self.values[i] for i in index], labels, [self.ids[i] for i in index])


def _series_from_array(x: Any, what: str) -> list[np.ndarray]:
    """An array or list of arrays -> list of (length, channels) float64 arrays."""
    if isinstance(x, np.ndarray) and x.dtype != object:
        if x.ndim == 2:
            x = x[:, None, :]                                   # (n, L) -> (n, 1, L)
        if x.ndim != 3:
            raise ValueError(f"{what}: expected a 3-D array (n, channels, length) or a 2-D array "
                             f"(n, length), got shape {x.shape}")
        items = list(x)
    elif isinstance(x, (list, tuple)) or (isinstance(x, np.ndarray) and x.dtype == object):
        items = list(x)
    else:
        raise ValueError(f"{what}: expected an array, a list of (channels, length) arrays, a DataFrame "
                         f"or a .ts/.csv path, got {type(x).__name__}")
    if not items:
        raise ValueError(f"{what}: no series")
    out = []
    for i, item in enumerate(items):
        try:
            a = np.asarray(item, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{what}: series {i} is not numeric") from None
        if a.ndim == 1:
            a = a[None, :]
        if a.ndim != 2:
            raise ValueError(f"{what}: series {i} has shape {a.shape}; expected (channels, length)")
        a = a.T                                                 # (C, L) -> (L, C)
        observed = ~np.isnan(a).all(axis=1)
        end = int(np.flatnonzero(observed)[-1]) + 1 if observed.any() else 0
        a = a[:end]                                             # trailing all-NaN steps are padding
        if len(a) == 0:
            raise ValueError(f"{what}: series {i} is empty (no observed step)")
        out.append(a)
    channels = {a.shape[1] for a in out}
    if len(channels) > 1:
        raise ValueError(f"{what}: series have different channel counts {sorted(channels)}")
    return out


def _from_nested(frame: pd.DataFrame, what: str) -> list[np.ndarray]:
    rows = []
    for i in range(len(frame)):
        cells = [np.asarray(frame.iloc[i, j], dtype=np.float64) for j in range(frame.shape[1])]
        if len({len(c) for c in cells}) > 1:
            raise ValueError(f"{what}: nested row {i} has channels of different lengths")
        rows.append(np.stack(cells))                            # (C, L)
    return _series_from_array(rows, what)


def _from_long(frame: pd.DataFrame, dc: Any, what: str) -> Sequences:
    if dc.id_col not in frame.columns:
        raise ValueError(f"{what}: no {dc.id_col!r} column (long layout: {dc.id_col}, {dc.time_col}, "
                         f"channels..., {dc.label_col}); columns: {', '.join(map(str, frame.columns))}")
    channels = [c for c in frame.columns if c not in (dc.id_col, dc.time_col, dc.label_col)]
    if not channels:
        raise ValueError(f"{what}: no channel columns besides {dc.id_col}, {dc.time_col}, {dc.label_col}")
    bad = [c for c in channels if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise ValueError(f"{what}: channel column(s) {', '.join(map(str, bad))} are not numeric")
    if frame.empty:
        raise ValueError(f"{what}: no rows")
    has_labels = dc.label_col in frame.columns
    values, labels, ids = [], [], []
    for key, part in frame.groupby(dc.id_col, sort=False):
        if dc.time_col in part.columns:
            part = part.sort_values(dc.time_col, kind="stable")
        values.append(part[channels].to_numpy(dtype=np.float64))
        ids.append(key)
        if has_labels:
            found = part[dc.label_col].unique()
            if len(found) != 1:
                raise ValueError(f"{what}: series {key!r} has {len(found)} different labels; one per series")
            labels.append(found[0])
    seqs = Sequences(values, np.asarray(labels, dtype=object) if has_labels else None, ids)
    _check_finite(seqs, what)
    return seqs


def _check_finite(seqs: Sequences, what: str) -> None:
    for i, a in enumerate(seqs.values):
        if np.isinf(a).any():
            raise ValueError(f"{what}: series {seqs.ids[i]!r} has infinite values (NaN is allowed, inf is not)")


def _labels(y: Any, n: int, what: str) -> np.ndarray:
    y = np.asarray(y, dtype=object).ravel() if y is not None else None
    if y is None:
        return None
    if len(y) != n:
        raise ValueError(f"{what}: {n} series but {len(y)} labels")
    if any(v is None or (isinstance(v, float) and np.isnan(v)) for v in y):
        raise ValueError(f"{what}: missing labels")
    return y


def read_sequences(data: Any, dc: Any, what: str = "data") -> Sequences:
    """Any accepted input (see the module docstring) -> :class:`Sequences`."""
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        if not path.is_file():
            raise FileNotFoundError(f"{what}: no such file '{path}'")
        if path.suffix.lower() == ".ts":
            from aeon.datasets import load_from_ts_file

            try:
                x, y = load_from_ts_file(str(path))
            except (OSError, ValueError) as exc:
                raise ValueError(f"{what}: '{path}' is not a readable .ts file: {' '.join(str(exc).split())}") \
                    from None
            return read_sequences((x, y), dc, what)
        if path.suffix.lower() in (".csv", ".gz"):
            return _from_long(pd.read_csv(path), dc, what)
        raise ValueError(f"{what}: '{path}' is neither a .ts nor a .csv file")
    if isinstance(data, pd.DataFrame):
        if data.shape[0] and data.shape[1] and isinstance(data.iloc[0, 0], pd.Series):
            values, y = _from_nested(data, what), None
        else:
            return _from_long(data, dc, what)
    elif isinstance(data, tuple) and len(data) == 2 and not isinstance(data[0], (int, float)):
        x, y = data
        values = _from_nested(x, what) if isinstance(x, pd.DataFrame) else _series_from_array(x, what)
    else:
        values, y = _series_from_array(data, what), None
    seqs = Sequences(values, _labels(y, len(values), what), list(range(len(values))))
    _check_finite(seqs, what)
    return seqs


# --------------------------------------------------------------------------- preparation
def _fill(a: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Carry each channel's last observation forward, then the first one backward; all-NaN -> fallback."""
    frame = pd.DataFrame(a).ffill().bfill()
    return frame.fillna(pd.Series(fallback)).to_numpy()


def _downsample(a: np.ndarray, k: int) -> np.ndarray:
    if k == 1:
        return a
    n = len(a)
    blocks = -(-n // k)
    padded = np.full((blocks * k, a.shape[1]), np.nan)
    padded[:n] = a
    return np.nanmean(padded.reshape(blocks, k, a.shape[1]), axis=1)   # (blocks, k, C) -> (blocks, C)


@dataclass
class Preprocessor:
    """Per-channel standardisation and NaN handling fitted on training data (see the module docstring)."""

    mean: np.ndarray
    std: np.ndarray
    missing: str = "impute"
    downsample: int = 1
    normalize: str = "channel"

    @classmethod
    def fit(cls, seqs: Sequences, missing: str, downsample: int, normalize: str = "channel") -> Preprocessor:
        stacked = np.concatenate(seqs.values)                              # (sum L, C)
        observed = ~np.isnan(stacked)
        empty = ~observed.any(axis=0)
        if empty.any():
            raise ValueError(f"training data: channel(s) {np.flatnonzero(empty).tolist()} are never observed")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean, std = np.nanmean(stacked, axis=0), np.nanstd(stacked, axis=0)
        return cls(mean, np.where(std > 0, std, 1.0), missing, downsample, normalize)

    @property
    def channels(self) -> int:
        return len(self.mean)

    @property
    def input_size(self) -> int:
        return self.channels * (2 if self.missing == "mask" else 1)

    def transform(self, seqs: Sequences, what: str) -> list[np.ndarray]:
        """Standardised, NaN-free series ``(length', input_size)`` as float32."""
        if seqs.channels != self.channels:
            raise ValueError(f"{what}: {seqs.channels} channel(s), the model was trained on {self.channels}")
        n_missing = sum(int(np.isnan(a).sum()) for a in seqs.values)
        if n_missing and self.missing == "error":
            raise ValueError(f"{what}: {n_missing} missing (NaN) values and missing='error'")
        if n_missing:
            total = sum(a.size for a in seqs.values)
            how = "imputed (carried forward/backward, else the training mean)"
            if self.missing == "mask":
                how += " with a missing-value indicator per channel"
            warnings.warn(f"{what}: {n_missing} of {total} values ({100 * n_missing / total:.2g}%) were "
                          f"missing (NaN) and were {how}", stacklevel=3)
        out = []
        for a in seqs.values:
            nan = np.isnan(a)
            z = self._standardise(_fill(a, self.mean) if nan.any() else a, nan)
            if self.missing == "mask":
                z = np.concatenate([z, nan.astype(np.float64)], axis=1)   # (L, C) -> (L, 2C)
            out.append(_downsample(z, self.downsample).astype(np.float32))
        return out

    def _standardise(self, filled: np.ndarray, nan: np.ndarray) -> np.ndarray:
        """``(L, C)`` NaN-free series -> standardised (see the module docstring); ``nan``: where it was missing."""
        if self.normalize == "channel":
            return (filled - self.mean) / self.std
        observed = np.where(nan, np.nan, filled)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)          # all-NaN channel: training mean, s = 1
            m = np.where(nan.all(axis=0), self.mean, np.nanmean(observed, axis=0))      # (C,)
            s = np.nan_to_num(np.nanstd(observed, axis=0), nan=0.0)                    # (C,)
        return (filled - m) / np.where(s > 0, s, 1.0)

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean.tolist(), "std": self.std.tolist(), "missing": self.missing,
                "downsample": self.downsample, "normalize": self.normalize}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Preprocessor:
        return cls(np.asarray(raw["mean"], dtype=np.float64), np.asarray(raw["std"], dtype=np.float64),
                   str(raw["missing"]), int(raw["downsample"]), str(raw.get("normalize", "channel")))


def pad(series: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero-padded batch ``(N, T_max, C)`` and lengths ``(N,)``."""
    lengths = torch.tensor([len(s) for s in series], dtype=torch.long)
    out = torch.zeros(len(series), int(lengths.max()), series[0].shape[1])
    for i, s in enumerate(series):
        out[i, : len(s)] = torch.from_numpy(s)
    return out, lengths


def pad_edge(series: list[np.ndarray], length: int) -> np.ndarray:
    """Equal-length array ``(N, C, length)`` for baselines that need one: cut, or repeat the last step."""
    out = np.empty((len(series), series[0].shape[1], length), dtype=np.float64)
    for i, s in enumerate(series):
        s = s[:length]
        out[i, :, : len(s)] = s.T
        out[i, :, len(s):] = s[-1][:, None]
    return out


class SequenceBatches(torch.utils.data.Dataset):
    """Indexable (series, class index) pairs; :func:`collate` pads a batch."""

    def __init__(self, series: list[np.ndarray], targets: np.ndarray | None) -> None:
        self.series, self.targets = series, targets

    def __len__(self) -> int:
        return len(self.series)

    def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
        return self.series[i], -1 if self.targets is None else int(self.targets[i])


def collate(batch: list[tuple[np.ndarray, int]]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    x, lengths = pad([b[0] for b in batch])
    return x, lengths, torch.tensor([b[1] for b in batch], dtype=torch.long)
