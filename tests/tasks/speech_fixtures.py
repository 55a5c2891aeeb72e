"""Tiny synthetic speech for the speech tests: each 'letter' is a tone, words are tone sequences.

``a`` is 500 Hz and ``b`` 1500 Hz, 0.15 s each with 0.05 s of silence
around them, so a network can tell them apart after a few steps; the wavs are
written at 8 kHz so that reading them resamples to 16 kHz.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

TONES = {"a": 500.0, "b": 1500.0}
RATE = 8000
TEXTS = ["a", "b", "a b", "b a", "a a", "b b", "ab", "ba"]


def tone_audio(text: str, rate: int = RATE, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    gap = np.zeros(int(0.05 * rate), dtype=np.float32)
    parts = [gap]
    for ch in text:
        if ch == " ":
            parts.append(gap)
            continue
        t = np.arange(int(0.15 * rate)) / rate
        parts += [0.5 * np.sin(2 * np.pi * TONES[ch] * t).astype(np.float32), gap]
    x = np.concatenate(parts)
    return (x + rng.normal(0, 0.01, len(x))).astype(np.float32)


def write_corpus(root: Path, texts: list[str] = TEXTS, repeat: int = 2, name: str = "train.tsv",
                 sep: str = "\t") -> Path:
    """Wavs under ``root/wav`` and a manifest ``root/name`` (relative paths)."""
    import soundfile

    (root / "wav").mkdir(parents=True, exist_ok=True)
    rows = [f"path{sep}transcript"]
    for k, text in enumerate(texts * repeat):
        rel = f"wav/{Path(name).stem}-{k}.wav"
        soundfile.write(root / rel, tone_audio(text, seed=k), RATE)
        rows.append(f"{rel}{sep}{text}")
    manifest = root / name
    manifest.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return manifest
