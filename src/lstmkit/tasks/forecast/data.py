"""Reading and checking long-format time-series tables.

A table has one row per (series, timestamp): ``unique_id, ds, y`` plus optional
covariate columns.  A single series (a pandas Series, a 1-D array, or a frame
without an id column) is accepted and named ``"series_0"``.

`prepare_panel` turns a table into a `Panel` of per-series numpy arrays after
checking, with one-line messages that name the series and the problem:

* missing columns, non-numeric values, duplicate timestamps,
* unparseable dates, timestamps off a regular grid (irregular sampling),
* series shorter than the model needs, an empty table,
* non-finite or overflowing values: ``inf``, or a magnitude above
  `MAX_ABS_VALUE` (1e30, far inside float32's 3.4e38, so casts, window sums and
  scaler statistics cannot overflow) in a target or covariate cell; the message
  names the file, the series and the data row (1-based, header not counted),
* a time column of non-integer numbers, and a regular grid too large for memory
  (more than `MAX_GRID_STEPS` steps per series, e.g. integer times 0, 1, 2, 1e12),
  refused before anything is allocated.

Documented handling: missing values (NaN cells, or grid timestamps absent from
the table) are filled by linear interpolation in time (edges by the nearest
value) with a `UserWarning` naming the series and the count.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lstmkit.tasks.forecast.config import DataConfig

DEFAULT_ID = "series_0"
DEFAULT_DATA = DataConfig()
MAX_ABS_VALUE = 1e30
MAX_GRID_STEPS = 50_000_000


class ForecastDataError(ValueError):
    """Bad forecasting input; the message names the series and the problem."""


@dataclass
class Panel:
    """Checked series as arrays, in the order of first appearance.

    Attributes:
        ids: series names.
        ds: per series, the timestamps (a DatetimeIndex or an int64 array).
        t: per series, float time in steps since a fixed origin (for Fourier terms).
        y: per series, float64 target values (T,).
        past: per series, (T, P) past covariates.
        future: per series, (T, F) known-future covariates.
        freq: the pandas frequency string, or None for integer timestamps.
        int_step: the step between integer timestamps (1 for datetimes).
    """

    ids: list[str]
    ds: list[Any]
    t: list[np.ndarray]
    y: list[np.ndarray]
    past: list[np.ndarray]
    future: list[np.ndarray]
    freq: str | None
    int_step: int = 1

    def __len__(self) -> int:
        return len(self.ids)


def read_table(source: Any, config: DataConfig = DEFAULT_DATA, *, what: str = "data") -> pd.DataFrame:
    """Return a long-format DataFrame from a CSV path, a DataFrame, a Series or a 1-D array.

    A Series or array is one series named ``series_0`` (its index becomes ``ds``
    when it is a DatetimeIndex, else ``0..T-1``).  A frame without the id column is
    one series.  An empty file or table raises `ForecastDataError`.
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise ForecastDataError(f"{what}: file {str(path)!r} does not exist")
        if path.stat().st_size == 0:
            raise ForecastDataError(f"{what}: file {str(path)!r} is empty")
        if path.is_dir():
            raise ForecastDataError(f"{what}: {str(path)!r} is a directory, expected a CSV file")
        from lstmkit.text._io import read_text  # utf-8 errors name the file and line

        try:
            text = read_text(path).replace("\r\n", "\n")
        except ValueError as err:
            raise ForecastDataError(f"{what}: {err}") from None
        try:  # rows end at \n only; ids stay strings as written ("01" is not "1"); numbers exact
            frame = pd.read_csv(io.StringIO(text), dtype={config.id_col: str}, float_precision="round_trip",
                                lineterminator="\n")
        except pd.errors.EmptyDataError:
            raise ForecastDataError(f"{what}: file {str(path)!r} is empty (no columns)") from None
        except pd.errors.ParserError as err:
            first = str(err).splitlines()[0]
            raise ForecastDataError(f"{what}: file {str(path)!r} is not a valid CSV: {first}") from None
    elif isinstance(source, pd.DataFrame):
        frame = source.copy()
    elif isinstance(source, pd.Series):
        index = source.index
        ds = index if isinstance(index, pd.DatetimeIndex) else np.arange(len(source))
        frame = pd.DataFrame({config.time_col: ds, config.target_col: source.to_numpy()})
    elif isinstance(source, (np.ndarray, list, tuple)):
        values = np.asarray(source)
        if values.ndim != 1:
            raise ForecastDataError(f"{what}: a bare array must be 1-D, received shape {values.shape}")
        frame = pd.DataFrame({config.time_col: np.arange(len(values)), config.target_col: values})
    else:
        raise TypeError(
            f"{what}: expected a CSV path, DataFrame, Series or 1-D array, received {type(source).__name__}"
        )
    if frame.empty:
        raise ForecastDataError(f"{what}: the table is empty (no rows)")
    if config.id_col not in frame.columns:
        frame.insert(0, config.id_col, DEFAULT_ID)
    missing = frame[config.id_col].isna().to_numpy()
    if missing.any():
        where = f"{what} (file {str(source)!r})" if isinstance(source, (str, Path)) else what
        raise ForecastDataError(f"{where}: row {int(np.flatnonzero(missing)[0]) + 1}: empty series id "
                                f"in column {config.id_col!r}")
    frame[config.id_col] = frame[config.id_col].astype(str)
    if isinstance(source, (str, Path)):
        frame.attrs["source"] = str(source)
    return frame


def _where(frame: pd.DataFrame, what: str) -> str:
    source = frame.attrs.get("source")
    return f"{what} (file {source!r})" if source else what


def check_finite(values: np.ndarray, ids: np.ndarray, column: str, where: str,
                 raw: pd.Series | None = None) -> None:
    """Raise `ForecastDataError` at the first cell that is +-inf or has |x| > `MAX_ABS_VALUE`.

    NaN is a missing value (interpolated) and passes. The message names the series,
    the data row (1-based) and the value as written (``raw``, when given).
    """
    with np.errstate(invalid="ignore"):
        bad = np.isinf(values) | (np.abs(values) > MAX_ABS_VALUE)
    if bad.any():
        first, uid, count = _first_bad(bad, ids)
        shown = raw.iloc[first] if raw is not None else values[first]
        shown = shown if isinstance(shown, str) else f"{float(shown):g}"
        raise ForecastDataError(
            f"{where}: series {uid!r}, row {first + 1}: column {column!r} value {shown} is "
            f"{'not finite' if np.isinf(values[first]) else 'too large'} (values must be finite with "
            f"magnitude <= {MAX_ABS_VALUE:g}; {count} such cell(s) in this series)"
        )


def check_columns(frame: pd.DataFrame, columns: list[str], *, what: str = "data") -> None:
    """Raise `ForecastDataError` listing the columns of `columns` that `frame` lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ForecastDataError(
            f"{what}: missing column(s) {missing}; found columns {list(frame.columns)}"
        )


def _first_bad(mask: np.ndarray, ids: np.ndarray) -> tuple[int, str, int]:
    """Position of the first True in `mask`, its series id, and how many Trues that series has."""
    first = int(np.flatnonzero(mask)[0])
    uid = ids[first]
    return first, str(uid), int((mask & (ids == uid)).sum())


def _numeric(values: pd.Series, ids: np.ndarray, column: str, what: str) -> np.ndarray:
    """Convert a whole column to float64; a non-numeric, infinite or overflowing cell raises
    naming its series, row and value."""
    converted = pd.to_numeric(values, errors="coerce")
    bad = (converted.isna() & values.notna()).to_numpy()
    if bad.any():
        first, uid, count = _first_bad(bad, ids)
        raise ForecastDataError(
            f"{what}: series {uid!r}, row {first + 1}: column {column!r} has non-numeric value "
            f"{values.iloc[first]!r} ({count} such cell(s))"
        )
    out = converted.to_numpy(dtype=np.float64)
    check_finite(out, ids, column, what, values)
    return out


def _parse_times(values: pd.Series, ids: np.ndarray, column: str, what: str) -> np.ndarray:
    """Integer steps stay int64; anything else must parse as dates (datetime64[ns])."""
    if pd.api.types.is_bool_dtype(values):
        raise ForecastDataError(f"{what}: column {column!r} holds true/false, expected dates or integer steps")
    if pd.api.types.is_integer_dtype(values):
        return values.to_numpy(dtype=np.int64)
    if pd.api.types.is_float_dtype(values):  # numbers are steps, never nanoseconds since 1970
        x = values.to_numpy(dtype=np.float64)
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(x) | (x != np.round(x)) | (np.abs(x) >= 2.0 ** 53)
        if bad.any():
            first, uid, count = _first_bad(bad, ids)
            raise ForecastDataError(
                f"{what}: series {uid!r}, row {first + 1}: column {column!r} has time {x[first]:g}; "
                f"numeric times must be whole numbers below 2**53 (integer steps) ({count} such cell(s))"
            )
        return x.astype(np.int64)
    if pd.api.types.is_datetime64_any_dtype(values):
        return np.asarray(values, dtype="datetime64[ns]")
    parsed = pd.to_datetime(values, errors="coerce", format="mixed")
    bad = parsed.isna().to_numpy()
    if bad.any():
        first, uid, count = _first_bad(bad, ids)
        raise ForecastDataError(
            f"{what}: series {uid!r}: column {column!r} has unparseable date {values.iloc[first]!r} "
            f"({count} such cell(s))"
        )
    return np.asarray(parsed, dtype="datetime64[ns]")


_MONTHLY = {"M": 1, "MS": 1, "ME": 1, "Q": 3, "QS": 3, "QE": 3, "Y": 12, "YS": 12, "YE": 12, "A": 12, "AS": 12}


def time_in_steps(ds: pd.DatetimeIndex, freq: str) -> np.ndarray:
    """Float time t (in steps of `freq`) since 1970-01-01, for Fourier terms.

    Month-based frequencies count calendar months (t = (12*year + month - 1) / k
    for a k-month step); fixed-length ones divide elapsed time by the step length.
    """
    offset = pd.tseries.frequencies.to_offset(freq)
    base = offset.name.split("-")[0]
    months = _MONTHLY.get(base)
    if months is not None:
        return ((ds.year * 12 + ds.month - 1) / (months * offset.n)).to_numpy(dtype=np.float64)
    if base == "W":
        step = pd.Timedelta(days=7 * offset.n)
    else:
        try:
            step = pd.Timedelta(offset)
        except ValueError:
            step = pd.Timedelta(days=offset.n)
    elapsed = (ds - pd.Timestamp("1970-01-01")) / step
    return np.asarray(elapsed, dtype=np.float64)


def _infer_freq(ds: pd.DatetimeIndex) -> str | None:
    if len(ds) < 3:
        return None
    try:
        return pd.infer_freq(ds)
    except (TypeError, ValueError):
        return None


def _interpolate(values: np.ndarray, uid: str, column: str, what: str,
                 already_reported: np.ndarray | None = None) -> np.ndarray:
    """Linear interpolation over NaNs (edges: nearest value), with a warning.

    NaNs at positions in `already_reported` (grid gaps, warned about once) are filled
    without a second warning.
    """
    nan = np.isnan(values)
    if not nan.any():
        return values
    if nan.all():
        raise ForecastDataError(f"{what}: series {uid!r}: column {column!r} has no values (all NaN)")
    idx = np.arange(len(values))
    filled = values.copy()
    filled[nan] = np.interp(idx[nan], idx[~nan], values[~nan])
    fresh = nan if already_reported is None else nan & ~already_reported
    if not fresh.any():
        return filled
    warnings.warn(
        f"{what}: series {uid!r}: {int(fresh.sum())} missing value(s) in column {column!r} "
        "filled by linear interpolation",
        UserWarning,
        stacklevel=3,
    )
    return filled


def prepare_panel(
    source: Any,
    config: DataConfig = DEFAULT_DATA,
    *,
    min_length: int = 1,
    require_target: bool = True,
    freq: str | None = None,
    integer_time: bool | None = None,
    what: str = "data",
) -> Panel:
    """Read, check and regularise a long-format table into a `Panel`.

    Args:
        source: CSV path, DataFrame, Series or 1-D array (see `read_table`).
        config: column names and covariates.
        min_length: every series must have at least this many steps (after
            filling grid gaps), e.g. lookback + horizon for training.
        require_target: False for tables of future covariates only.
        freq: the frequency to enforce (e.g. the one a model was trained with);
            overrides ``config.freq``; None infers it.
        integer_time: True: the time column must hold integer steps, False: dates
            (what a model was trained on); None accepts either.
    """
    frame = read_table(source, config, what=what)
    what = _where(frame, what)
    value_cols = list(config.past_covariates) + list(config.future_covariates)
    if require_target:
        value_cols = [config.target_col] + value_cols
    else:
        value_cols = list(config.future_covariates)
    check_columns(frame, [config.time_col] + value_cols, what=what)
    freq = freq or config.freq
    ids_all = frame[config.id_col].to_numpy()
    codes, uniques = pd.factorize(ids_all)                     # series in order of appearance
    numeric = {col: _numeric(frame[col], ids_all, col, what) for col in value_cols}
    times = _parse_times(frame[config.time_col], ids_all, config.time_col, what)
    is_int = times.dtype.kind == "i"
    if integer_time is not None and is_int != integer_time:
        trained, given = ("integer steps", "dates") if integer_time else ("dates", "integer steps")
        raise ForecastDataError(
            f"{what}: column {config.time_col!r} holds {given}, but the model was trained on {trained}"
            + (f" (frequency {freq!r})" if freq and not integer_time else "")
        )
    key = times.astype(np.int64)                               # int steps, or ns since 1970
    order = np.lexsort((key, codes))                           # by series, then time
    s_codes, s_key = codes[order], key[order]
    same = np.diff(s_codes) == 0
    dup = same & (np.diff(s_key) == 0)
    if dup.any():
        first = int(np.flatnonzero(dup)[0]) + 1
        code = s_codes[first]
        stamp = s_key[first] if is_int else pd.Timestamp(s_key[first])
        raise ForecastDataError(
            f"{what}: series {str(uniques[code])!r}: duplicate timestamp {stamp!s} "
            f"({int((dup & (s_codes[1:] == code)).sum())} duplicate row(s))"
        )
    bounds = np.flatnonzero(~same) + 1
    starts, ends = np.concatenate([[0], bounds]), np.concatenate([bounds, [len(order)]])
    int_step = 1
    if is_int:
        steps = np.diff(s_key)[same]
        int_step = int(steps.min()) if len(steps) else 1
    elif freq is None:
        for a, b in zip(starts, ends):
            freq = _infer_freq(pd.DatetimeIndex(s_key[a:b].astype("datetime64[ns]")))
            if freq is not None:
                break
        if freq is None:
            raise ForecastDataError(
                f"{what}: series {str(uniques[s_codes[0]])!r}: irregular timestamps, no regular frequency "
                "could be inferred; pass freq= (e.g. 'MS', 'W-SAT', 'D')"
            )
    grids: dict[tuple[int, int], tuple[Any, np.ndarray, np.ndarray]] = {}
    ids, ds_list, t_list, y_list, past_list, fut_list = [], [], [], [], [], []
    for a, b in zip(starts, ends):
        uid = str(uniques[s_codes[a]])
        stamps = s_key[a:b]
        span = (int(stamps[0]), int(stamps[-1]))
        if span not in grids:                                  # series often share their dates
            _check_grid_size(span, is_int, int_step, freq, len(value_cols), uid, what)
            if is_int:
                grid_key = np.arange(span[0], span[1] + 1, int_step)
                grids[span] = (grid_key, grid_key, grid_key.astype(np.float64) / int_step)
            else:
                grid = pd.date_range(pd.Timestamp(span[0]), pd.Timestamp(span[1]), freq=freq).as_unit("ns")
                grids[span] = (grid, grid.asi8, time_in_steps(grid, freq))
        index, grid_key, t = grids[span]
        pos = np.searchsorted(grid_key, stamps)
        on_grid = (pos < len(grid_key)) & (grid_key[np.minimum(pos, len(grid_key) - 1)] == stamps)
        if not len(grid_key) or grid_key[0] != stamps[0] or not on_grid.all():
            if is_int:
                raise ForecastDataError(
                    f"{what}: series {uid!r}: irregular integer timestamps (not multiples of step {int_step})"
                )
            example = pd.Timestamp(stamps[np.flatnonzero(~on_grid)[0]] if (~on_grid).any() else stamps[0])
            raise ForecastDataError(
                f"{what}: series {uid!r}: irregular timestamps: {example!s} is not on the "
                f"regular {freq!r} grid"
            )
        if len(grid_key) < min_length:
            raise ForecastDataError(
                f"{what}: series {uid!r} has {len(grid_key)} step(s), fewer than the {min_length} "
                "needed (lookback + horizon for training, lookback for prediction)"
            )
        gaps = np.ones(len(grid_key), dtype=bool)
        gaps[pos] = False
        if gaps.any():
            warnings.warn(
                f"{what}: series {uid!r}: {int(gaps.sum())} timestamp(s) missing from the regular grid; "
                "their values are interpolated",
                UserWarning,
                stacklevel=2,
            )
        rows = order[a:b]
        columns = {}
        for col in value_cols:
            full = np.full(len(grid_key), np.nan)
            full[pos] = numeric[col][rows]
            columns[col] = _interpolate(full, uid, col, what, gaps)
        ids.append(uid)
        ds_list.append(index)
        t_list.append(t)
        y_list.append(columns.get(config.target_col, np.zeros(len(grid_key))))
        past_list.append(np.stack([columns[c] for c in config.past_covariates], axis=1)
                         if config.past_covariates and require_target else np.zeros((len(grid_key), 0)))
        fut_list.append(np.stack([columns[c] for c in config.future_covariates], axis=1)
                        if config.future_covariates else np.zeros((len(grid_key), 0)))
    return Panel(ids, ds_list, t_list, y_list, past_list, fut_list, None if is_int else freq, int_step)


MIN_POINTS = 2  # a series needs two observed points to be forecast at all
SHOWN = 5       # series names quoted in a skip warning


def drop_short(panel: Panel, need: int = MIN_POINTS, *, strict: bool = False, what: str = "data",
               why: str = "too short to forecast") -> Panel:
    """`panel` without the series that have fewer than `need` steps.

    The dropped series are named (the first `SHOWN`) in one UserWarning that counts
    them; with ``strict=True`` they raise `ForecastDataError` instead.  Raises too
    when no series is left.
    """
    short = [i for i, y in enumerate(panel.y) if len(y) < need]
    if not short:
        return panel
    names = ", ".join(repr(panel.ids[i]) for i in short[:SHOWN]) + (" ..." if len(short) > SHOWN else "")
    message = (f"{what}: {len(short)} of {len(panel)} series have fewer than {need} step(s), {why}: "
               f"{names}")
    if strict or len(short) == len(panel):
        raise ForecastDataError(message + ("" if len(short) == len(panel) else " (strict: refused)"))
    warnings.warn(message + "; skipped", UserWarning, stacklevel=3)
    keep = [i for i in range(len(panel)) if i not in set(short)]
    return Panel([panel.ids[i] for i in keep], [panel.ds[i] for i in keep], [panel.t[i] for i in keep],
                 [panel.y[i] for i in keep], [panel.past[i] for i in keep], [panel.future[i] for i in keep],
                 panel.freq, panel.int_step)


def _check_grid_size(span: tuple[int, int], is_int: bool, int_step: int, freq: str | None,
                     n_columns: int, uid: str, what: str) -> None:
    """Refuse a regular grid of more than `MAX_GRID_STEPS` steps before allocating it.

    For dates the count is bounded below with the shortest length a step of `freq`
    can have (28 days a month, 365 a year), so the check never allocates either.
    """
    if is_int:
        steps = (span[1] - span[0]) // int_step + 1
        first, last, unit = span[0], span[1], f"step {int_step}"
    else:
        offset = pd.tseries.frequencies.to_offset(freq)
        base = offset.name.split("-")[0]
        days = {"W": 7}.get(base) or (28 * _MONTHLY[base] if base in _MONTHLY else None)
        try:
            step_ns = days * 86_400 * 10**9 if days else pd.Timedelta(offset).value
        except ValueError:
            step_ns = 86_400 * 10**9
        step_ns = max(1, step_ns * (offset.n if days else 1))
        steps = (span[1] - span[0]) // step_ns + 1
        first, last, unit = pd.Timestamp(span[0]), pd.Timestamp(span[1]), f"frequency {freq!r}"
    if steps > MAX_GRID_STEPS:
        gib = steps * 8 * (n_columns + 3) / 2**30
        raise ForecastDataError(
            f"{what}: series {uid!r}: timestamps from {first} to {last} ({unit}) span a regular grid of "
            f"{steps:,} steps (about {gib:,.0f} GiB), more than the {MAX_GRID_STEPS:,} allowed; "
            "check the time column"
        )


def future_index(last: Any, steps: int, freq: str | None, int_step: int) -> Any:
    """The `steps` timestamps after `last` on the series' grid."""
    if freq is None:
        return np.asarray(last) + int_step * np.arange(1, steps + 1)
    return pd.date_range(last, periods=steps + 1, freq=freq)[1:]


def panel_to_frame(panel: Panel, config: DataConfig = DEFAULT_DATA) -> pd.DataFrame:
    """The inverse of `prepare_panel` for the target (and covariates): a long DataFrame."""
    parts = []
    for i, uid in enumerate(panel.ids):
        part = pd.DataFrame({config.id_col: uid, config.time_col: panel.ds[i], config.target_col: panel.y[i]})
        for j, col in enumerate(config.past_covariates):
            part[col] = panel.past[i][:, j]
        for j, col in enumerate(config.future_covariates):
            part[col] = panel.future[i][:, j]
        parts.append(part)
    return pd.concat(parts, ignore_index=True)
