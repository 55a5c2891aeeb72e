"""Music encodings and files: frames <-> notes <-> MIDI / MusicXML, voices <-> tokens."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit.tasks.music.encoding import (
    HOLD,
    REST,
    Note,
    deinterleave,
    frames_to_notes,
    frames_to_roll,
    interleave,
    notes_to_frames,
    notes_to_tokens,
    pitch_token,
    roll_to_frames,
    sounding,
    tokens_to_notes,
)
from lstmkit.tasks.music.files import read_notes, read_parts, write_midi, write_musicxml

# a tiny chorale: held notes across frames, a repeated chord, a rest, a lone note
CHORALE = [[48, 60, 64, 67], [48, 60, 64, 67], [50, 62, 65, 69], [], [47, 62, 67], [60]]


def test_frames_notes_round_trip_merges_held_pitches():
    notes = frames_to_notes(CHORALE)
    assert Note(0.0, 48, 2.0) in notes  # held over two frames: one note
    assert Note(4.0, 60, 6.0) not in notes and Note(5.0, 60, 6.0) in notes
    assert notes_to_frames(notes) == CHORALE


def test_roll_round_trip_and_range():
    roll = frames_to_roll(CHORALE, 43, 96)
    assert roll.shape == (6, 54) and roll.sum() == sum(len(f) for f in CHORALE)
    assert roll_to_frames(roll, 43) == CHORALE
    with pytest.raises(ValueError, match="pitch 100 in frame 1 is outside the model's range 43..96"):
        frames_to_roll([[60], [100]], 43, 96)
    with pytest.raises(ValueError, match="empty"):
        frames_to_roll([], 43, 96)


@pytest.mark.parametrize("suffix", [".mid", ".musicxml"])
def test_file_round_trip(tmp_path, suffix):
    notes = frames_to_notes(CHORALE, step=1.0)
    path = tmp_path / f"c{suffix}"
    (write_midi if suffix == ".mid" else write_musicxml)([notes], path)
    assert notes_to_frames(read_notes(path)) == CHORALE


def test_voice_tokens_round_trip_and_holds():
    soprano = [Note(0.0, 72, 1.0), Note(1.0, 72, 1.5), Note(2.0, 74, 3.0)]  # repeat, then a rest
    tokens = notes_to_tokens(soprano)
    t72 = pitch_token(72)
    assert tokens.tolist() == [t72, HOLD, HOLD, HOLD, t72, HOLD, REST, REST, pitch_token(74), HOLD, HOLD, HOLD]
    assert tokens_to_notes(tokens) == soprano
    assert sounding(tokens).tolist() == [72] * 6 + [-1, -1] + [74] * 4


def test_voices_parts_round_trip_through_files(tmp_path):
    parts = [[Note(0.0, 72, 2.0), Note(2.0, 71, 4.0)], [Note(0.0, 67, 4.0)],
             [Note(0.0, 64, 1.0), Note(1.0, 62, 4.0)], [Note(0.0, 48, 4.0)]]
    voices = np.stack([notes_to_tokens(p, 16) for p in parts])
    assert np.array_equal(deinterleave(interleave(voices)), voices)
    assert interleave(voices)[:4].tolist() == voices[:, 0].tolist()
    for suffix in (".mid", ".musicxml"):
        write = write_midi if suffix == ".mid" else write_musicxml
        path = write([tokens_to_notes(v) for v in voices], tmp_path / f"v{suffix}")
        assert read_parts(path) == parts


def test_bad_files_are_one_line_errors(tmp_path):
    text = tmp_path / "notes.mid"
    text.write_text("this is not music\n")
    with pytest.raises(ValueError, match="not a readable MIDI file"):
        read_notes(text)
    xml = tmp_path / "bad.musicxml"
    xml.write_text("<html>no score</html>")
    with pytest.raises(ValueError, match="not a readable score"):
        read_notes(xml)
    plain = tmp_path / "x.txt"
    plain.write_text("x")
    with pytest.raises(ValueError, match="unknown music file type '.txt'"):
        read_notes(plain)
    empty = write_midi([[]], tmp_path / "empty.mid")
    with pytest.raises(ValueError, match="has no notes"):
        read_notes(empty)
    with pytest.raises(FileNotFoundError):
        read_notes(tmp_path / "missing.mid")
    with pytest.raises(ValueError, match="outside the piano range"):
        pitch_token(120)


def test_piano_roll_plot_draws_on_the_given_axes():
    import matplotlib.pyplot as plt

    from lstmkit.tasks.music.plots import plot_piano_roll

    fig, (left, right) = plt.subplots(1, 2)
    notes = frames_to_notes(CHORALE)
    assert plot_piano_roll([notes], ax=right, names=["chorale"]) is fig
    assert len(right.patches) + len(right.collections) >= len(notes) and not left.collections
    assert right.get_ylim()[0] < 47 and right.get_ylim()[1] > 69
    plt.close(fig)
    with pytest.raises(ValueError, match="no notes"):
        plot_piano_roll([[]])
