"""Three views of the same music and the exact conversions between them.

* **Notes**: ``Note(pitch, start, end)``, MIDI pitch and times in quarter notes
  (what a MIDI or MusicXML file holds).
* **Frames**: a chorale as a list of frames, a frame the sorted list of MIDI
  pitches sounding at that instant (the JSB Chorales format); as an array it
  is a piano roll ``roll (T, P)`` of 0/1 over the pitch range
  ``[low, low + P)``, ``roll[t, p] = 1`` iff pitch ``low + p`` sounds in frame
  ``t``. Frame ``t`` covers ``[t * step, (t + 1) * step)`` quarters and holds
  the pitches sounding at its start.
* **Voices**: the four voices (soprano, alto, tenor, bass) as one token per
  sixteenth each, ``voices (4, T)``: ``REST``, ``HOLD`` (the previous pitch
  goes on) or a pitch token ``pitch_token(p)``; interleaved time-major
  (``s_0 a_0 t_0 b_0 s_1 ...``) they are the voice model's token stream.

Conversions: frames -> notes merges a pitch held over consecutive frames
into one note, so ``notes_to_frames(frames_to_notes(f)) == f`` exactly; a
voice's tokens -> notes -> tokens is exact too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

#: JSB Chorales' pitch range (MIDI 43..96): the default of the frame models.
JSB_LOW, JSB_HIGH = 43, 96
#: token ids of the voice model; pitch p (21..108, the 88 piano keys) is 2 + p - 21
REST, HOLD = 0, 1
TOKEN_LOW, TOKEN_HIGH = 21, 108
N_TOKENS = 2 + TOKEN_HIGH - TOKEN_LOW + 1
VOICES = ("soprano", "alto", "tenor", "bass")
SIXTEENTH = 0.25  # quarters


@dataclass(frozen=True, order=True)
class Note:
    """One note: MIDI ``pitch`` sounding from ``start`` to ``end`` (quarter notes)."""

    start: float
    pitch: int
    end: float


# --------------------------------------------------------------------------- frames
def check_frames(frames: Sequence[Sequence[int]], low: int, high: int, name: str = "frames") -> None:
    """Raise a one-line ``ValueError`` for an empty chorale or a pitch outside ``[low, high]``."""
    if len(frames) == 0:
        raise ValueError(f"{name}: the score is empty (no frames)")
    for t, frame in enumerate(frames):
        for p in frame:
            if not isinstance(p, (int, np.integer)) or not low <= p <= high:
                raise ValueError(
                    f"{name}: pitch {p!r} in frame {t} is outside the model's range "
                    f"{low}..{high} (MIDI); transpose the piece or refit with a wider range"
                )


def frames_to_roll(frames: Sequence[Sequence[int]], low: int = JSB_LOW, high: int = JSB_HIGH) -> np.ndarray:
    """Frames -> piano roll ``(T, high - low + 1)`` of float32 0/1 (range checked)."""
    check_frames(frames, low, high)
    roll = np.zeros((len(frames), high - low + 1), dtype=np.float32)
    for t, frame in enumerate(frames):
        roll[t, [p - low for p in frame]] = 1.0
    return roll


def roll_to_frames(roll: np.ndarray, low: int = JSB_LOW) -> list[list[int]]:
    """Piano roll ``(T, P)`` -> frames (sorted pitch lists)."""
    roll = np.asarray(roll)
    return [[int(low + p) for p in np.flatnonzero(row > 0.5)] for row in roll]


def frames_to_notes(frames: Sequence[Sequence[int]], step: float = 1.0) -> list[Note]:
    """Frames -> notes; a pitch sounding in consecutive frames is one held note."""
    notes: list[Note] = []
    open_at: dict[int, int] = {}  # pitch -> first frame of the current note
    for t, frame in enumerate([*frames, []]):
        now = set(frame)
        for p in sorted(set(open_at) - now):
            notes.append(Note(open_at.pop(p) * step, p, t * step))
        for p in sorted(now - set(open_at)):
            open_at[p] = t
    return sorted(notes)


def notes_to_frames(notes: Iterable[Note], step: float = 1.0) -> list[list[int]]:
    """Notes -> frames: frame ``t`` holds the pitches sounding at time ``t * step``.

    A note shorter than a frame that does not cover a frame start is not
    seen (quarter-note frames keep the chords, not passing eighths).
    """
    notes = [n for n in notes if n.end > n.start]
    if not notes:
        return []
    n_frames = int(math.ceil(max(n.end for n in notes) / step - 1e-9))
    frames: list[set[int]] = [set() for _ in range(n_frames)]
    for n in notes:
        first = int(math.ceil(n.start / step - 1e-9))
        last = int(math.ceil(n.end / step - 1e-9))  # exclusive
        for t in range(first, min(last, n_frames)):
            frames[t].add(int(n.pitch))
    return [sorted(f) for f in frames]


# --------------------------------------------------------------------------- voices
def pitch_token(pitch: int) -> int:
    """The token of a MIDI pitch (``ValueError`` outside the 88 piano keys)."""
    if not TOKEN_LOW <= pitch <= TOKEN_HIGH:
        raise ValueError(f"pitch {pitch} is outside the piano range {TOKEN_LOW}..{TOKEN_HIGH} (MIDI)")
    return 2 + int(pitch) - TOKEN_LOW


def token_pitch(token: int) -> int:
    """The MIDI pitch of a pitch token."""
    if token < 2:
        raise ValueError(f"token {token} is REST or HOLD, not a pitch")
    return int(token) - 2 + TOKEN_LOW


def notes_to_tokens(notes: Iterable[Note], length: int | None = None) -> np.ndarray:
    """One monophonic voice -> tokens per sixteenth (``int64 (T,)``).

    The note sounding at a sixteenth's start gives the token: its pitch
    token at its first sixteenth, ``HOLD`` after; no note = ``REST``. Where
    notes overlap (a chord in one voice) the highest pitch is kept.
    """
    notes = sorted((n for n in notes if n.end > n.start), key=lambda n: (n.start, -n.pitch))
    if length is None:
        length = int(math.ceil(max((n.end for n in notes), default=0.0) / SIXTEENTH - 1e-9))
    tokens = np.full(length, REST, dtype=np.int64)
    owner = np.full(length, -1, dtype=np.int64)  # pitch that owns each sixteenth
    for n in notes:
        first = int(math.ceil(n.start / SIXTEENTH - 1e-9))
        last = min(int(math.ceil(n.end / SIXTEENTH - 1e-9)), length)
        if first >= last:
            continue
        token = pitch_token(n.pitch)
        for k in range(first, last):
            if owner[k] >= n.pitch:
                continue
            owner[k] = n.pitch
            tokens[k] = token if k == first or (owner[k - 1] != n.pitch) else HOLD
    return tokens


def tokens_to_notes(tokens: Sequence[int]) -> list[Note]:
    """One voice's tokens -> notes (``HOLD`` after a rest continues the rest)."""
    notes: list[Note] = []
    current: tuple[int, int] | None = None  # (pitch, first sixteenth)
    for k, token in enumerate([*map(int, tokens), REST]):
        if token == HOLD and current is not None:
            continue
        if current is not None:
            notes.append(Note(current[1] * SIXTEENTH, current[0], k * SIXTEENTH))
            current = None
        if token >= 2:
            current = (token_pitch(token), k)
    return notes


def voices_to_notes(voices: np.ndarray) -> list[Note]:
    """``(4, T)`` voice tokens -> all notes of the four voices."""
    return sorted(n for row in np.asarray(voices) for n in tokens_to_notes(row))


def sounding(tokens: Sequence[int]) -> np.ndarray:
    """Resolve ``HOLD``: the MIDI pitch sounding at each sixteenth, ``-1`` for a rest."""
    out = np.full(len(tokens), -1, dtype=np.int64)
    current = -1
    for k, token in enumerate(map(int, tokens)):
        if token == REST:
            current = -1
        elif token >= 2:
            current = token_pitch(token)
        out[k] = current
    return out


def interleave(voices: np.ndarray) -> np.ndarray:
    """``(4, T)`` -> the time-major token stream ``(4T,)``: ``s_0 a_0 t_0 b_0 s_1 ...``."""
    return np.asarray(voices).T.reshape(-1)  # (4, T) -> (T, 4) -> (4T,)


def deinterleave(stream: np.ndarray) -> np.ndarray:
    """The inverse of :func:`interleave` (the length must be a multiple of 4)."""
    stream = np.asarray(stream)
    if stream.shape[0] % 4:
        raise ValueError(f"a voice stream has 4 tokens per sixteenth, got length {stream.shape[0]}")
    return stream.reshape(-1, 4).T  # (4T,) -> (T, 4) -> (4, T)
