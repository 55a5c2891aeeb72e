"""The FSDD cross-validation of benchmarks/_speech_cv.py: folds, delta features, the choice rule."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import _speech_cv as cv  # noqa: E402

sys.path.pop(0)


def test_folds_partition_the_items_and_keep_the_classes_balanced():
    y = np.repeat(np.arange(10), 150)  # FSDD's train half: 150 per digit
    folds = cv.stratified_folds(y, 5, np.random.default_rng(0))
    joined = np.concatenate(folds)
    assert len(joined) == len(y) and len(np.unique(joined)) == len(y)
    for f in folds:
        assert np.array_equal(np.bincount(y[f], minlength=10), np.full(10, 30))


def test_uneven_classes_do_not_all_pile_on_the_first_fold():
    y = np.repeat(np.arange(4), 6)  # 6 per class, 4 folds: 2 extra per class
    sizes = [len(f) for f in cv.stratified_folds(y, 4, np.random.default_rng(1))]
    assert sorted(sizes) == [6, 6, 6, 6]
    with pytest.raises(ValueError, match="at least 2 folds"):
        cv.stratified_folds(y, 1, np.random.default_rng(0))


def test_deltas_of_a_ramp_are_its_slope_and_of_a_constant_zero():
    t = np.arange(10, dtype=np.float32)
    x = np.stack([3 * t, np.full(10, 7.0, dtype=np.float32)], 1)
    d = cv.deltas(x)
    np.testing.assert_allclose(d[2:-2, 0], 3.0, rtol=1e-6)  # interior: (1*(2*3) + 2*(4*3)) / 10 = 3
    # first frame, edges repeated: (1*(x1 - x0) + 2*(x2 - x0)) / 10 = (3 + 12) / 10
    assert d[0, 0] == pytest.approx(1.5)
    np.testing.assert_array_equal(d[:, 1], 0.0)
    full = cv.with_deltas(x)
    assert full.shape == (10, 6) and full.dtype == np.float32
    np.testing.assert_allclose(full[4:-4, 4], 0.0, atol=1e-6)  # delta-delta of a ramp
    with pytest.raises(ValueError, match="non-empty"):
        cv.deltas(np.zeros((0, 3), dtype=np.float32))


class _Memoriser:
    """A fake task: predicts each training item's label, and a fixed wrong class for unseen items
    unless ``knows`` (then the true label, read from the item itself)."""

    def __init__(self, knows: bool) -> None:
        self.knows, self.fit_seconds, self.seen = knows, 0.0, set()

    def fit(self, data, val=None):
        self.seen = {float(x[0, 0]) for x in data[0]}
        return self

    def proba(self, data) -> np.ndarray:
        p = np.zeros((len(data[0]), 3))
        for k, x in enumerate(data[0]):
            assert float(x[0, 0]) not in self.seen, "a fold model saw its held-out item"
            p[k, int(x[0, 1]) if self.knows else 0] = 1.0
        return p


def _run(candidates):
    y = np.repeat(np.arange(3), 10)
    X = [np.array([[float(i), float(c), 0.0]], dtype=np.float32) for i, c in enumerate(y)]
    return cv.cross_validate(
        X, y, candidates, make_task=lambda c, s: _Memoriser(c["knows"]), proba=lambda t, d: t.proba(d),
        texts=lambda labels: [str(v) for v in labels], epoch_of=lambda t, m: m, seed=0, folds=5,
        log=lambda *a: None)


def test_cross_validation_scores_out_of_fold_and_picks_the_best_earlier_on_ties():
    base = {"deltas": False, "max_epochs": 1}
    records, best, models = _run(({**base, "name": "guess", "knows": False},
                                  {**base, "name": "right", "knows": True},
                                  {**base, "name": "right_too", "knows": True}))
    assert [r["cv_accuracy"] for r in records] == pytest.approx([1 / 3, 1.0, 1.0])
    assert records[0]["cv_correct"] == 10 and len(records[0]["folds"]) == 5
    assert best["name"] == "right"  # the tie with right_too goes to the earlier candidate
    assert len(models) == 5 and all(m.knows for m in models)
