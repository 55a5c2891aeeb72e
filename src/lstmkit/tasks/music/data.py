"""Where the music comes from: JSB Chorales, music21's Bach chorales, a user's files.

* :func:`load_jsb` -- the standard JSB Chorales split of Boulanger-Lewandowski
  et al. (2012), 229 / 76 / 77 chorales of quarter-note frames, read from
  ``shared/data/jsb_chorales.json`` (searched upward from this package and
  from the working directory, or given by path / ``$LSTMKIT_JSB``).
* :func:`bach_chorales` -- the four-part chorales of music21's corpus as
  voice tokens ``(4, T)`` per sixteenth, split by chorale, deterministically
  (Riemenschneider order: index % 10 == 0 test, == 1 valid, else train),
  cached as JSON after the first parse (~1 min).
* :func:`read_folder` -- every MIDI / MusicXML file of a folder (or one file).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .encoding import VOICES, notes_to_tokens
from .files import MIDI_SUFFIXES, SCORE_SUFFIXES, read_notes, score_parts

JSB_NAME = "jsb_chorales.json"
SPLITS = ("train", "valid", "test")
Frames = list[list[int]]


def _candidates() -> list[Path]:
    seen: list[Path] = []
    env = os.environ.get("LSTMKIT_JSB")
    if env:
        seen.append(Path(env))
    for start in (Path(__file__).resolve().parent, Path.cwd().resolve()):
        for folder in (start, *start.parents):
            seen.append(folder / "shared" / "data" / JSB_NAME)
    return seen


def find_jsb() -> Path:
    """The path of ``jsb_chorales.json``; ``FileNotFoundError`` (one line) when absent."""
    for path in _candidates():
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"JSB Chorales not found: no shared/data/{JSB_NAME} above the package or the working "
        "directory; set LSTMKIT_JSB=/path/to/jsb_chorales.json"
    )


def load_jsb(path: str | os.PathLike | None = None) -> dict[str, list[Frames]]:
    """``{"train": [...], "valid": [...], "test": [...]}``: chorales as frame lists."""
    path = Path(path) if path is not None else find_jsb()
    if not path.is_file():
        raise FileNotFoundError(f"JSB Chorales not found: no file '{path}'")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"'{path}' is not the JSB Chorales JSON: {exc}") from None
    missing = [s for s in SPLITS if not isinstance(data.get(s), list)]
    if missing:
        raise ValueError(f"'{path}' is not the JSB Chorales JSON: no split(s) {missing}")
    return {s: [[list(map(int, f)) for f in chorale] for chorale in data[s]] for s in SPLITS}


# --------------------------------------------------------------------------- music21 chorales
def _cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "lstmkit"


def score_voices(score) -> np.ndarray:
    """A four-part music21 score -> voice tokens ``(4, T)`` per sixteenth.

    ``ValueError`` unless the score has exactly four parts with notes.
    """
    parts = [p for p in score_parts(score) if p]
    if len(parts) != 4:
        raise ValueError(f"expected a four-part score ({', '.join(VOICES)}), got {len(parts)} parts")
    length = int(np.ceil(max(n.end for p in parts for n in p) / 0.25 - 1e-9))
    return np.stack([notes_to_tokens(p, length) for p in parts])  # (4, T)


def _parse_corpus() -> list[tuple[str, list[list[int]]]]:
    from music21 import corpus

    out = []
    iterator = corpus.chorales.Iterator(numberingSystem="riemenschneider", returnType="filename")
    for name in iterator:
        try:
            voices = score_voices(corpus.parse(name))
        except ValueError:  # not four parts, or a pitch off the keyboard: not a chorale we model
            continue
        out.append((str(name), voices.tolist()))
    return out


def bach_chorales(cache: bool = True) -> dict[str, list[tuple[str, np.ndarray]]]:
    """music21's four-part Bach chorales, ``{split: [(name, voices (4, T)), ...]}``."""
    import music21

    file = _cache_dir() / f"bach_chorales_voices_m21-{music21.__version__}.json"
    items = None
    if cache and file.is_file():
        try:
            items = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            items = None  # a broken cache is parsed again below
    if items is None:
        items = _parse_corpus()
        if cache:
            from lstmkit.io import atomic_write_json

            atomic_write_json(file, items, indent=None)
    if not items:
        raise ValueError("music21's corpus gave no four-part chorales")
    splits: dict[str, list[tuple[str, np.ndarray]]] = {s: [] for s in SPLITS}
    for i, (name, voices) in enumerate(items):
        split = "test" if i % 10 == 0 else "valid" if i % 10 == 1 else "train"
        splits[split].append((name, np.asarray(voices, dtype=np.int64)))
    return splits


def voices_to_frames(voices: np.ndarray, step: float = 1.0) -> Frames:
    """Voice tokens ``(4, T)`` -> frames sampled every ``step`` quarters (JSB's view)."""
    from .encoding import sounding

    every = int(round(step / 0.25))
    pitches = np.stack([sounding(row) for row in voices])[:, ::every]  # (4, T / every)
    return [sorted({int(p) for p in col if p >= 0}) for col in pitches.T]


# --------------------------------------------------------------------------- user files
def music_files(path: str | os.PathLike) -> list[Path]:
    """The music files at ``path`` (a file, or a folder searched recursively), sorted."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file or folder: '{path}'")
    if path.is_file():
        return [path]
    suffixes = MIDI_SUFFIXES + SCORE_SUFFIXES
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
    if not files:
        raise ValueError(f"'{path}' holds no music files ({', '.join(suffixes)})")
    return files


def read_folder(path: str | os.PathLike, step: float = 1.0) -> list[Frames]:
    """Every music file under ``path`` as frames (``step`` quarters per frame)."""
    from .encoding import notes_to_frames

    out = []
    for file in music_files(path):
        frames = notes_to_frames(read_notes(file), step)
        if not frames:
            raise ValueError(f"'{file}' has no notes (an empty score)")
        out.append(frames)
    return out

