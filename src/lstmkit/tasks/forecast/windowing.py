"""Cutting series into (lookback, horizon) windows for a direct multi-step model.

For a series of transformed values z_1..z_T, known features k_t (Fourier terms and
known-future covariates) and past covariates p_t, the window ending at origin t is

    encoder input   x_s = [ (z_s - level) / scale, k_s, p_s ],  s = t-L+1 .. t     (L, 1+Fk+Fp)
    decoder input   k_{t+1} .. k_{t+H}                                          (H, Fk)
    target          (z_{t+1..t+H} - level) / scale                              (H,)

with level and scale from the lookback values only (`scaling.window_stats`), so the
target never leaks into the scaling.  Training windows slide with stride 1 over every
origin whose whole horizon is observed.  Shapes: N windows, L lookback, H horizon.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from lstmkit.tasks.forecast.scaling import window_stats


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

    def __len__(self) -> int:
        return len(self.series)


def _encoder_block(z_win: np.ndarray, level: np.ndarray, scale: np.ndarray,
                   known_win: np.ndarray, past_win: np.ndarray) -> np.ndarray:
    scaled = (z_win - level[:, None]) / scale[:, None]          # (N, L)
    return np.concatenate([scaled[:, :, None], known_win, past_win], axis=2)  # (N, L, 1+Fk+Fp)


def training_windows(z: list[np.ndarray], known: list[np.ndarray], past: list[np.ndarray],
                     floors: np.ndarray, lookback: int, horizon: int,
                     limits: list[int] | None = None) -> Windows:
    """All windows whose lookback and horizon lie in z[i][:limits[i]] (default: whole series).

    Args:
        z: per series, transformed values (T_i,).
        known: per series, (T_i, Fk) known features; past: per series, (T_i, Fp).
        floors: per series scale floor (see `scaling`).
    """
    parts = []
    for i, zi in enumerate(z):
        end = len(zi) if limits is None else min(limits[i], len(zi))
        n = end - lookback - horizon + 1
        if n <= 0:
            continue
        span = sliding_window_view(zi[:end], lookback + horizon)[:n]          # (n, L+H)
        z_win, y_win = span[:, :lookback], span[:, lookback:]
        level, scale = window_stats(z_win, np.full(n, floors[i]))
        kn = sliding_window_view(known[i][:end], lookback + horizon, axis=0)[:n]  # (n, Fk, L+H)
        kn = kn.transpose(0, 2, 1)                                             # (n, L+H, Fk)
        pa = sliding_window_view(past[i][:end], lookback, axis=0)[:n].transpose(0, 2, 1)  # (n, L, Fp)
        parts.append(Windows(
            enc=_encoder_block(z_win, level, scale, kn[:, :lookback], pa),
            dec=kn[:, lookback:],
            target=(y_win - level[:, None]) / scale[:, None],
            level=level, scale=scale,
            series=np.full(n, i), origin=np.arange(n) + lookback - 1,
        ))
    if not parts:
        raise ValueError(
            f"no training window fits: every series is shorter than lookback + horizon = {lookback + horizon}"
        )
    return _concat(parts)


def inference_windows(z: list[np.ndarray], known: list[np.ndarray], past: list[np.ndarray],
                      future_known: list[np.ndarray], floors: np.ndarray, lookback: int) -> Windows:
    """One window per series: the last `lookback` steps, and the horizon's known features.

    Args:
        future_known: per series, (H, Fk) known features of the H steps to predict.
    """
    enc, dec, level, scale = [], [], [], []
    for i, zi in enumerate(z):
        z_win = zi[-lookback:][None, :]                                        # (1, L)
        lv, sc = window_stats(z_win, np.array([floors[i]]))
        enc.append(_encoder_block(z_win, lv, sc, known[i][-lookback:][None], past[i][-lookback:][None]))
        dec.append(future_known[i][None])
        level.append(lv)
        scale.append(sc)
    n = len(z)
    horizon = dec[0].shape[1] if dec else 0
    return Windows(
        enc=np.concatenate(enc).astype(np.float32), dec=np.concatenate(dec).astype(np.float32),
        target=np.zeros((n, horizon), np.float32), level=np.concatenate(level),
        scale=np.concatenate(scale), series=np.arange(n),
        origin=np.array([len(zi) - 1 for zi in z]),
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
    )
