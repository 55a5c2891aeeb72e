"""Utterances in, padded feature batches out: manifests, inputs, the feature front end, vocabularies.

Inputs of :func:`read_utterances` (``data``):

* a manifest: a ``.csv`` or ``.tsv`` file with a header naming ``path_col``
  (and ``text_col``, needed to train and evaluate); relative paths are
  relative to the manifest's folder;
* one audio file (``.wav``, ``.flac``, ...), a folder of them (sorted), or a
  list of paths;
* a :class:`pandas.DataFrame` with those columns;
* a pair ``(items, texts)``: ``items`` audio paths or precomputed feature
  sequences (2-D arrays ``(frames, features)``, e.g. MFCCs), ``texts`` the
  transcripts or word labels (``None``: unlabelled);
* a list of feature arrays.

Every problem (a row without a file, a missing column, an empty manifest) is a
one-line ``ValueError`` naming the manifest and its row.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lstmkit.tasks.speech.audio import AUDIO_SUFFIXES, cmvn, log_mel, read_audio, spec_augment
from lstmkit.tasks.speech.config import SpeechDataConfig

BLANK = 0
MANIFEST_SUFFIXES = (".csv", ".tsv")


@dataclass
class Utterances:
    """What :func:`read_utterances` returns: sources (paths or feature arrays), texts (or None), ids."""

    sources: list[Any]
    texts: list[str] | None
    ids: list[str]

    @property
    def kind(self) -> str:
        return "audio" if isinstance(self.sources[0], Path) else "features"


def normalise(text: str, lowercase: bool = True) -> str:
    """Whitespace collapsed to single spaces (and lowercased)."""
    text = " ".join(str(text).split())
    return text.lower() if lowercase else text


def _manifest(path: Path, dc: SpeechDataConfig) -> Utterances:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=delimiter))
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise ValueError(f"manifest '{path}' is empty")
    header = [h.strip() for h in rows[0]]
    if dc.path_col not in header:
        raise ValueError(f"manifest '{path}' has no '{dc.path_col}' column (header: {', '.join(header)}); "
                         f"set --path-col")
    pcol = header.index(dc.path_col)
    tcol = header.index(dc.text_col) if dc.text_col in header else None
    if len(rows) == 1:
        raise ValueError(f"manifest '{path}' has a header but no rows")
    sources, texts, ids = [], [], []
    for n, row in enumerate(rows[1:], start=2):
        where = f"manifest '{path}' line {n}"
        if len(row) != len(header):
            raise ValueError(f"{where}: {len(row)} fields where the header has {len(header)}")
        name = row[pcol].strip()
        if not name:
            raise ValueError(f"{where}: empty '{dc.path_col}'")
        file = Path(name) if Path(name).is_absolute() else path.parent / name
        if not file.is_file():
            raise ValueError(f"{where}: audio file '{file}' does not exist")
        sources.append(file)
        ids.append(name)
        if tcol is not None:
            texts.append(row[tcol])
    return Utterances(sources, texts if tcol is not None else None, ids)


def _paths(items: Sequence[Any], what: str) -> list[Path]:
    out = []
    for item in items:
        file = Path(item)
        if not file.is_file():
            raise ValueError(f"{what}: audio file '{file}' does not exist")
        out.append(file)
    return out


def _features(items: Sequence[Any], what: str) -> list[np.ndarray]:
    out = []
    for k, item in enumerate(items):
        x = np.asarray(item, dtype=np.float32)
        if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
            raise ValueError(f"{what}: item {k} must be a non-empty (frames, features) array, "
                             f"got shape {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{what}: item {k} has non-finite values")
        out.append(x)
    if len({x.shape[1] for x in out}) > 1:
        raise ValueError(f"{what}: feature sequences have different widths {sorted({x.shape[1] for x in out})}")
    return out


def _items(items: Sequence[Any], what: str) -> list[Any]:
    items = list(items)
    if not items:
        raise ValueError(f"{what}: no utterances")
    if all(isinstance(i, (str, os.PathLike)) for i in items):
        return _paths(items, what)
    return _features(items, what)


def read_utterances(data: Any, dc: SpeechDataConfig, what: str = "data") -> Utterances:
    """Read any input listed in the module docstring."""
    import pandas as pd

    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        if not path.exists():
            raise ValueError(f"{what}: '{path}' does not exist")
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
            if not files:
                raise ValueError(f"{what}: folder '{path}' holds no audio files ({', '.join(AUDIO_SUFFIXES)})")
            return Utterances(files, None, [p.name for p in files])
        if path.suffix.lower() in MANIFEST_SUFFIXES:
            return _manifest(path, dc)
        return Utterances([path], None, [path.name])
    if isinstance(data, pd.DataFrame):
        if dc.path_col not in data.columns:
            raise ValueError(f"{what}: the frame has no '{dc.path_col}' column")
        texts = data[dc.text_col].astype(str).tolist() if dc.text_col in data.columns else None
        return Utterances(_paths(data[dc.path_col].tolist(), what), texts, data[dc.path_col].astype(str).tolist())
    if isinstance(data, tuple) and len(data) == 2:
        items, texts = data
        sources = _items(items, what)
        if texts is not None:
            texts = [str(t) for t in texts]
            if len(texts) != len(sources):
                raise ValueError(f"{what}: {len(sources)} utterances but {len(texts)} transcripts/labels")
        ids = [p.name if isinstance(p, Path) else str(k) for k, p in enumerate(sources)]
        return Utterances(sources, texts, ids)
    if isinstance(data, (list, np.ndarray)):
        sources = _items(data, what)
        return Utterances(sources, None, [p.name if isinstance(p, Path) else str(k) for k, p in enumerate(sources)])
    raise ValueError(f"{what}: expected a manifest (.csv/.tsv), audio file(s), a folder, a DataFrame or "
                     f"(items, texts), got {type(data).__name__}")


@dataclass
class Frontend:
    """Source -> normalised features ``(frames, dim)``: log-mel of audio, or the given features.

    ``kind`` (``audio``/``features``) and ``dim`` are fixed by the training
    data; ``mean``/``std`` are the training statistics for ``cmvn="global"``.
    """

    dc: SpeechDataConfig
    kind: str
    dim: int
    mean: np.ndarray | None = None
    std: np.ndarray | None = None

    def raw(self, source: Any) -> np.ndarray:
        if isinstance(source, Path):
            if self.kind != "audio":
                raise ValueError(f"this model reads {self.dim}-dimensional feature sequences, not audio "
                                 f"('{source}')")
            dc = self.dc
            return log_mel(read_audio(source, dc.sample_rate), dc.sample_rate, dc.n_mels, dc.win_ms, dc.hop_ms)
        if self.kind != "features":
            raise ValueError("this model reads audio files, not feature arrays")
        if source.shape[1] != self.dim:
            raise ValueError(f"feature sequences must have {self.dim} features, got {source.shape[1]}")
        return source

    def normalise(self, x: np.ndarray) -> np.ndarray:
        if self.dc.cmvn == "utterance":
            return cmvn(x)
        if self.dc.cmvn == "global":
            return ((x - self.mean) / self.std).astype(np.float32)
        return np.asarray(x, dtype=np.float32)

    def __call__(self, source: Any) -> np.ndarray:
        return self.normalise(self.raw(source))

    def many(self, sources: Sequence[Any]) -> list[np.ndarray]:
        return [self(s) for s in sources]

    @classmethod
    def fit(cls, utts: Utterances, dc: SpeechDataConfig) -> tuple[Frontend, list[np.ndarray]]:
        """The front end for the training data, and the training features."""
        kind = utts.kind
        dim = dc.n_mels if kind == "audio" else int(utts.sources[0].shape[1])
        front = cls(dc, kind, dim)
        raw = [front.raw(s) for s in utts.sources]
        if dc.cmvn == "global":
            stacked = np.concatenate(raw)
            front.mean = stacked.mean(axis=0).astype(np.float32)
            front.std = np.maximum(stacked.std(axis=0), 1e-5).astype(np.float32)
        return front, [front.normalise(x) for x in raw]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "dim": self.dim,
                "mean": None if self.mean is None else self.mean.tolist(),
                "std": None if self.std is None else self.std.tolist()}

    @classmethod
    def from_dict(cls, raw: dict[str, Any], dc: SpeechDataConfig) -> Frontend:
        mean = None if raw["mean"] is None else np.asarray(raw["mean"], dtype=np.float32)
        std = None if raw["std"] is None else np.asarray(raw["std"], dtype=np.float32)
        if raw["kind"] not in ("audio", "features"):
            raise ValueError(f"unknown input kind {raw['kind']!r}")
        return cls(dc, str(raw["kind"]), int(raw["dim"]), mean, std)


class Vocabulary:
    """Characters of the training transcripts; id 0 is the CTC blank, characters from 1 in sorted order."""

    def __init__(self, chars: Sequence[str]) -> None:
        self.chars = list(chars)
        self.index = {c: k + 1 for k, c in enumerate(self.chars)}

    @classmethod
    def from_texts(cls, texts: Sequence[str]) -> Vocabulary:
        return cls(sorted(set("".join(texts))))

    def __len__(self) -> int:
        return len(self.chars) + 1

    def encode(self, text: str) -> list[int]:
        """Ids of the known characters of ``text`` (unknown ones are dropped)."""
        return [self.index[c] for c in text if c in self.index]

    def decode(self, ids: Sequence[int]) -> str:
        return "".join(self.chars[i - 1] for i in ids if i != BLANK)


class Batches(torch.utils.data.Dataset):
    """Feature sequences with targets (id lists or class indices), optionally SpecAugmented."""

    def __init__(self, features: list[np.ndarray], targets: list[Any], dc: SpeechDataConfig | None = None,
                 seed: int = 0) -> None:
        self.features, self.targets, self.dc = features, targets, dc
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, k: int) -> tuple[torch.Tensor, Any]:
        x = torch.from_numpy(self.features[k])
        dc = self.dc
        if dc is not None and (dc.freq_masks or dc.time_masks):
            x = spec_augment(x, self.rng, dc.freq_masks, dc.freq_width, dc.time_masks, dc.time_width)
        return x, self.targets[k]


def pad(features: Sequence[Any]) -> tuple[torch.Tensor, torch.Tensor]:
    """``(B, T, F)`` zero-padded and ``(B,)`` lengths."""
    tensors = [torch.as_tensor(f) for f in features]
    lengths = torch.tensor([len(t) for t in tensors], dtype=torch.long)
    return torch.nn.utils.rnn.pad_sequence(tensors, batch_first=True), lengths


def collate(batch: list[tuple[torch.Tensor, Any]]) -> tuple[torch.Tensor, ...]:
    """CTC targets (lists) -> ``(x, lengths, targets concatenated, target lengths)``;
    class indices -> ``(x, lengths, y)``."""
    x, lengths = pad([b[0] for b in batch])
    targets = [b[1] for b in batch]
    if isinstance(targets[0], list):
        flat = torch.tensor([i for t in targets for i in t], dtype=torch.long)
        return x, lengths, flat, torch.tensor([len(t) for t in targets], dtype=torch.long)
    return x, lengths, torch.tensor(targets, dtype=torch.long)
