"""seqclass input: every accepted form reads to the same series; bad input is one clear line."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from lstmkit.tasks.seqclass import Preprocessor, SeqClassDataConfig, read_sequences

DC = SeqClassDataConfig()


def _unequal(seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    rng = np.random.default_rng(seed)
    xs = [rng.normal(size=(3, n)) for n in (5, 9, 7, 12)]
    return xs, np.array(["a", "b", "a", "b"])


def test_3d_array_reads_time_first():
    x = np.arange(2 * 3 * 4, dtype=float).reshape(2, 3, 4)
    seqs = read_sequences((x, [0, 1]), DC)
    assert len(seqs) == 2 and seqs.channels == 3
    np.testing.assert_array_equal(seqs.values[1], x[1].T)
    assert list(seqs.labels) == [0, 1]


def test_2d_array_is_univariate_and_trailing_nan_is_padding():
    x = np.ones((3, 6))
    x[1, 4:] = np.nan
    seqs = read_sequences(x, DC)
    assert seqs.channels == 1 and seqs.lengths.tolist() == [6, 4, 6] and seqs.labels is None


def test_list_of_unequal_lengths():
    xs, y = _unequal()
    seqs = read_sequences((xs, y), DC)
    assert seqs.lengths.tolist() == [5, 9, 7, 12]
    np.testing.assert_array_equal(seqs.values[3], xs[3].T)


def test_ts_file_written_here(tmp_path):
    xs, y = _unequal()
    lines = ["@problemName toy", "@timeStamps false", "@univariate false", "@dimensions 3",
             "@equalLength false", "@classLabel true a b", "@data"]
    for x, label in zip(xs, y):
        lines.append(":".join(",".join(f"{v:.6f}" for v in ch) for ch in x) + f":{label}")
    path = tmp_path / "toy.ts"
    path.write_text("\n".join(lines) + "\n")
    seqs = read_sequences(path, DC)
    assert seqs.lengths.tolist() == [5, 9, 7, 12] and list(seqs.labels) == list(y)
    np.testing.assert_allclose(seqs.values[2], xs[2].T, atol=1e-6)


def test_long_csv(tmp_path):
    xs, y = _unequal()
    rows = []
    for i, (x, label) in enumerate(zip(xs, y)):
        for t in range(x.shape[1]):
            rows.append({"series_id": f"s{i}", "t": t, "acc_x": x[0, t], "acc_y": x[1, t], "acc_z": x[2, t],
                         "label": label})
    frame = pd.DataFrame(rows).sample(frac=1.0, random_state=0)      # rows in any order
    frame.to_csv(tmp_path / "long.csv", index=False)
    seqs = read_sequences(tmp_path / "long.csv", DC)
    order = [seqs.ids.index(f"s{i}") for i in range(4)]
    for i, k in enumerate(order):
        np.testing.assert_allclose(seqs.values[k], xs[i].T)
        assert seqs.labels[k] == y[i]


def test_sktime_nested_frame():
    xs, y = _unequal()
    nested = pd.DataFrame({f"dim_{c}": [pd.Series(x[c]) for x in xs] for c in range(3)})
    seqs = read_sequences((nested, y), DC)
    assert seqs.lengths.tolist() == [5, 9, 7, 12]
    np.testing.assert_array_equal(seqs.values[0], xs[0].T)


@pytest.mark.parametrize("data, message", [
    (np.zeros((2, 3, 4, 5)), "expected a 3-D array"),
    (np.zeros(7), "expected a 3-D array"),
    (np.zeros((0, 2, 5)), "no series"),
    ([], "no series"),
    ([np.zeros((2, 5)), np.zeros((3, 5))], "different channel counts"),
    ([np.zeros((2, 5)), np.full((2, 4), np.nan)], "series 1 is empty"),
    ((np.zeros((3, 1, 5)), [0, 1]), "3 series but 2 labels"),
    (np.array([[[0.0, np.inf]]]), "infinite values"),
    ("no_such_file.ts", "no such file"),
    (42, "expected an array"),
])
def test_bad_input_is_one_line(data, message):
    with pytest.raises((ValueError, FileNotFoundError), match=message) as info:
        read_sequences(data, DC, "training data")
    assert "\n" not in str(info.value)


def test_long_csv_with_two_labels_in_one_series_is_refused():
    frame = pd.DataFrame({"series_id": [1, 1], "t": [0, 1], "x": [0.0, 1.0], "label": ["a", "b"]})
    with pytest.raises(ValueError, match="2 different labels"):
        read_sequences(frame, DC)


def test_preprocessor_standardises_with_training_statistics_only():
    rng = np.random.default_rng(1)
    train = read_sequences(rng.normal(5.0, 2.0, size=(20, 2, 30)), DC)
    prep = Preprocessor.fit(train, "impute", 1)
    z = np.concatenate(prep.transform(train, "train"))
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(0), 1, atol=1e-4)
    shifted = read_sequences(rng.normal(50.0, 2.0, size=(5, 2, 30)), DC)
    assert np.concatenate(prep.transform(shifted, "test")).mean() > 10   # not re-fitted on test data
    with pytest.raises(ValueError, match="3 channel\\(s\\), the model was trained on 2"):
        prep.transform(read_sequences(np.zeros((2, 3, 4)), DC), "test")


def test_nan_is_imputed_masked_or_refused_and_reported():
    x = np.arange(24, dtype=float).reshape(2, 2, 6)
    x[0, 0, 2] = np.nan                         # inside: carried forward
    x[1, 1, 0] = np.nan                         # at the start: carried backward
    seqs = read_sequences(x, DC)
    prep = Preprocessor.fit(seqs, "impute", 1)
    with pytest.warns(UserWarning, match="2 of 24 values .* missing"):
        z = prep.transform(seqs, "train")
    raw = [a * prep.std + prep.mean for a in z]
    assert raw[0][2, 0] == pytest.approx(x[0, 0, 1], rel=1e-5)
    assert raw[1][0, 1] == pytest.approx(x[1, 1, 1], rel=1e-5)
    assert all(np.isfinite(a).all() for a in z)
    masked = Preprocessor.fit(seqs, "mask", 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zm = masked.transform(seqs, "train")
    assert masked.input_size == 4 and zm[0].shape == (6, 4)
    assert zm[0][2, 2] == 1.0 and zm[0][:, 2].sum() == 1.0 and zm[1][0, 3] == 1.0
    with pytest.raises(ValueError, match="2 missing \\(NaN\\) values and missing='error'"):
        Preprocessor.fit(seqs, "error", 1).transform(seqs, "train")


def test_downsample_averages_blocks():
    seqs = read_sequences(np.arange(7, dtype=float)[None, None, :], DC)
    prep = Preprocessor(np.zeros(1), np.ones(1), "impute", 3)
    np.testing.assert_allclose(prep.transform(seqs, "x")[0][:, 0], [1.0, 4.0, 6.0])


def test_series_normalisation_removes_each_series_scale():
    # PLAID's currents span 2e-4 .. 460: per-channel standardisation leaves the small ones flat,
    # per-series z-normalisation (normalize="series") gives every series mean 0 and std 1.
    rng = np.random.default_rng(2)
    shape = np.sin(np.linspace(0, 6, 40)) + rng.normal(0, 0.05, 40)
    xs = [scale * shape[None, :] + shift for scale, shift in ((1e-3, 0.0), (1.0, 5.0), (1e3, -2.0))]
    seqs = read_sequences(xs, DC)
    flat = Preprocessor.fit(seqs, "impute", 1).transform(seqs, "train")
    assert flat[0].std() < 1e-5                                   # the channel mode's failure
    prep = Preprocessor.fit(seqs, "impute", 1, "series")
    z = prep.transform(seqs, "train")
    for a in z:
        np.testing.assert_allclose(a.mean(0), 0, atol=1e-5)
        np.testing.assert_allclose(a.std(0), 1, atol=1e-4)
    np.testing.assert_allclose(z[0], z[2], atol=1e-4)            # same shape, any scale and offset
    # a constant channel becomes 0; NaNs are filled and do not enter the series statistics
    x = np.stack([np.full(6, 3.0), np.array([1.0, np.nan, 3.0, 5.0, 7.0, 9.0])])[None]
    with pytest.warns(UserWarning, match="1 of 12 values"):
        seqs = read_sequences(x, DC)
        out = Preprocessor.fit(seqs, "impute", 1, "series").transform(seqs, "x")[0]
    assert np.all(out[:, 0] == 0)
    observed = np.array([1.0, 3.0, 5.0, 7.0, 9.0])
    assert out[0, 1] == pytest.approx((1.0 - observed.mean()) / observed.std(), rel=1e-5)
    # saved and restored; a model saved before the option existed reads as "channel"
    assert Preprocessor.from_dict(prep.to_dict()).normalize == "series"
    old = {k: v for k, v in prep.to_dict().items() if k != "normalize"}
    assert Preprocessor.from_dict(old).normalize == "channel"
    with pytest.raises(ValueError, match="normalize"):
        SeqClassDataConfig(normalize="global")
