"""`Detect`: fit on normal data, score new data, evaluate against labels, save and load.

    det = Detect(DetectConfig(model=DetectModelConfig(detector="prediction"))).fit("normal.csv")
    table = det.predict("test.csv")      # time, value, score, flag [, label]
    det.evaluate("test.csv")             # {"prediction": {...}, "rolling_zscore": {...}}
    result = det.score(values)           # arrays: result.scores, result.flags, result.intervals
    det.save("model/");  Detect.load("model/").score(values)   # identical

`fit`, `predict` and `evaluate` take a table (CSV path or DataFrame, columns named by
the ``data`` section; checked by `anomaly.data.read_series`) or an array (T,) / (T, C)
of values.  `AnomalyDetector` is the former name.

Pipeline: values are standardised with the training mean and standard deviation; with
``level="local"`` (the default) each window is then taken from its own mean (the
network reads and predicts z - m_w, m_w the window's mean), so a series that drifts
past the training range does not raise every error; the network gives a raw per-point error (prediction: |x_t - x_hat_t| standardised by the
training errors; reconstruction: Malhotra's a_t = ((e_t - mu) / sigma)^2 with mu, sigma
of the training reconstruction errors).  When the training series has a dominant period m
and ``normalise="phase"`` (the default), that error is then measured against the
training errors at the same position in the cycle (`cycles.PhaseStats`); with
``aggregate="point"`` (the default) the score is the EWMA of that per-point error
(`threshold.ewma`), and with ``aggregate="cycle"`` every point gets its cycle's mean
(`cycles.cycle_mean`), so flagged intervals are whole cycles.  Without a period both fall back to the
per-point global error.  The flags come from Hundman's dynamic threshold with pruning
(`threshold.dynamic_threshold`).  The first `window` points of a series cannot be
predicted: their raw error is the median of the rest.

Window: the smallest whole number of periods >= 16 (k m, k = ceil(16 / m)), capped at
MAX_WINDOW, or 64 without a period.  The encoder-decoder scores windows aligned on the
cycles (each starts half a period before a cycle's anchor), plus evenly spaced windows
for the points those do not cover.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from numpy.lib.stride_tricks import sliding_window_view
from torch.utils.data import DataLoader, TensorDataset

from lstmkit.tasks.anomaly import cycles
from lstmkit.tasks.anomaly.config import TRAIN_DEFAULTS, DetectConfig, split_legacy
from lstmkit.tasks.anomaly.models import EncDecModule, EncDecNet, PredictorModule, PredictorNet
from lstmkit.tasks.anomaly.threshold import dynamic_threshold, ewma, runs
from lstmkit.tasks.base import Task
from lstmkit.tasks.forecast.data import MAX_ABS_VALUE

TASK = "anomaly"


@dataclass
class ScoreResult:
    """Per-point scores (T,) and flags (T,), and the flagged intervals (start, end, score)."""

    scores: np.ndarray
    flags: np.ndarray
    intervals: list[tuple[int, int, float]]
    threshold: float


MAX_WINDOW = 400            # the automatic window: whole periods >= MIN_WINDOW, at most MAX_WINDOW
MIN_WINDOW = 16
PERIOD_ACF_CLEAR = 0.3     # an autocorrelation peak this high is a period on its own
PERIOD_ACF_CONFIRMED = 0.1  # a lower peak counts when the periodogram agrees
PERIOD_AGREEMENT = 0.1      # relative tolerance between the two estimators


def estimate_period(values: np.ndarray, max_lag: int = 512) -> int | None:
    """The dominant cycle length of a (quasi-)periodic signal, or None.

    Two estimators: (1) the lag P_a of the highest autocorrelation peak after the first
    zero crossing; (2) the period P_s = n / k of the periodogram's largest peak among
    the periods shorter than n / 2 (so at least two cycles are seen).  P_a is kept when
    its autocorrelation is >= 0.3, or when it is >= 0.1 and |P_a - P_s| <= 0.1 P_a
    (quasi-periodic signals such as ECG, whose beats vary in length and shape, have low
    autocorrelation peaks at the true period; the spectral check keeps the lower cut-off
    from accepting noise).
    """
    x = np.asarray(values, dtype=np.float64)
    x = x - x.mean()
    n = len(x)
    if n < 8 or not x.any():
        return None
    spectrum = np.fft.rfft(x, 2 * n)
    acf = np.fft.irfft(spectrum * np.conj(spectrum))[: min(max_lag, n // 2)]
    acf = acf / acf[0]
    negative = np.flatnonzero(acf < 0)
    if not len(negative):
        return None
    start = int(negative[0])
    if start >= len(acf) - 1:
        return None
    lag = start + int(np.argmax(acf[start:]))
    if acf[lag] >= PERIOD_ACF_CLEAR:
        return lag
    if acf[lag] < PERIOD_ACF_CONFIRMED:
        return None
    power = np.abs(np.fft.rfft(x)) ** 2
    k_min = 3                                            # periods <= n / 3: at least 3 cycles
    if len(power) <= k_min:
        return None
    k = k_min + int(np.argmax(power[k_min:]))
    spectral = n / k
    return lag if abs(spectral - lag) <= PERIOD_AGREEMENT * lag else None


def default_window(period: int | None) -> int:
    """The automatic window: k m with k = ceil(16 / m) (whole periods), capped at MAX_WINDOW; 64 without
    a period.

    >>> default_window(12), default_window(20), default_window(301), default_window(None)
    (24, 20, 301, 64)
    """
    if not period:
        return 64
    return int(min(math.ceil(MIN_WINDOW / period) * period, MAX_WINDOW))


def rolling_zscore(values: np.ndarray, window: int = 100) -> np.ndarray:
    """Baseline score |x_t - mean(x_{t-w..t-1})| / std(x_{t-w..t-1}) (0 for the first point)."""
    s = pd.Series(np.asarray(values, dtype=np.float64))
    mean = s.rolling(window, min_periods=2).mean().shift(1)
    std = s.rolling(window, min_periods=2).std().shift(1)
    z = ((s - mean).abs() / std.replace(0.0, np.nan)).fillna(0.0)
    return z.to_numpy()


def _as_2d(values) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"values must be (T,) or (T, C), received shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("values contain NaN or infinite entries (prepare them with anomaly.data.read_series)")
    if (np.abs(x) > MAX_ABS_VALUE).any():
        row, col = np.argwhere(np.abs(x) > MAX_ABS_VALUE)[0]
        raise ValueError(f"values: row {row + 1}, channel {col}: {x[row, col]:g} is too large "
                         f"(magnitude must be <= {MAX_ABS_VALUE:g})")
    return x


class Detect(Task):
    """An LSTM anomaly detector (see the module docstring)."""

    NAME: ClassVar[str] = "detect"
    SAVED_AS: ClassVar[str] = TASK
    CONFIG: ClassVar[type] = DetectConfig
    TRAIN_DEFAULTS: ClassVar[dict[str, Any]] = TRAIN_DEFAULTS
    SUPPORTS_VAL: ClassVar[bool] = True
    OUTPUT: ClassVar[str] = "frame"

    def __init__(self, config: DetectConfig | None = None, train: Any = None) -> None:
        super().__init__(config, train)
        self.net: torch.nn.Module | None = None
        self.window = 0
        self.mean = np.zeros(1)
        self.std = np.ones(1)
        self.err_mu = np.zeros(1)
        self.err_sigma = np.ones(1)
        self.period: int | None = None
        self.phase_stats: cycles.PhaseStats | None = None

    @property
    def is_fitted(self) -> bool:
        return self.net is not None

    def _read(self, data: Any, what: str, min_length: int = 1):
        """(values (T, C), Series or None): arrays pass through, tables go through `read_series`."""
        from lstmkit.tasks.anomaly.data import read_series

        if isinstance(data, np.ndarray) or isinstance(data, (list, tuple)):
            return _as_2d(data), None
        dc = self.config.data
        series = read_series(data, value_col=dc.value_col, time_col=dc.time_col, label_col=dc.label_col,
                             min_length=min_length, what=what)
        return _as_2d(series.values), series

    # ------------------------------------------------------------------ fit
    def _fit(self, train: Any, val: Any) -> None:
        """Train on normal data (a table or values (T,) / (T, C)); `val`: more normal data."""
        mc, dc = self.config.model, self.config.data
        x, series = self._read(train, "training data", min_length=3)
        if series is not None and series.labels is not None and series.labels.any():
            raise ValueError(f"training data: series {series.name!r} has {int(series.labels.sum())} "
                             "point(s) labelled anomalous; fit on normal data only")
        period = estimate_period(x[:, 0])
        self.period = period
        self.phase_stats = None
        self.window = mc.window or default_window(period)
        if len(x) < self.window + 2:
            raise ValueError(
                f"training series has {len(x)} points, fewer than window + 2 = {self.window + 2}"
            )
        self.mean, self.std = x.mean(axis=0), np.where(x.std(axis=0) > 0, x.std(axis=0), 1.0)
        z = (x - self.mean) / self.std
        seed = self.train_config.seed
        torch.manual_seed(seed)
        channels = x.shape[1]
        if mc.detector == "prediction":
            self.net = PredictorNet(channels, mc.hidden_size, mc.num_layers)
            module = PredictorModule(self.net, self.train_config)
        else:
            self.net = EncDecNet(channels, mc.hidden_size, mc.num_layers)
            module = EncDecModule(self.net, self.train_config)
        dataset = self._dataset(z, dc.stride or 1, dc.max_train_windows)
        loader = DataLoader(dataset, batch_size=dc.batch_size, shuffle=True,
                            generator=torch.Generator().manual_seed(seed))
        val_loader = None
        if val is not None:
            xv, _ = self._read(val, "validation data", min_length=self.window + 2)
            if xv.shape[1] != channels:
                raise ValueError(f"validation data has {xv.shape[1]} channel(s), training data {channels}")
            val_loader = DataLoader(self._dataset((xv - self.mean) / self.std, 1, dc.max_train_windows),
                                    batch_size=4096)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*val_dataloader.*")
            warnings.filterwarnings("ignore", message=".*does not have many workers.*")
            self._train_member(module, loader, val_loader)
        self.net = self.net.cpu().eval()
        errors = self._errors(z)                                    # (T, C) absolute errors
        valid = errors[self._first_scored():]
        self.err_mu = valid.mean(axis=0)
        self.err_sigma = np.where(valid.std(axis=0) > 0, valid.std(axis=0), 1.0)
        if mc.normalise == "phase" and self.period:
            first = self._first_scored()
            raw = self._combine(errors)[first:]
            phase, _ = self._phases(z)
            self.phase_stats = cycles.PhaseStats.fit(raw, cycles.phase_bins(phase[first:], self.period),
                                                     min(self.period, cycles.PHASE_BINS))

    def _dataset(self, z: np.ndarray, stride: int, limit: int) -> TensorDataset:
        if self.config.model.detector == "prediction":
            inputs, targets = self._prediction_windows(z, stride)
            keep = _even_subset(len(inputs), limit)
            return TensorDataset(torch.from_numpy(inputs[keep]), torch.from_numpy(targets[keep]))
        inputs = self._windows(z, stride)
        keep = _even_subset(len(inputs), limit)
        return TensorDataset(torch.from_numpy(inputs[keep]))

    def _score_stride(self) -> int:
        return max(1, self.window // 4)

    def _levels(self, windows: np.ndarray) -> np.ndarray:
        """Each window's level (N, 1, C): its mean over the L steps (``level="local"``), else 0."""
        if self.config.model.level == "local":
            return windows.mean(axis=1, keepdims=True)
        return np.zeros((len(windows), 1, windows.shape[2]), dtype=windows.dtype)

    def centre(self, windows: np.ndarray) -> np.ndarray:
        """Windows (N, L, C) of standardised values as the network reads them (minus their level)."""
        return np.ascontiguousarray(windows - self._levels(windows), dtype=np.float32)

    def _windows(self, z: np.ndarray, stride: int) -> np.ndarray:
        win = sliding_window_view(z, self.window, axis=0)[::stride]      # (N, C, L)
        return self.centre(win.transpose(0, 2, 1))                        # (N, L, C)

    def _prediction_windows(self, z: np.ndarray, stride: int) -> tuple[np.ndarray, np.ndarray]:
        raw = sliding_window_view(z[:-1], self.window, axis=0)[::stride].transpose(0, 2, 1)   # (N, L, C)
        levels = self._levels(raw)                                         # (N, 1, C)
        inputs = np.ascontiguousarray(raw - levels, dtype=np.float32)
        targets = (z[self.window:][::stride] - levels[:, 0]).astype(np.float32)   # (N, C)
        return inputs, targets

    def _first_scored(self) -> int:
        return self.window if self.config.model.detector == "prediction" else 0

    @torch.no_grad()
    def _errors(self, z: np.ndarray, batch_size: int = 2048) -> np.ndarray:
        """Absolute per-point errors (T, C) of standardised values z (T, C)."""
        n, channels = z.shape
        errors = np.zeros((n, channels))
        if self.config.model.detector == "prediction":
            inputs, targets = self._prediction_windows(z, 1)
            preds = [self.net(torch.from_numpy(inputs[i:i + batch_size])).numpy()
                     for i in range(0, len(inputs), batch_size)]
            errors[self.window:] = np.abs(np.concatenate(preds) - targets)
            errors[: self.window] = np.median(errors[self.window:], axis=0)
            return errors
        starts = self._score_starts(z)
        windows = self.centre(np.stack([z[s:s + self.window] for s in starts]))  # (N, L, C)
        counts = np.zeros((n, 1))
        for i in range(0, len(windows), batch_size):
            chunk = torch.from_numpy(windows[i:i + batch_size])
            recon = self.net(chunk, teacher_forcing=False).numpy()       # (b, L, C)
            for k, s in enumerate(starts[i:i + batch_size]):
                errors[s:s + self.window] += np.abs(recon[k] - windows[i + k])
                counts[s:s + self.window] += 1
        return errors / np.maximum(counts, 1)

    def _phases(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(phase, cycle) of every point of standardised values z (T, C) (`cycles`)."""
        found = cycles.anchors(z[:, 0], self.period)
        return cycles.phase_and_cycle(len(z), found, self.period)

    def _score_starts(self, z: np.ndarray) -> list[int]:
        """Starts of the reconstruction windows that score z (T, C): with a period, one window
        per cycle starting half a period before its anchor (clipped into the series), then
        the evenly spaced windows (step `_score_stride`) that cover a point still uncovered;
        without one, only the evenly spaced windows (the last one ends at the tail)."""
        n, w = len(z), self.window
        grid = list(range(0, n - w + 1, self._score_stride()))
        if grid[-1] != n - w:
            grid.append(n - w)                                           # cover the tail
        if not self.period:
            return grid
        half = self.period // 2
        aligned = sorted({int(np.clip(a - half, 0, n - w)) for a in cycles.anchors(z[:, 0], self.period)})
        covered = np.zeros(n, dtype=bool)
        for s in aligned:
            covered[s:s + w] = True
        extra = []
        for s in grid:
            if not covered[s:s + w].all():
                extra.append(s)
                covered[s:s + w] = True
        return sorted(set(aligned) | set(extra))

    def _combine(self, errors: np.ndarray) -> np.ndarray:
        """Per-point raw error (T,) from absolute errors (T, C): standardised by the training
        errors; prediction: mean over channels; reconstruction: sum of squares."""
        standard = (errors - self.err_mu) / self.err_sigma
        if self.config.model.detector == "prediction":
            return standard.mean(axis=1)
        return (standard ** 2).sum(axis=1)

    # ------------------------------------------------------------------ score
    def raw_scores(self, values) -> np.ndarray:
        """Unsmoothed per-point anomaly measure (T,) (see the module docstring)."""
        self._check_fitted("score")
        x = _as_2d(values)
        if x.shape[1] != len(self.mean):
            raise ValueError(f"values have {x.shape[1]} channel(s), the model was trained on {len(self.mean)}")
        if len(x) < self.window + 1:
            raise ValueError(f"series has {len(x)} points, fewer than window + 1 = {self.window + 1}")
        z = (x - self.mean) / self.std
        raw = self._combine(self._errors(z))
        if not self.period:
            return raw
        phase, cycle = self._phases(z)
        if self.phase_stats is not None:
            raw = self.phase_stats.normalise(raw, cycles.phase_bins(phase, self.period))
        if self.config.model.aggregate == "cycle":
            return cycles.cycle_mean(raw, cycle)
        return raw

    def score(self, values) -> ScoreResult:
        """Scores, flags and flagged intervals of a series (cycle scores are not smoothed again)."""
        mc = self.config.model
        raw = self.raw_scores(values)
        smoothed = raw if (mc.aggregate == "cycle" and self.period) else ewma(raw, mc.smoothing)
        result = dynamic_threshold(smoothed, min_decrease=mc.min_decrease)
        return ScoreResult(smoothed, result.flags, result.intervals, result.epsilon)

    def predict(self, data: Any) -> pd.DataFrame:
        """One row per point: time, value, score, flag (0/1) and, when the table has them, labels."""
        self._check_fitted("predict")
        dc = self.config.data
        x, series = self._read(data, "data to score", min_length=self.window + 1)
        result = self.score(x)
        index = np.arange(len(x)) if series is None else series.index
        table = pd.DataFrame({dc.time_col: index, dc.value_col: x[:, 0], "score": result.scores,
                              "flag": result.flags.astype(int)})
        if series is not None and series.labels is not None:
            table[dc.label_col] = series.labels
        return table

    def evaluate(self, data: Any, zscore_window: int = 100) -> dict[str, dict[str, float]]:
        """ROC-AUC, PR-AUC, point and event F1 of the detector beside two baselines: the rolling
        z-score and an isolation forest on windows of the detector's length (`baselines`).

        `data`: a table with the label column (both 0s and 1s).
        """
        from lstmkit.tasks.anomaly.metrics import all_metrics

        self._check_fitted("evaluate")
        x, series = self._read(data, "evaluation data", min_length=self.window + 1)
        labels = None if series is None else series.labels
        if labels is None or not 0 < labels.sum() < len(labels):
            raise ValueError(f"evaluation data: needs a {self.config.data.label_col!r} column with both "
                             "normal (0) and anomalous (1) points")
        from lstmkit.tasks.anomaly.baselines import isolation_forest_baseline

        result = self.score(x)
        base = zscore_baseline(x, zscore_window)
        forest = isolation_forest_baseline(x, self.window)
        return {self.config.model.detector: all_metrics(labels, result.scores, result.flags),
                "rolling_zscore": all_metrics(labels, base.scores, base.flags),
                "isolation_forest": all_metrics(labels, forest.scores, forest.flags)}

    # ------------------------------------------------------------------ persistence
    def _state_dict(self) -> dict[str, Any]:
        return self.net.state_dict()

    def _extras(self) -> dict[str, Any]:
        extras = {"window": self.window, "mean": self.mean.tolist(), "std": self.std.tolist(),
                  "err_mu": self.err_mu.tolist(), "err_sigma": self.err_sigma.tolist(), "period": self.period}
        if self.phase_stats is not None:
            extras["phase_median"] = self.phase_stats.median.tolist()
            extras["phase_scale"] = self.phase_stats.scale.tolist()
        return extras

    def _restore(self, saved: Any) -> None:
        extras = saved.extras
        arrays = {k: np.asarray(extras[k], dtype=np.float64) for k in ("mean", "std", "err_mu", "err_sigma")}
        self.window = int(extras["window"])
        _check_statistics(saved.path, self.window, arrays)
        self.mean, self.std = arrays["mean"], arrays["std"]
        self.err_mu, self.err_sigma = arrays["err_mu"], arrays["err_sigma"]
        self.period, self.phase_stats = _restore_phase(saved.path, extras)
        mc = self.config.model
        net_type = PredictorNet if mc.detector == "prediction" else EncDecNet
        self.net = net_type(len(self.mean), mc.hidden_size, mc.num_layers)
        saved.load_into(self.net)
        self.net.eval()

    @classmethod
    def config_from_record(cls, record: Any) -> tuple[Any, Any]:
        """Also reads the flat layout that lstmkit 0.1 saved."""
        legacy = split_legacy(dict(record))
        if legacy is None:
            record = dict(record)
            if isinstance(record.get("model"), dict) and "level" not in record["model"]:
                record["model"] = {**record["model"], "level": "global"}   # saved before the field
            return super().config_from_record(record)
        sections, train = legacy
        sections["model"]["level"] = "global"       # lstmkit 0.1 read the standardised values as they are
        config, _ = super().config_from_record(sections)
        return config, cls.default_train(**train)


AnomalyDetector = Detect  # the former name


def _check_statistics(path, window: int, arrays: dict[str, np.ndarray]) -> None:
    """The saved standardisation statistics must be usable: one finite value per channel,
    ``std`` and ``err_sigma`` > 0 (they divide), the window >= 2."""
    from lstmkit.train import ModelLoadError

    channels = arrays["mean"].shape
    if window < 2:
        raise ModelLoadError(f"'{path}': extras 'window' must be >= 2, found {window}")
    for name, values in arrays.items():
        if values.ndim != 1 or values.shape != channels or not len(values):
            raise ModelLoadError(f"'{path}': extras {name!r} must be a list of one number per channel "
                                 f"({channels[0] if channels else 0}), found shape {values.shape}")
        if not np.isfinite(values).all():
            raise ModelLoadError(f"'{path}': extras {name!r} must hold finite numbers, found {values.tolist()}")
        if name in ("std", "err_sigma") and not (values > 0).all():
            raise ModelLoadError(f"'{path}': extras {name!r} must be > 0 (it divides), "
                                 f"found {values.tolist()}")


def _restore_phase(path, extras: dict[str, Any]) -> tuple[int | None, cycles.PhaseStats | None]:
    """The saved period and phase statistics (absent in models saved before them: no period)."""
    from lstmkit.train import ModelLoadError

    period = extras.get("period")
    if period is None:
        return None, None
    if isinstance(period, bool) or not isinstance(period, int) or period < 2:
        raise ModelLoadError(f"'{path}': extras 'period' must be an integer >= 2 or null, found {period!r}")
    if "phase_median" not in extras:
        return period, None
    median = np.asarray(extras["phase_median"], dtype=np.float64)
    scale = np.asarray(extras.get("phase_scale", []), dtype=np.float64)
    bins = min(period, cycles.PHASE_BINS)
    if median.shape != (bins,) or scale.shape != (bins,) or not np.isfinite(median).all() \
            or not (np.isfinite(scale) & (scale > 0)).all():
        raise ModelLoadError(f"'{path}': extras 'phase_median' / 'phase_scale' must be {bins} finite numbers "
                             "each (scales > 0)")
    return period, cycles.PhaseStats(median, scale)


def _even_subset(n: int, limit: int) -> np.ndarray:
    if n <= limit:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, limit).round().astype(np.int64))


def intervals_frame(intervals: list[tuple[int, int, float]], index=None) -> pd.DataFrame:
    """Flagged intervals as a DataFrame: start, end (timestamps or positions), indices, length, score."""
    index = np.arange(max((b for _, b, _ in intervals), default=-1) + 1) if index is None else np.asarray(index)
    rows = [{"start": index[a], "end": index[b], "start_index": a, "end_index": b,
             "n_points": b - a + 1, "score": s} for a, b, s in intervals]
    return pd.DataFrame(rows, columns=["start", "end", "start_index", "end_index", "n_points", "score"])


def zscore_baseline(values, window: int = 100, threshold: float = 3.0) -> ScoreResult:
    """The rolling z-score baseline: score `rolling_zscore`, flags where score >= `threshold`."""
    x = _as_2d(values)[:, 0]
    scores = rolling_zscore(x, window)
    flags = scores >= threshold
    intervals = [(a, b, float(scores[a:b + 1].max())) for a, b in runs(flags)]
    return ScoreResult(scores, flags, intervals, threshold)
