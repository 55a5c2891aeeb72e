r"""Audio in, log-mel features out: reading, resampling, the mel filterbank, CMVN, SpecAugment.

Reading (:func:`read_audio`): a wav/flac/ogg file through ``soundfile``,
averaged to mono, resampled to ``sample_rate`` with a polyphase filter
(``scipy.signal.resample_poly`` with up/down = the reduced ratio of the rates).
A missing, empty, unreadable or zero-length file, or one sampled below
:data:`MIN_RATE`, is a one-line ``ValueError``
naming it.

Log-mel filterbank (:func:`log_mel`), for a signal :math:`x` at rate :math:`f_s`:
frames of :math:`W = f_s \cdot \text{win\_ms}/1000` samples every
:math:`S = f_s \cdot \text{hop\_ms}/1000` samples (no centring padding, so a
stream cut into chunks gives the same frames: frame :math:`t` covers samples
:math:`[tS, tS + W)`), Hann window, power spectrum of the frame zero-padded
to :math:`N = 2^{\lceil \log_2 W \rceil}` samples (the short-time Fourier
transform, framed by hand rather than by ``torch.stft``, whose frames span
:math:`N` samples when :math:`N > W`), then

.. math::
    M_{t,m} = \log\Big(\epsilon + \sum_k F_{m,k} |X_{t,k}|^2\Big)

with :math:`F` the triangular filters of :func:`mel_matrix`: on the HTK mel
scale :math:`\mathrm{mel}(f) = 2595 \log_{10}(1 + f/700)`, filter :math:`m`
rises linearly from the centre of filter :math:`m-1` to its own centre and
falls to the centre of filter :math:`m+1` (centres equally spaced in mel from
``f_min`` to ``f_max``), peak value 1.

CMVN (:func:`cmvn`): per feature, :math:`(M - \mu) / \max(\sigma, 10^{-5})`
with :math:`\mu, \sigma` over the utterance's frames.

SpecAugment (:func:`spec_augment`, Park et al. 2019, without time warping):
``freq_masks`` bands of up to ``freq_width`` consecutive features and
``time_masks`` spans of up to ``time_width`` frames (at most a fifth of the
utterance) are set to 0 (the mean after CMVN).
"""

from __future__ import annotations

import math
import os
from functools import lru_cache
from math import gcd
from pathlib import Path

import numpy as np
import torch

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".aiff", ".aif")
MIN_RATE = 4000  # Hz: below it no speech band is left


def read_audio(path: str | os.PathLike, sample_rate: int = 16000) -> np.ndarray:
    """Mono float32 samples of an audio file at ``sample_rate`` (see the module docstring)."""
    import soundfile

    file = Path(path)
    if not file.exists():
        raise ValueError(f"audio file '{file}' does not exist")
    if not file.is_file():
        raise ValueError(f"audio file '{file}' is not a file")
    if file.stat().st_size == 0:
        raise ValueError(f"audio file '{file}' is empty (0 bytes)")
    try:
        samples, rate = soundfile.read(os.fspath(file), dtype="float32", always_2d=True)
    except (RuntimeError, soundfile.LibsndfileError) as err:
        detail = " ".join(str(err).split())
        raise ValueError(f"audio file '{file}' is not readable audio (wav/flac/ogg): {detail}") from None
    if samples.shape[0] == 0:
        raise ValueError(f"audio file '{file}' holds no samples (0-length audio)")
    if rate < MIN_RATE:
        raise ValueError(f"audio file '{file}' has sample rate {rate} Hz; speech needs at least {MIN_RATE} Hz")
    mono = samples.mean(axis=1)
    if not np.all(np.isfinite(mono)):
        raise ValueError(f"audio file '{file}' has non-finite samples")
    return resample(mono, int(rate), sample_rate)


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """``samples`` at ``rate`` Hz -> ``target`` Hz (polyphase; unchanged when the rates agree)."""
    if rate <= 0 or target <= 0:
        raise ValueError(f"sample rates must be positive, got {rate} -> {target}")
    if rate == target:
        return np.asarray(samples, dtype=np.float32)
    from scipy.signal import resample_poly

    g = gcd(rate, target)
    return resample_poly(np.asarray(samples, dtype=np.float64), target // g, rate // g).astype(np.float32)


def hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def mel_to_hz(m: np.ndarray | float) -> np.ndarray:
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


@lru_cache(maxsize=16)
def mel_matrix(n_mels: int, n_fft: int, sample_rate: int, f_min: float = 0.0,
               f_max: float | None = None) -> np.ndarray:
    """Triangular mel filters ``(n_mels, n_fft // 2 + 1)`` over the FFT bin frequencies (peak 1)."""
    f_max = sample_rate / 2 if f_max is None else f_max
    if not 0 <= f_min < f_max <= sample_rate / 2:
        raise ValueError(f"mel band: need 0 <= f_min < f_max <= {sample_rate / 2}, got {f_min}, {f_max}")
    bins = np.arange(n_fft // 2 + 1) * sample_rate / n_fft                    # (K,) Hz
    edges = mel_to_hz(np.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_mels + 2))   # (n_mels + 2,)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins[None, :] - lower) / (centre - lower)
    falling = (upper - bins[None, :]) / (upper - centre)
    out = np.clip(np.minimum(rising, falling), 0.0, None)
    out.flags.writeable = False
    return out


def frame_sizes(sample_rate: int, win_ms: float, hop_ms: float) -> tuple[int, int, int]:
    """``(window, hop, n_fft)`` in samples for the given rate and durations."""
    win = int(round(sample_rate * win_ms / 1000))
    hop = int(round(sample_rate * hop_ms / 1000))
    if win < 2 or hop < 1:
        raise ValueError(f"win_ms/hop_ms too small for {sample_rate} Hz: window {win}, hop {hop} samples")
    return win, hop, 1 << math.ceil(math.log2(win))


def n_frames(n_samples: int, win: int, hop: int) -> int:
    """Frames of :func:`log_mel` for ``n_samples`` samples: ``1 + (n - win) // hop`` (0 when shorter)."""
    return 0 if n_samples < win else 1 + (n_samples - win) // hop


def log_mel(samples: np.ndarray, sample_rate: int = 16000, n_mels: int = 40, win_ms: float = 25.0,
            hop_ms: float = 10.0) -> np.ndarray:
    """Log-mel filterbank energies ``(frames, n_mels)`` float32 (see the module docstring).

    A signal shorter than one window is zero-padded to one frame.
    """
    win, hop, n_fft = frame_sizes(sample_rate, win_ms, hop_ms)
    x = torch.as_tensor(np.asarray(samples, dtype=np.float32))
    if x.numel() < win:
        x = torch.nn.functional.pad(x, (0, win - x.numel()))
    frames = x.unfold(0, win, hop) * torch.hann_window(win, periodic=True)     # (T, W)
    spec = torch.fft.rfft(frames, n=n_fft).T                                   # (K, T), zero-padded to N
    power = spec.real.square() + spec.imag.square()
    fb = torch.from_numpy(np.asarray(mel_matrix(n_mels, n_fft, sample_rate), dtype=np.float32))
    return torch.log(fb @ power + 1e-6).T.contiguous().numpy()               # (T, n_mels)


def cmvn(features: np.ndarray) -> np.ndarray:
    """Per-feature mean 0 and standard deviation 1 over the frames of one utterance."""
    mean = features.mean(axis=0, keepdims=True)
    std = np.maximum(features.std(axis=0, keepdims=True), 1e-5)
    return ((features - mean) / std).astype(np.float32)


def spec_augment(features: torch.Tensor, rng: np.random.Generator, freq_masks: int, freq_width: int,
                 time_masks: int, time_width: int) -> torch.Tensor:
    """A copy of ``features`` ``(T, F)`` with random frequency bands and time spans zeroed."""
    out = features.clone()
    steps, width = out.shape
    for _ in range(freq_masks):
        w = int(rng.integers(0, min(freq_width, width) + 1))
        start = int(rng.integers(0, width - w + 1))
        out[:, start:start + w] = 0.0
    longest = min(time_width, steps // 5)
    for _ in range(time_masks):
        w = int(rng.integers(0, longest + 1))
        start = int(rng.integers(0, steps - w + 1))
        out[start:start + w, :] = 0.0
    return out
