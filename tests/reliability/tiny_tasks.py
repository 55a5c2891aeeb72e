"""Tiny training data and ``fit`` command lines for the text tasks (shared by the reliability tests)."""

from __future__ import annotations

import csv
from pathlib import Path

TEXTS = ["a great film", "great acting and a fine story", "fine and great", "i loved it so much",
         "a bad film", "awful acting and a dull story", "dull and bad", "i hated it", "great", "bad bad"]
LABELS = ["pos"] * 4 + ["neg"] * 4 + ["pos", "neg"]
SENTS = [
    (["Ali", "Ankara", "'ya", "gitti", "."], ["B-PER", "B-LOC", "I-LOC", "O", "O"]),
    (["bugün", "Ali", "geldi"], ["O", "B-PER", "O"]),
    (["Mehmet", "Yılmaz", "Bursa", "'ya", "döndü", "dün"], ["B-PER", "I-PER", "B-LOC", "I-LOC", "O", "O"]),
    (["Ayşe", "geldi"], ["B-PER", "O"]),
] * 4
EN = ["the house is red", "the dog is big", "a red dog", "the big house", "a dog", "the red house is big"] * 3
ES = ["la casa es roja", "el perro es grande", "un perro rojo", "la casa grande", "un perro",
      "la casa roja es grande"] * 3
TEXT = "In the beginning God created the heavens and the earth.\nThe earth was formless and empty.\n" * 4


def _classify(d: Path) -> list[str]:
    with open(d / "train.tsv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter="\t")
        w.writerow(["text", "label"])
        for t, lab in zip(TEXTS * 3, LABELS * 3):
            w.writerow([t, lab])
    return ["classify", "fit", "--data", str(d / "train.tsv"), "--hidden-size", "8", "--embed-size", "8",
            "--batch-size", "4", "--no-baselines", "--dropout", "0.2"]


def _tag(d: Path) -> list[str]:
    lines = []
    for toks, tags in SENTS:
        lines += [f"{w} {t}" for w, t in zip(toks, tags)] + [""]
    (d / "train.conll").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ["tag", "fit", "--data", str(d / "train.conll"), "--hidden-size", "8", "--embed-size", "8",
            "--char-embed-size", "4", "--char-hidden-size", "4", "--batch-size", "3", "--no-baselines"]


def _translate(d: Path) -> list[str]:
    (d / "train.en").write_text("\n".join(EN) + "\n", encoding="utf-8")
    (d / "train.es").write_text("\n".join(ES) + "\n", encoding="utf-8")
    return ["translate", "fit", "--source", str(d / "train.en"), "--target", str(d / "train.es"), "--hidden-size", "8",
            "--embed-size", "8", "--min-freq", "1", "--batch-size", "4"]


def _generate(d: Path) -> list[str]:
    (d / "train.txt").write_text(TEXT, encoding="utf-8")
    return ["generate", "fit", "--data", str(d / "train.txt"), "--val-data", str(d / "train.txt"), "--hidden-size", "8",
            "--embed-size", "8", "--num-layers", "1", "--batch-size", "4", "--bptt", "8"]


def _series_csv(path: Path, label: bool = False) -> None:
    import math

    rows = ["unique_id,ds,y" + (",label" if label else "")]
    for sid, phase in (("a", 0.0), ("b", 1.3)):
        for t in range(48):
            y = 10 + 3 * math.sin(2 * math.pi * t / 12 + phase) + 0.1 * t + 0.3 * math.sin(7.1 * t)
            rows.append(f"{sid},{t},{y:.4f}" + (",0" if label else ""))
    if label:  # one series for the detector: drop the second
        rows = rows[:49]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def _forecast(d: Path) -> list[str]:
    _series_csv(d / "train.csv")
    return ["forecast", "fit", "--data", str(d / "train.csv"), "--horizon", "4", "--lookback", "8",
            "--season-length", "12", "--hidden-size", "8", "--batch-size", "8"]


def _detect(d: Path) -> list[str]:
    _series_csv(d / "normal.csv", label=True)
    return ["detect", "fit", "--data", str(d / "normal.csv"), "--window", "8", "--hidden-size", "8",
            "--batch-size", "8"]


def _speech(d: Path) -> list[str]:
    """Tone 'words' (a = 500 Hz, b = 1500 Hz) as 8 kHz wavs and a manifest."""
    import numpy as np
    import soundfile

    rate, rows = 8000, ["path\ttranscript"]
    t = np.arange(int(0.1 * rate)) / rate
    for k, text in enumerate(["a", "b", "ab", "ba"] * 2):
        audio = np.concatenate([np.sin(2 * np.pi * {"a": 500, "b": 1500}[c] * t) for c in text])
        soundfile.write(d / f"u{k}.wav", (0.5 * audio).astype(np.float32), rate)
        rows.append(f"u{k}.wav\t{text}")
    (d / "train.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return ["speech", "fit", "--data", str(d / "train.tsv"), "--hidden-size", "8", "--num-layers", "1",
            "--batch-size", "4"]


def _video(d: Path) -> list[str]:
    import numpy as np

    clips = np.zeros((8, 6, 8, 8), dtype=np.float32)
    for i in range(8):
        for t in range(6):
            clips[i, t, :, (i + t) % 8] = 1.0  # a bar moving right
    np.save(d / "clips.npy", clips)
    return ["video", "fit", "--data", str(d / "clips.npy"), "--patch", "2", "--hidden-channels", "4",
            "--num-layers", "1", "--input-frames", "3", "--output-frames", "3", "--batch-size", "4"]


#: task -> builder(folder) that writes the data there and returns the ``fit`` arguments (no --out)
TASKS = {"classify": _classify, "tag": _tag, "translate": _translate, "generate": _generate, "speech": _speech}
#: every task whose ``fit`` takes ``--resume`` (the time-series tasks too)
RESUMABLE = {**TASKS, "forecast": _forecast, "detect": _detect, "video": _video}
