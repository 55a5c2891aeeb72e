"""Real time series that work offline, as long-format DataFrames or labelled arrays.

Forecasting (``unique_id, ds, y``):

* `load_airpassengers`: Box & Jenkins monthly airline passengers 1949-1960 (144
  values, public domain), bundled with lstmkit as ``data/airpassengers.csv``.
* `load_co2`: statsmodels' weekly Mauna Loa CO2, 1958-2001 (2284 weeks, 59 missing;
  kept as NaN here: the forecasting pipeline interpolates them with a warning).
* `load_sunspots`: statsmodels' yearly sunspot numbers, 1700-2008 (309 values).

Anomaly detection (values, 0/1 labels per point), from the ``aeon`` package
(``pip install lstmkit[data]``):

* `load_kdd_tsad_135`: UCR/KDD-21 InternalBleeding16; ``split="train"`` is the normal
  prefix (1200 points), ``"test"`` the whole series (7501 points, 12 anomalous).
* `load_ecg_diff_count_3`: a 10,000-point ECG with 300 anomalous points in 3 events;
  ``"train"`` is aeon's anomaly-free semi-supervised training series.
"""

from __future__ import annotations

import warnings
from importlib import resources

import numpy as np
import pandas as pd


def load_airpassengers() -> pd.DataFrame:
    """Monthly totals (thousands) with ``unique_id="AirPassengers"``, ``ds`` month starts."""
    with resources.files("lstmkit.data").joinpath("airpassengers.csv").open("r") as handle:
        frame = pd.read_csv(handle)
    frame["ds"] = pd.to_datetime(frame["ds"], format="%Y-%m")
    frame["y"] = frame["y"].astype(np.float64)
    frame.insert(0, "unique_id", "AirPassengers")
    return frame


def _statsmodels():
    try:
        import statsmodels.api as sm
    except ImportError as err:  # pragma: no cover - statsmodels is in the train extra
        raise ImportError("this loader needs statsmodels: pip install 'lstmkit[train]'") from err
    return sm


def load_co2() -> pd.DataFrame:
    """Weekly (Saturday) CO2 ppm with ``unique_id="co2"``; missing weeks are NaN."""
    raw = _statsmodels().datasets.co2.load_pandas().data
    return pd.DataFrame({"unique_id": "co2", "ds": pd.DatetimeIndex(raw.index),
                         "y": raw["co2"].to_numpy(dtype=np.float64)})


def load_sunspots() -> pd.DataFrame:
    """Yearly mean sunspot numbers with ``unique_id="sunspots"``, ``ds`` year starts."""
    raw = _statsmodels().datasets.sunspots.load_pandas().data
    years = raw["YEAR"].astype(int).astype(str)
    return pd.DataFrame({"unique_id": "sunspots", "ds": pd.to_datetime(years, format="%Y"),
                         "y": raw["SUNACTIVITY"].to_numpy(dtype=np.float64)})


def _aeon():
    try:
        from aeon import datasets
    except ImportError as err:
        raise ImportError(
            "the anomaly data sets need aeon: pip install 'lstmkit[data]' (or bash scripts/install_data.sh)"
        ) from err
    return datasets


def _check_split(split: str) -> None:
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', received {split!r}")


def load_kdd_tsad_135(split: str = "test") -> tuple[np.ndarray, np.ndarray]:
    """(values float64 (T,), labels int64 (T,)) of UCR/KDD-21 series 135."""
    _check_split(split)
    x, y = _aeon().load_kdd_tsad_135(split=split)
    return np.asarray(x, dtype=np.float64).ravel(), np.asarray(y, dtype=np.int64).ravel()


def load_ecg_diff_count_3(split: str = "test") -> tuple[np.ndarray, np.ndarray]:
    """(values, labels) of aeon's ECG with 3 anomalies; ``"train"`` is anomaly-free."""
    _check_split(split)
    datasets = _aeon()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        if split == "test":
            x, y = datasets.load_ecg_diff_count_3("unsupervised")
        else:
            _, _, x, y = datasets.load_ecg_diff_count_3("semi-supervised")
    return np.asarray(x, dtype=np.float64).ravel(), np.asarray(y, dtype=np.int64).ravel()
