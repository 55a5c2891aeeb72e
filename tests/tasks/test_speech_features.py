"""The speech front end: reading and resampling audio, the mel matrix, log-mel frames, CMVN, SpecAugment."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("soundfile", reason="the speech tests need the speech extra: pip install 'lstmkit[speech]'")
import soundfile  # noqa: E402
import torch  # noqa: E402

from lstmkit.tasks.speech.audio import (  # noqa: E402
    cmvn,
    frame_sizes,
    hz_to_mel,
    log_mel,
    mel_matrix,
    mel_to_hz,
    n_frames,
    read_audio,
    resample,
    spec_augment,
)


def test_mel_scale_is_htk_and_inverts():
    assert hz_to_mel(700.0) == pytest.approx(2595 * np.log10(2))
    f = np.array([0.0, 100.0, 1000.0, 7999.0])
    np.testing.assert_allclose(mel_to_hz(hz_to_mel(f)), f, atol=1e-9)


def test_mel_matrix_by_hand():
    # one filter over 0..8 Hz with bins every 2 Hz (n_fft 8, rate 16): its centre c is the mel midpoint,
    # and the triangle rises as f / c and falls as (8 - f) / (8 - c)
    fb = mel_matrix(1, 8, 16)
    c = 700 * (10 ** (2595 * np.log10(1 + 8 / 700) / 2 / 2595) - 1)
    assert 3.9 < c < 4.0                       # the mel scale is nearly linear at a few Hz
    expected = [0.0, 2 / c, (8 - 4) / (8 - c), (8 - 6) / (8 - c), 0.0]
    np.testing.assert_allclose(fb[0], expected, rtol=1e-12)


def test_mel_triangles_meet_and_sum_to_one_between_centres():
    fb = mel_matrix(20, 512, 16000)
    assert fb.shape == (20, 257) and fb.min() >= 0 and fb.max() <= 1
    centres = mel_to_hz(np.linspace(hz_to_mel(0), hz_to_mel(8000), 22))[1:-1]
    bins = np.arange(257) * 16000 / 512
    inside = (bins >= centres[0]) & (bins <= centres[-1])
    np.testing.assert_allclose(fb[:, inside].sum(axis=0), 1.0, atol=1e-9)   # neighbours' slopes add to 1
    with pytest.raises(ValueError, match="mel band"):
        mel_matrix(10, 512, 16000, f_min=5000, f_max=4000)


def test_log_mel_frames_and_a_tone_lands_in_its_band():
    rate = 16000
    win, hop, n_fft = frame_sizes(rate, 25, 10)
    assert (win, hop, n_fft) == (400, 160, 512)
    x = np.sin(2 * np.pi * 1000 * np.arange(rate) / rate).astype(np.float32)
    feats = log_mel(x, rate, n_mels=40)
    assert feats.shape == (n_frames(rate, win, hop), 40) == (1 + (rate - 400) // 160, 40)
    centres = mel_to_hz(np.linspace(0, hz_to_mel(8000), 42))[1:-1]
    assert feats.mean(0).argmax() == np.abs(centres - 1000).argmin()
    # frames do not depend on what follows: a prefix gives the first frames exactly (streaming relies on it)
    np.testing.assert_allclose(log_mel(x[:4000], rate), feats[: n_frames(4000, win, hop)], atol=1e-5)
    assert log_mel(x[:100], rate).shape == (1, 40)      # shorter than a window: one padded frame


def test_cmvn_per_feature():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, size=(50, 4)).astype(np.float32)
    x[:, 3] = 7.0                                          # a constant feature stays finite
    y = cmvn(x)
    np.testing.assert_allclose(y[:, :3].mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(y[:, :3].std(0), 1, atol=1e-4)
    assert np.all(y[:, 3] == 0)


def test_spec_augment_masks_bands_and_spans_only():
    x = torch.ones(100, 20)
    y = spec_augment(x, np.random.default_rng(1), freq_masks=2, freq_width=5, time_masks=2, time_width=10)
    assert torch.all(x == 1), "the input is not modified"
    zero = y == 0
    cols = zero.all(dim=0)
    rows = zero.all(dim=1)
    assert torch.all(zero == (cols[None, :] | rows[:, None])), "zeros are whole bands or whole spans"
    assert 0 < int(cols.sum()) <= 10 and int(rows.sum()) <= 2 * 20
    assert torch.equal(spec_augment(x, np.random.default_rng(1), 0, 5, 0, 10), x)


def test_resample_keeps_the_frequency(tmp_path):
    rate = 8000
    x = np.sin(2 * np.pi * 440 * np.arange(rate) / rate).astype(np.float32)
    soundfile.write(tmp_path / "a.wav", np.stack([x, x], 1), rate)          # stereo, 8 kHz
    y = read_audio(tmp_path / "a.wav", 16000)
    assert len(y) == 2 * rate and y.dtype == np.float32
    spectrum = np.abs(np.fft.rfft(y))
    assert spectrum.argmax() * 16000 / len(y) == pytest.approx(440, abs=2)
    np.testing.assert_array_equal(resample(x, rate, rate), x)


@pytest.mark.parametrize("case, message", [
    ("missing", "does not exist"),
    ("empty", "is empty"),
    ("text", "not readable audio"),
    ("no_samples", "0-length"),
    ("low_rate", "sample rate 2000 Hz"),
])
def test_bad_audio_is_one_line_value_error(tmp_path, case, message):
    path = tmp_path / f"{case}.wav"
    if case == "empty":
        path.write_bytes(b"")
    elif case == "text":
        path.write_text("this is not a wav file\n")
    elif case == "no_samples":
        soundfile.write(path, np.zeros(0, dtype=np.float32), 16000)
    elif case == "low_rate":
        soundfile.write(path, np.zeros(100, dtype=np.float32), 2000)
    with pytest.raises(ValueError, match=message) as err:
        read_audio(path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)
