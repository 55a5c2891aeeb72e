"""Music data: the JSB Chorales file, music21's chorales as voices, folders of files."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit.tasks.music.data import find_jsb, load_jsb, read_folder, score_voices, voices_to_frames
from lstmkit.tasks.music.encoding import HOLD, REST, frames_to_notes, sounding
from lstmkit.tasks.music.files import write_midi


def test_jsb_missing_file_is_one_line(tmp_path):
    with pytest.raises(FileNotFoundError, match="JSB Chorales not found: no file"):
        load_jsb(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text('{"train": []}')
    with pytest.raises(ValueError, match=r"no split\(s\) \['valid', 'test'\]"):
        load_jsb(tmp_path / "bad.json")


def test_jsb_split_when_present():
    try:
        path = find_jsb()
    except FileNotFoundError:
        pytest.skip("shared/data/jsb_chorales.json is not on this machine")
    data = load_jsb(path)
    assert [len(data[s]) for s in ("train", "valid", "test")] == [229, 76, 77]
    pitches = [p for chorale in data["test"] for frame in chorale for p in frame]
    assert min(pitches) >= 43 and max(pitches) <= 96
    assert sum(len(c) for c in data["test"]) == 4725


def test_a_music21_chorale_becomes_four_voices():
    from music21 import corpus

    voices = score_voices(corpus.parse("bach/bwv269"))  # offline: the corpus ships with music21
    assert voices.shape[0] == 4 and voices.shape[1] > 100
    assert (voices[:, 0] >= 2).all()  # every voice starts with a note
    assert set(np.unique(voices)) - {REST, HOLD}  # pitches, not only holds
    top = [sounding(row) for row in voices]
    assert np.mean(top[0] >= top[3]) > 0.95  # the soprano sits above the bass
    frames = voices_to_frames(voices)
    assert len(frames) == voices.shape[1] // 4 and all(len(f) <= 4 for f in frames)


def test_read_folder(tmp_path):
    write_midi([frames_to_notes([[60, 64], [62]])], tmp_path / "a" / "one.mid")
    write_midi([frames_to_notes([[55], [57, 60], [59]])], tmp_path / "b.mid")
    (tmp_path / "notes.txt").write_text("not music")  # ignored: not a music suffix
    assert read_folder(tmp_path) == [[[60, 64], [62]], [[55], [57, 60], [59]]]
    with pytest.raises(ValueError, match="holds no music files"):
        read_folder(_empty(tmp_path))


def _empty(tmp_path):
    """An empty folder."""
    empty = tmp_path / "empty"
    empty.mkdir()
    return empty
