"""Anomaly scores that see shape (issue 11, item 6): per-phase normalisation, cycle scores,
aligned reconstruction windows, the threshold that keeps a group of equal peaks."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit.tasks.anomaly import Detect, DetectConfig, DetectDataConfig, DetectModelConfig, cycles
from lstmkit.tasks.anomaly.api import default_window
from lstmkit.tasks.anomaly.threshold import dynamic_threshold, ewma

PERIOD = 50


# seeded fits whose figures the assertions hold are run at one thread (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("one_thread")


def _beats(n_beats: int, tall=(), inverted=(), seed: int = 0) -> np.ndarray:
    """An ECG-like signal: per beat a narrow R peak (height 3) and a broad T wave (0.6).
    Beats in `tall` have a taller R peak (4.5, normal shape); beats in `inverted` have
    the T wave upside down (a shape anomaly inside the normal amplitude range)."""
    rng = np.random.default_rng(seed)
    t = np.arange(PERIOD)
    parts = []
    for k in range(n_beats):
        r = 4.5 if k in tall else 3.0
        tw = -0.6 if k in inverted else 0.6
        parts.append(r * np.exp(-0.5 * ((t - 10) / 1.2) ** 2) + tw * np.exp(-0.5 * ((t - 30) / 4.0) ** 2))
    x = np.concatenate(parts)
    return x + rng.normal(0, 0.05, len(x))


def test_anchors_phase_and_cycles_follow_the_beats():
    x = _beats(12)
    found = cycles.anchors(x, PERIOD)
    assert np.all(found % PERIOD == 10)                      # every R peak, nothing else
    phase, cycle = cycles.phase_and_cycle(len(x), found, PERIOD)
    assert phase[found].tolist() == [PERIOD // 2] * len(found)
    assert len(np.unique(cycle)) == len(found)                # b_0 = 10 - 25 < 0: one cycle per anchor
    # a beat that comes 5 samples late keeps its phase: the anchor moves with it
    late = np.concatenate([x[:300], np.full(5, x[0]), x[300:]])
    phase_late, _ = cycles.phase_and_cycle(len(late), cycles.anchors(late, PERIOD), PERIOD)
    assert phase_late[315] == PERIOD // 2


def test_phase_stats_by_hand():
    errors = np.array([1.0, 10.0, 2.0, 20.0, 3.0, 30.0])
    bins = np.array([0, 1, 0, 1, 0, 1])
    stats = cycles.PhaseStats.fit(errors, bins, 2)
    assert stats.median.tolist() == [2.0, 20.0]
    assert stats.scale == pytest.approx([1.4826, 14.826])
    assert stats.normalise(np.array([4.0, 40.0]), np.array([0, 1])).tolist() == pytest.approx(
        [2 / 1.4826, 20 / 14.826])
    # a bin with no spread gets the floor (a share of the overall scale), not a division by ~0
    flat = cycles.PhaseStats.fit(np.array([1.0, 1.0, 5.0, 9.0]), np.array([0, 0, 1, 1]), 2)
    overall = 1.4826 * np.median(np.abs(np.array([1.0, 1.0, 5.0, 9.0]) - 3.0))
    assert flat.scale[0] == pytest.approx(cycles.MAD_FLOOR * overall)


def test_phase_normalised_cycle_score_ranks_a_shape_anomaly_above_a_tall_beat():
    """Errors that are naturally large at the R peak: a tall beat has the largest single
    errors, a beat with an inverted T wave has moderately raised errors where errors are
    usually small.  The global per-point score (the former one) ranks the tall beat first;
    per-phase normalisation with the cycle mean ranks the shape anomaly first."""
    rng = np.random.default_rng(0)
    n_beats = 40
    phase = np.tile(np.arange(PERIOD), n_beats)
    usual = np.where(np.abs(phase - 10) <= 2, 1.0, 0.05)          # the steep R peak is hard to predict
    train_err = usual * rng.uniform(0.5, 1.5, len(phase))
    test_err = usual * rng.uniform(0.5, 1.5, len(phase))
    test_err[8 * PERIOD + 8: 8 * PERIOD + 13] *= 2.5              # tall beat: errors 2.5x at its peak
    test_err[20 * PERIOD + 22: 20 * PERIOD + 38] += 0.4          # inverted T wave: +0.4 over 16 points
    cycle = np.arange(len(phase)) // PERIOD
    old = ewma((test_err - train_err.mean()) / train_err.std(), 8)
    assert int(np.argmax(old)) // PERIOD == 8                     # the former score: the tall beat
    bins = cycles.phase_bins(phase, PERIOD)
    stats = cycles.PhaseStats.fit(train_err, bins, min(PERIOD, cycles.PHASE_BINS))
    new = cycles.cycle_mean(stats.normalise(test_err, bins), cycle)
    assert int(np.argmax(new)) // PERIOD == 20                    # the new one: the shape anomaly
    top_cycles = np.unique(cycle[np.argsort(-new)[:PERIOD]])
    assert top_cycles.tolist() == [20]


def test_detector_ranks_the_shape_anomaly_first_and_flags_its_cycle(tmp_path):
    train = _beats(30, seed=0)
    test = _beats(24, tall=(6,), inverted=(16,), seed=1)
    scores = {}
    for normalise, aggregate in (("global", "point"), ("phase", "cycle")):
        config = DetectConfig(model=DetectModelConfig(hidden_size=16, normalise=normalise, aggregate=aggregate),
                              data=DetectDataConfig(max_train_windows=1000))
        det = Detect(config, Detect.default_train(max_epochs=5, progress=False, seed=0)).fit(train)
        assert det.period == PERIOD and det.window == PERIOD
        result = det.score(test)
        scores[normalise] = int(np.argmax(result.scores))
        if normalise == "phase":
            # the flagged interval is the inverted beat's whole cycle (an event, not scattered
            # points): half a period either side of its R peak at 16 m + 10, its T wave inside
            assert len(result.intervals) >= 1
            a, b, _ = max(result.intervals, key=lambda iv: iv[2])
            assert (a, b) == (16 * PERIOD + 10 - PERIOD // 2, 16 * PERIOD + 10 + PERIOD // 2 - 1)
            det.save(tmp_path / "det")
            again = Detect.load(tmp_path / "det")
            assert again.period == PERIOD
            np.testing.assert_array_equal(again.score(test).scores, result.scores)
    assert scores["global"] // PERIOD == 6                          # the former score: the tall beat
    assert 16 * PERIOD + 10 - PERIOD // 2 <= scores["phase"] < 16 * PERIOD + 10 + PERIOD // 2   # the inverted one


def test_reconstruction_windows_are_whole_periods_aligned_on_the_cycles():
    assert default_window(12) == 24 and default_window(50) == 50 and default_window(1000) == 400
    train = _beats(20)
    config = DetectConfig(model=DetectModelConfig(detector="reconstruction", hidden_size=8),
                          data=DetectDataConfig(max_train_windows=200))
    det = Detect(config, Detect.default_train(max_epochs=1, progress=False)).fit(train)
    z = ((train - det.mean[0]) / det.std[0])[:, None]
    starts = det._score_starts(z)
    aligned = [s for s in starts if s % PERIOD == (10 - PERIOD // 2) % PERIOD]   # anchor - m / 2
    assert len(aligned) >= 18
    covered = np.zeros(len(train), dtype=bool)
    for s in starts:
        covered[s:s + det.window] = True
    assert covered.all()


def test_threshold_keeps_a_group_of_equal_peaks():
    """Seven equal spikes: Hundman's best candidate flags only some of them and pruning
    against the next spike would discard every run; that candidate is passed over."""
    rng = np.random.default_rng(0)
    e = np.abs(rng.normal(0, 0.3, 1000))
    spikes = [100, 230, 380, 510, 640, 770, 900]
    e[spikes] = 2.8 + 0.05 * np.arange(7)
    # (before the change, Hundman's best candidate flagged only the top spikes and pruning
    # against the next one, < 13% lower, left nothing flagged)
    result = dynamic_threshold(e)
    assert sorted(a for a, _, _ in result.intervals) == spikes
