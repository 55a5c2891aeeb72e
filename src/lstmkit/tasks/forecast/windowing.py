"""Cutting series into (lookback, horizon) windows for a direct multi-step model.

For a series of transformed values z_1..z_T, known features k_t (Fourier terms and
known-future covariates) and past covariates p_t, the window ending at origin t is

    encoder input   x_s = [ (z_s - level) / scale, k_s, p_s ],  s = t-L+1 .. t     (L, 1+Fk+Fp)
    decoder input   k_{t+1} .. k_{t+H}                                          (H, Fk)
    target          (z_{t+1..t+H} - level) / scale                              (H,)

with level and scale from the lookback values only (`scaling.window_stats`), so the
target never leaks into the scaling.  Shapes: N windows, L lookback, H horizon.

Series of any length (issue 11): a series with fewer than L + H points, which has
no full window, gives *left-padded* windows: the first L - c encoder rows are zeros
and ``length`` = c (1 <= c <= L) tells the network how many rows are real (the LSTM
gets ``lengths``); its windows slide over every origin t with c >= 1 and a whole
observed horizon.  A longer series gives only full windows (padded ones would
outnumber and distort its real windows).  A series with no such origin (T <= H) also
gives its windows with a partly observed horizon, the unobserved target steps
masked out of the loss (``mask`` = 0, their decoder features zero).  Windows with
c < `SHORT_CONTEXT` observed steps take the scale of the series' whole training part
(``spreads``) instead of their own standard deviation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from lstmkit.tasks.forecast.scaling import window_stats

SHORT_CONTEXT = 3  # below this many observed lookback steps a window borrows its series' scale


def fourier_terms(t: np.ndarray, periods: tuple[float, ...], order: int) -> np.ndarray:
    """Fourier features [sin(2 pi k t / P), cos(2 pi k t / P)] for k = 1..order, per period.

    >>> fourier_terms(np.array([0.0, 3.0]), (12.0,), 1).round(3).tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """
    t = np.asarray(t, dtype=np.float64)
    cols = []
    for period in periods:
        for k in range(1, order + 1):
            angle = 2.0 * np.pi * k * t / period
            cols += [np.sin(angle), np.cos(angle)]
    if not cols:
        return np.zeros((len(t), 0))
    return np.stack(cols, axis=1)


@dataclass
class Windows:
    """A batch of windows as float32 arrays (see the module docstring for the layout)."""

    enc: np.ndarray      # (N, L, 1 + Fk + Fp)
    dec: np.ndarray      # (N, H, Fk)
    target: np.ndarray   # (N, H), scaled; zeros (unused) at inference
    level: np.ndarray    # (N,)
    scale: np.ndarray    # (N,)
    series: np.ndarray   # (N,) int index of the series
    origin: np.ndarray   # (N,) int position of the last lookback step in its series
    length: np.ndarray | None = None  # (N,) observed lookback steps c (<= L); None: all L
    mask: np.ndarray | None = None    # (N, H) 1 where the target is observed; None: all

    def __len__(self) -> int:
        return len(self.series)


def _encoder_block(z_win: np.ndarray, level: np.ndarray, scale: np.ndarray,
                   known_win: np.ndarray, past_win: np.ndarray) -> np.ndarray:
    scaled = (z_win - level[:, None]) / scale[:, None]          # (N, L); NaN where padded
    block = np.concatenate([scaled[:, :, None], known_win, past_win], axis=2)  # (N, L, 1+Fk+Fp)
    return np.nan_to_num(block, nan=0.0)


def _stats(z_win: np.ndarray, length: np.ndarray, floor: float, spread: float) -> tuple[np.ndarray, np.ndarray]:
    """Level and scale of left-padded lookback windows (N, L) with NaN padding."""
    n = len(z_win)
    if np.all(length == z_win.shape[1]):
        return window_stats(z_win, np.full(n, floor))
    level = np.nanmean(z_win, axis=1)
    scale = np.maximum(np.nanstd(z_win, axis=1), floor)
    short = length < SHORT_CONTEXT
    scale[short] = max(spread, floor)
    return level, scale


def _pad(a: np.ndarray, before: int, after: int) -> np.ndarray:
    """NaN (values) / zero (feature rows) padding along the first axis."""
    fill = np.nan if a.ndim == 1 else 0.0
    widths = [(before, after)] + [(0, 0)] * (a.ndim - 1)
    return np.pad(a.astype(np.float64), widths, constant_values=fill)


def training_windows(z: list[np.ndarray], known: list[np.ndarray], past: list[np.ndarray],
                     floors: np.ndarray, lookback: int, horizon: int,
                     limits: list[int] | None = None, spreads: np.ndarray | None = None) -> Windows:
    """All windows whose observed lookback and horizon lie in z[i][:limits[i]] (default: whole series).

    Args:
        z: per series, transformed values (T_i,).
        known: per series, (T_i, Fk) known features; past: per series, (T_i, Fp).
        floors: per series scale floor (see `scaling`).
        spreads: per series std of the transformed training values, the scale of
            windows with fewer than `SHORT_CONTEXT` observed steps (default: floors).
    """
    spreads = floors if spreads is None else spreads
    parts = []
    L, H = lookback, horizon
    for i, zi in enumerate(z):
        end = len(zi) if limits is None else min(limits[i], len(zi))
        if end < 2:
            continue
        partial = end <= H                                # no origin with a whole observed horizon
        tail = H - 1 if partial else 0
        skip = L - 1 if end >= L + H else 0                 # long series: full windows only
        zp = _pad(zi[:end], L - 1, tail)                                      # (end + L - 1 + tail,)
        n = len(zp) - (L + H) + 1 - skip
        span = sliding_window_view(zp, L + H)[skip:skip + n]                  # (n, L+H)
        origin = np.arange(n) + skip                                          # t: last lookback step
        length = np.minimum(origin + 1, L)
        z_win, y_win = span[:, :L], span[:, L:]
        level, scale = _stats(z_win, length, float(floors[i]), float(spreads[i]))
        kn = sliding_window_view(_pad(known[i][:end], L - 1, tail), L + H, axis=0)[skip:skip + n]
        kn = kn.transpose(0, 2, 1)
        pa = sliding_window_view(_pad(past[i][:end], L - 1, 0), L, axis=0)[skip:skip + n].transpose(0, 2, 1)
        mask = np.isfinite(y_win)
        parts.append(Windows(
            enc=_encoder_block(z_win, level, scale, kn[:, :L], pa),
            dec=kn[:, L:],
            target=np.nan_to_num((y_win - level[:, None]) / scale[:, None], nan=0.0),
            level=level, scale=scale,
            series=np.full(n, i), origin=origin, length=length,
            mask=mask.astype(np.float32),
        ))
    if not parts:
        raise ValueError("no training window fits: every series has fewer than 2 observed steps")
    return _concat(parts)


def inference_windows(z: list[np.ndarray], known: list[np.ndarray], past: list[np.ndarray],
                      future_known: list[np.ndarray], floors: np.ndarray, lookback: int,
                      spreads: np.ndarray | None = None) -> Windows:
    """One window per series: its last `lookback` steps (left-padded when shorter), and the
    horizon's known features.

    Args:
        future_known: per series, (H, Fk) known features of the H steps to predict.
        spreads: as in `training_windows`.
    """
    spreads = floors if spreads is None else spreads
    enc, dec, level, scale, length = [], [], [], [], []
    L = lookback
    for i, zi in enumerate(z):
        c = min(len(zi), L)
        z_win = _pad(zi[-c:], L - c, 0)[None, :]                               # (1, L)
        lv, sc = _stats(z_win, np.array([c]), float(floors[i]), float(spreads[i]))
        kn = _pad(known[i][-c:], L - c, 0)[None]
        pa = _pad(past[i][-c:], L - c, 0)[None]
        enc.append(_encoder_block(z_win, lv, sc, kn, pa))
        dec.append(future_known[i][None])
        level.append(lv)
        scale.append(sc)
        length.append(c)
    n = len(z)
    horizon = dec[0].shape[1] if dec else 0
    return Windows(
        enc=np.concatenate(enc).astype(np.float32), dec=np.concatenate(dec).astype(np.float32),
        target=np.zeros((n, horizon), np.float32), level=np.concatenate(level),
        scale=np.concatenate(scale), series=np.arange(n),
        origin=np.array([len(zi) - 1 for zi in z]), length=np.array(length),
        mask=np.ones((n, horizon), np.float32),
    )


def _concat(parts: list[Windows]) -> Windows:
    return Windows(
        enc=np.concatenate([p.enc for p in parts]).astype(np.float32),
        dec=np.concatenate([p.dec for p in parts]).astype(np.float32),
        target=np.concatenate([p.target for p in parts]).astype(np.float32),
        level=np.concatenate([p.level for p in parts]),
        scale=np.concatenate([p.scale for p in parts]),
        series=np.concatenate([p.series for p in parts]),
        origin=np.concatenate([p.origin for p in parts]),
        length=np.concatenate([p.length for p in parts]),
        mask=np.concatenate([p.mask for p in parts]).astype(np.float32),
    )
