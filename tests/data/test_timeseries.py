"""The offline time-series loaders: shapes, known values, labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstmkit.data import timeseries as ts


def test_airpassengers_is_bundled_with_known_values():
    data = ts.load_airpassengers()
    assert list(data.columns) == ["unique_id", "ds", "y"] and len(data) == 144
    assert data.y.iloc[:3].tolist() == [112.0, 118.0, 132.0]
    assert data.y.iloc[-1] == 432.0 and data.y.max() == 622.0
    assert data.ds.iloc[0] == pd.Timestamp("1949-01-01") and data.ds.iloc[-1] == pd.Timestamp("1960-12-01")


def test_co2_keeps_its_missing_weeks_as_nan():
    data = ts.load_co2()
    assert len(data) == 2284 and int(data.y.isna().sum()) == 59
    assert pd.infer_freq(pd.DatetimeIndex(data.ds.iloc[:50])) == "W-SAT"
    assert data.y.iloc[0] == pytest.approx(316.1)


def test_sunspots_yearly():
    data = ts.load_sunspots()
    assert len(data) == 309 and data.ds.iloc[0] == pd.Timestamp("1700-01-01")
    assert data.y.iloc[0] == 5.0 and (data.y >= 0).all()


def test_kdd_tsad_135_train_split_is_normal():
    x_train, y_train = ts.load_kdd_tsad_135("train")
    assert x_train.shape == (1200,) and y_train.sum() == 0
    x_test, y_test = ts.load_kdd_tsad_135("test")
    assert x_test.shape == (7501,) and int(y_test.sum()) == 12
    np.testing.assert_allclose(x_test[:1200], x_train)
    assert np.flatnonzero(y_test)[[0, -1]].tolist() == [4187, 4198]


def test_ecg_diff_count_3():
    x_test, y_test = ts.load_ecg_diff_count_3("test")
    assert x_test.shape == (10000,) and int(y_test.sum()) == 300
    x_train, y_train = ts.load_ecg_diff_count_3("train")
    assert x_train.shape == (10000,) and int(y_train.sum()) == 0
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        ts.load_ecg_diff_count_3("validation")
