"""Music files in and out: MIDI (mido), MusicXML and the other score formats (music21).

* :func:`read_notes` -- any MIDI / MusicXML / ABC / Humdrum file -> notes
  (times in quarter notes); :func:`read_parts` keeps the parts apart (the
  voice model and ``--soprano`` read the top part).
* :func:`write_midi`, :func:`write_musicxml` -- parts of notes -> a file.

Every problem with a user's file (missing, not music, no notes) is a
one-line ``ValueError`` / ``FileNotFoundError``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from .encoding import Note

MIDI_SUFFIXES = (".mid", ".midi")
SCORE_SUFFIXES = (".xml", ".musicxml", ".mxl", ".abc", ".krn")
TICKS_PER_QUARTER = 480


def _check_file(path: str | os.PathLike) -> Path:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such music file: '{path}'")
    if not path.is_file():
        raise ValueError(f"'{path}' is not a file (expected a MIDI or MusicXML file)")
    suffix = path.suffix.lower()
    if suffix not in MIDI_SUFFIXES + SCORE_SUFFIXES:
        raise ValueError(
            f"'{path}': unknown music file type '{suffix or '(none)'}'; expected one of "
            f"{', '.join(MIDI_SUFFIXES + SCORE_SUFFIXES)}"
        )
    return path


def _read_midi_parts(path: Path) -> list[list[Note]]:
    import mido

    try:
        midi = mido.MidiFile(str(path))
    except (OSError, EOFError, ValueError, KeyError, IndexError) as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise ValueError(f"'{path}' is not a readable MIDI file: {detail}") from None
    per_quarter = float(midi.ticks_per_beat)
    parts: list[list[Note]] = []
    for track in midi.tracks:
        ticks = 0
        started: dict[tuple[int, int], list[int]] = {}  # (channel, pitch) -> start ticks
        notes: list[Note] = []
        for msg in track:
            ticks += msg.time
            if msg.type not in ("note_on", "note_off") or msg.channel == 9:  # 9: drums
                continue
            key = (msg.channel, msg.note)
            if msg.type == "note_on" and msg.velocity > 0:
                started.setdefault(key, []).append(ticks)
            elif started.get(key):
                start = started[key].pop(0)
                notes.append(Note(start / per_quarter, int(msg.note), ticks / per_quarter))
        if notes:
            parts.append(sorted(notes))
    return parts


def parse_score(path: Path):
    """A music21 score from a file (any format music21 reads); ValueError (one line) if unreadable."""
    from music21 import converter

    try:
        return converter.parse(str(path))
    except Exception as exc:  # music21 raises many types for a file it cannot read
        first = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise ValueError(f"'{path}' is not a readable score: {first}") from None


def score_parts(score) -> list[list[Note]]:
    """A music21 score -> one note list per part (ties joined, grace notes dropped)."""
    from music21 import stream

    score = score.stripTies()
    parts = list(score.parts) if isinstance(score, stream.Score) and score.parts else [score]
    out: list[list[Note]] = []
    for part in parts:
        notes: list[Note] = []
        for element in part.flatten().notes:
            length = float(element.quarterLength)
            if length <= 0:  # grace notes
                continue
            start = float(element.getOffsetInHierarchy(part))
            for pitch in element.pitches:
                notes.append(Note(start, int(round(pitch.ps)), start + length))
        out.append(sorted(notes))
    return out


def read_parts(path: str | os.PathLike) -> list[list[Note]]:
    """The notes of each part (MIDI: each track with notes) of a music file, top part first."""
    path = _check_file(path)
    if path.suffix.lower() in MIDI_SUFFIXES:
        parts = _read_midi_parts(path)
    else:
        parts = [p for p in score_parts(parse_score(path)) if p]
    if not parts:
        raise ValueError(f"'{path}' has no notes (an empty score)")
    return parts


def read_notes(path: str | os.PathLike) -> list[Note]:
    """All notes of a music file, parts merged (times in quarter notes)."""
    return sorted(n for part in read_parts(path) for n in part)


# --------------------------------------------------------------------------- writing
def write_midi(parts: Sequence[Sequence[Note]], path: str | os.PathLike, bpm: float = 80.0) -> Path:
    """Write notes to a type-1 MIDI file, one track (and channel) per part."""
    import mido

    from lstmkit.io import atomic_path

    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_QUARTER)
    meta = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0)])
    midi.tracks.append(meta)
    for channel, notes in enumerate(parts):
        events: list[tuple[int, int, int]] = []  # (tick, 0 = off first, pitch)
        for n in notes:
            events.append((round(n.start * TICKS_PER_QUARTER), 1, n.pitch))
            events.append((round(n.end * TICKS_PER_QUARTER), 0, n.pitch))
        track = mido.MidiTrack()
        now = 0
        for tick, kind, pitch in sorted(events):
            velocity = 80 if kind else 0
            track.append(mido.Message("note_on", note=pitch, velocity=velocity,
                                      channel=channel % 9, time=tick - now))
            now = tick
        midi.tracks.append(track)
    with atomic_path(path) as tmp:
        midi.save(str(tmp))
    return Path(path)


def _segments(notes: Sequence[Note]) -> list[tuple[float, float, list[int]]]:
    """Cut time at every note start/end: ``(start, end, pitches sounding)`` pieces."""
    times = sorted({n.start for n in notes} | {n.end for n in notes})
    out = []
    for a, b in zip(times[:-1], times[1:]):
        out.append((a, b, sorted({n.pitch for n in notes if n.start <= a < n.end})))
    return out


def write_musicxml(
    parts: Sequence[Sequence[Note]], path: str | os.PathLike, names: Sequence[str] | None = None
) -> Path:
    """Write a score, one staff per part; simultaneous notes in a part become chords."""
    from music21 import chord, clef, meter, note, stream

    from lstmkit.io import atomic_path

    score = stream.Score()
    for i, notes in enumerate(parts):
        part = stream.Part()
        part.partName = names[i] if names and i < len(names) else f"Part {i + 1}"
        part.append(meter.TimeSignature("4/4"))
        low = min((n.pitch for n in notes), default=60)
        part.append(clef.BassClef() if low < 55 and i > 0 else clef.TrebleClef())
        for start, end, pitches in _segments(notes):
            length = end - start
            if not pitches:
                element = note.Rest(quarterLength=length)
            elif len(pitches) == 1:
                element = note.Note(pitches[0], quarterLength=length)
            else:
                element = chord.Chord(pitches, quarterLength=length)
            part.insert(start, element)
        score.insert(0, part)
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    data = GeneralObjectExporter(score).parse()  # bytes of the MusicXML document
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)
