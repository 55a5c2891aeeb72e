"""Per-series transforms and per-window scaling.

Per series (fitted on the training values, stored in the saved model):

* ``"log"``:    z = log(y)                      (y > 0 required)
* ``"boxcox"``: z = ((y + s)^lam - 1) / lam      (lam != 0),  z = log(y + s) (lam = 0),
  with shift s = 1 - min(y) when min(y) <= 0 (else 0) and lam the maximum-likelihood
  Box-Cox exponent of the training values, clipped to [-1, 2];
* covariates: standardised, c' = (c - mean_c) / std_c.

Per window (never stored: recomputed from each lookback window):

    level = mean(z_{t-L+1..t}),   scale = max(std(z_{t-L+1..t}), floor)
    z'    = (z - level) / scale

where floor = 1e-3 * std of the series' transformed training values (plus 1e-8), so a
flat window does not divide by zero.  A left-padded window with fewer than 3 observed
steps (a very short series, see `windowing`) takes scale = max(spread, floor), spread
being that std of the series' training values.  The network reads and predicts z'; predictions go
back through z = z' * scale + level and the inverse transform, which is monotone, so
quantiles stay quantiles.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from lstmkit.tasks.forecast.data import ForecastDataError


@dataclass(frozen=True)
class SeriesScaler:
    """Fitted per-series transform parameters (JSON-serialisable via `to_dict`)."""

    kind: str
    lam: float = 1.0
    shift: float = 0.0
    floor: float = 1e-8
    cov_mean: tuple[float, ...] = ()
    cov_std: tuple[float, ...] = ()
    spread: float = 0.0  # std of the transformed training values (scale of very short windows)

    def transform(self, y: np.ndarray) -> np.ndarray:
        """y -> z (see the module docstring)."""
        y = np.asarray(y, dtype=np.float64)
        if self.kind == "none":
            return y.copy()
        if self.kind == "log":
            return np.log(np.maximum(y, 1e-12))
        base = np.maximum(y + self.shift, 1e-12)
        if abs(self.lam) < 1e-8:
            return np.log(base)
        return (np.power(base, self.lam) - 1.0) / self.lam

    def inverse(self, z: np.ndarray) -> np.ndarray:
        """z -> y, the inverse of `transform` (clipped to the transform's range)."""
        z = np.asarray(z, dtype=np.float64)
        if self.kind == "none":
            return z.copy()
        if self.kind == "log":
            return np.exp(np.minimum(z, 700.0))
        if abs(self.lam) < 1e-8:
            return np.exp(np.minimum(z, 700.0)) - self.shift
        inner = np.maximum(self.lam * z + 1.0, 1e-12)
        return np.power(inner, 1.0 / self.lam) - self.shift

    def scale_covariates(self, cov: np.ndarray) -> np.ndarray:
        """Standardise covariates with the training mean and std of this series."""
        if cov.shape[1] == 0:
            return cov
        return (cov - np.asarray(self.cov_mean)) / np.asarray(self.cov_std)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict) -> SeriesScaler:
        raw = dict(raw)
        raw["cov_mean"] = tuple(raw.get("cov_mean", ()))
        raw["cov_std"] = tuple(raw.get("cov_std", ()))
        return cls(**raw)


def fit_scaler(kind: str, y: np.ndarray, covariates: np.ndarray, uid: str = "series") -> SeriesScaler:
    """Fit the per-series transform of `kind` on training values `y` and covariates (T, C)."""
    y = np.asarray(y, dtype=np.float64)
    lam, shift = 1.0, 0.0
    if kind == "log" and np.min(y) <= 0:
        raise ForecastDataError(
            f"series {uid!r}: transform='log' needs positive values, minimum is {np.min(y):g}; "
            "use transform='boxcox' (shifts to positive) or 'none'"
        )
    if kind == "boxcox":
        shift = float(1.0 - np.min(y)) if np.min(y) <= 0 else 0.0
        base = y + shift
        if np.ptp(base) > 0:
            lam = float(np.clip(stats.boxcox_normmax(base, method="mle"), -1.0, 2.0))
    cov_mean = covariates.mean(axis=0) if covariates.shape[1] else np.zeros(0)
    cov_std = covariates.std(axis=0) if covariates.shape[1] else np.zeros(0)
    cov_std = np.where(cov_std > 0, cov_std, 1.0)
    draft = SeriesScaler(kind, lam, shift)
    spread = float(np.std(draft.transform(y)))
    return SeriesScaler(kind, lam, shift, 1e-3 * spread + 1e-8,
                        tuple(float(v) for v in cov_mean), tuple(float(v) for v in cov_std), spread)


def window_stats(z: np.ndarray, floors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-window level and scale of lookback windows z (N, L) with per-window floors (N,).

    Returns (level (N,), scale (N,)) with level = mean_t z, scale = max(std_t z, floor).
    """
    level = z.mean(axis=1)
    scale = np.maximum(z.std(axis=1), floors)
    return level, scale
