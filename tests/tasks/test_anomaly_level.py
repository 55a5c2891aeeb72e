"""The detectors' input level: ``level="local"`` measures each window from its own mean.

A series that drifts past its training range is where it matters: with the standardised
values as they are (``level="global"``) the network sees inputs it never saw and its errors
grow with the level; measured from each window's mean the drift is invisible and a spike
stands out.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from lstmkit.tasks.anomaly import Detect, DetectConfig, DetectDataConfig, DetectModelConfig

pytestmark = pytest.mark.usefixtures("one_thread")

PERIOD = 20
SPIKE = 700


def _drifting(n: int, seed: int = 0) -> np.ndarray:
    """A noisy sine on a linear trend that, after 300 points, is far above the first 300's range."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return np.sin(2 * np.pi * t / PERIOD) + 0.01 * t + rng.normal(0, 0.05, n)


def _fit(level: str, detector: str = "prediction", epochs: int = 20) -> Detect:
    config = DetectConfig(model=DetectModelConfig(detector=detector, level=level, hidden_size=16),
                          data=DetectDataConfig(max_train_windows=400))
    return Detect(config, Detect.default_train(max_epochs=epochs, progress=False, seed=0)).fit(_drifting(800)[:300])


def test_local_level_finds_a_spike_on_a_drifting_series_the_global_level_misses():
    test = _drifting(800)
    test[SPIKE] += 1.5                                     # 1.5 against a sine of amplitude 1 and noise 0.05
    local, former = _fit("local"), _fit("global")
    w = local.window
    near = slice(SPIKE - 2, SPIKE + w)                     # the spike and the points whose windows hold it
    s_local, s_global = local.score(test).scores, former.score(test).scores
    assert near.start <= int(np.argmax(s_local)) < near.stop
    # the former input: the errors grow with the drift, the spike is not even the top of its neighbourhood
    outside = np.r_[s_global[:near.start], s_global[near.stop:]]
    assert s_global[near].max() < outside.max()


@pytest.mark.parametrize("detector", ["prediction", "reconstruction"])
def test_local_level_scores_do_not_move_when_the_series_is_shifted(detector):
    """Adding a constant to the scored series changes no window once its mean is taken
    away, so every score is the same; with the global level the scores change."""
    test = _drifting(500, seed=1)
    for level, invariant in (("local", True), ("global", False)):
        det = _fit(level, detector, epochs=2)
        a, b = det.score(test).scores, det.score(test + 5.0).scores
        if invariant:
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
        else:
            assert np.abs(a - b).max() > 0.1


def test_local_windows_are_the_standardised_values_minus_their_mean():
    det = _fit("local", epochs=1)
    x = _drifting(800)[:300]
    z = ((x - det.mean[0]) / det.std[0])[:, None]
    inputs, targets = det._prediction_windows(z, 1)
    k = 57
    window = z[k:k + det.window, 0]
    np.testing.assert_allclose(inputs[k, :, 0], window - window.mean(), atol=1e-6)
    np.testing.assert_allclose(targets[k, 0], z[k + det.window, 0] - window.mean(), atol=1e-6)
    glob = _fit("global", epochs=1)
    g_inputs, g_targets = glob._prediction_windows(z, 1)
    np.testing.assert_allclose(g_inputs[k, :, 0], window, atol=1e-6)


def test_models_saved_before_the_level_field_load_with_the_global_level(tmp_path):
    det = _fit("global", epochs=2)
    det.save(tmp_path / "m")
    found = 0
    for path in (tmp_path / "m").iterdir():         # remove the field from every saved record that has it
        if path.suffix == ".json":
            raw = json.loads(path.read_text())
            text = json.dumps(raw)
            if '"level"' in text:
                path.write_text(text.replace('"level": "global", ', "").replace(', "level": "global"', ""))
                found += 1
    assert found >= 1 and '"level"' not in "".join(p.read_text() for p in (tmp_path / "m").glob("*.json"))
    again = Detect.load(tmp_path / "m")
    assert again.config.model.level == "global"
    test = _drifting(500)
    np.testing.assert_array_equal(again.score(test).scores, det.score(test).scores)
    assert DetectModelConfig().level == "local"       # new models default to the local level
