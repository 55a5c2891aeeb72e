"""``lstmkit music fit | sample | evaluate`` end to end on tiny files, and one-line errors."""

from __future__ import annotations

import pytest

from lstmkit.tasks.music.encoding import Note, frames_to_notes, notes_to_frames
from lstmkit.tasks.music.files import read_notes, read_parts, write_midi, write_musicxml
from lstmkit.testing import run_cli, run_cli_in_process

CHORALES = [
    [[48, 64, 67, 72], [53, 65, 69, 72], [55, 62, 67, 71], [48, 64, 67, 72], [48, 64, 67, 72]],
    [[45, 64, 69, 72], [50, 65, 69, 74], [55, 62, 67, 71], [48, 60, 64, 72]],
]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("music")
    for i, chorale in enumerate(CHORALES):
        write_midi([frames_to_notes(chorale)], root / "songs" / f"c{i}.mid")
    fit = run_cli("music", "fit", "--data", "songs", "--val-data", "songs/c0.mid", "--out", "m",
                  "--hidden-size", "8", "--nade-size", "4", "--low", "40", "--high", "80",
                  "--epochs", "2", "--no-progress", cwd=root)
    assert fit.returncode == 0, fit.stderr
    assert "val_loss" in fit.stdout and (root / "m" / "config.json").is_file()
    return root


def test_sample_and_evaluate(model_dir, capsys, monkeypatch):
    run = lambda *a: run_cli_in_process("music", *a, cwd=model_dir, capsys=capsys, monkeypatch=monkeypatch)
    out = run("sample", "--model", "m", "--length", "12", "--out", "new.mid", "--plot", "new.png", "--seed", "3")
    assert out.returncode == 0, out.stderr
    frames = notes_to_frames(read_notes(model_dir / "new.mid"))
    assert 0 < len(frames) <= 12 and all(40 <= p <= 80 for f in frames for p in f)
    assert (model_dir / "new.png").stat().st_size > 1000
    out = run("sample", "--model", "m", "--length", "4", "--n", "2", "--out", "two.musicxml", "--seed", "3")
    assert out.returncode == 0 and (model_dir / "two-2.musicxml").is_file()
    out = run("evaluate", "--model", "m", "--data", "songs")
    assert out.returncode == 0, out.stderr
    assert all(name in out.stdout for name in ("nade", "note_frequency", "ngram", "nll_per_frame"))
    out = run("fit", "--data", "jsb", "--kind", "bernoulli", "--print-config")
    assert out.returncode == 0 and "kind: bernoulli" in out.stdout and "max_epochs: 100" in out.stdout


def _one_line_error(out, text):
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lstmkit: error:") and text in lines[0], out.stderr


def test_bad_input_is_one_line(model_dir, capsys, monkeypatch):
    run = lambda *a: run_cli_in_process("music", *a, cwd=model_dir, capsys=capsys, monkeypatch=monkeypatch)
    (model_dir / "text.mid").write_text("not music at all\n")
    _one_line_error(run("evaluate", "--model", "m", "--data", "text.mid"), "not a readable MIDI file")
    (model_dir / "page.musicxml").write_text("<html></html>")
    _one_line_error(run("evaluate", "--model", "m", "--data", "page.musicxml"), "not a readable score")
    write_midi([[]], model_dir / "empty.mid")
    _one_line_error(run("evaluate", "--model", "m", "--data", "empty.mid"), "has no notes")
    write_musicxml([frames_to_notes([[100, 60]])], model_dir / "high.musicxml")
    _one_line_error(run("evaluate", "--model", "m", "--data", "high.musicxml"),
                    "pitch 100 in frame 0 is outside the model's range 40..80")
    _one_line_error(run("sample", "--model", "m", "--soprano", "songs/c0.mid", "--out", "x.mid"),
                    "needs a voices model")
    _one_line_error(run("sample", "--model", "songs", "--out", "x.mid"), "not a saved model")
    _one_line_error(run("sample", "--model", "m", "--out", "x.ogg"), "unknown output type '.ogg'")
    monkeypatch.setenv("PATH", str(model_dir / "no-synthesizers-here"))  # .wav needs fluidsynth / timidity
    _one_line_error(run("sample", "--model", "m", "--out", "x.wav"), "audio: no synthesizer found")
    _one_line_error(run("fit", "--data", "songs", "--kind", "voices", "--out", "v", "--no-progress"),
                    "expected a four-part score")


def _four_parts(top):
    """A four-part piece: the soprano ``top`` (MIDI pitches, a half note each), the others below it."""
    return [[Note(2.0 * i, p - interval, 2.0 * i + 2.0) for i, p in enumerate(top)]
            for interval in (0, 4, 9, 24)]


def test_harmonise_a_soprano_file_as_documented(tmp_path, capsys, monkeypatch):
    """``music fit --kind voices`` then ``music sample --soprano melody.xml``: the melody is kept."""
    for i, top in enumerate(([72, 74, 76, 77], [79, 77, 76, 74], [72, 76, 79, 77])):
        write_musicxml(_four_parts(top), tmp_path / "bach" / f"c{i}.musicxml")
    fit = run_cli("music", "fit", "--data", "bach", "--kind", "voices", "--out", "v", "--hidden-size", "8",
                  "--embed-size", "4", "--num-layers", "1", "--max-sixteenths", "16", "--epochs", "1",
                  "--no-progress", cwd=tmp_path)
    assert fit.returncode == 0, fit.stderr
    melody = [Note(0.0, 74, 2.0), Note(2.0, 72, 3.0), Note(4.0, 71, 8.0)]  # with a rest at beat 3
    write_musicxml([melody], tmp_path / "melody.xml")
    run = lambda *a: run_cli_in_process("music", *a, cwd=tmp_path, capsys=capsys, monkeypatch=monkeypatch)
    out = run("sample", "--model", "v", "--soprano", "melody.xml", "--out", "harmonised.musicxml",
              "--seed", "0")
    assert out.returncode == 0, out.stderr
    parts = read_parts(tmp_path / "harmonised.musicxml")
    assert len(parts) == 4 and parts[0] == melody  # the soprano is the melody, rest included
    assert all(n.end <= 8.0 for part in parts[1:] for n in part)  # the other voices stop with it
    (tmp_path / "words.xml").write_text("<html>not a score</html>")
    _one_line_error(run("sample", "--model", "v", "--soprano", "words.xml", "--out", "x.musicxml"),
                    "not a readable score")
    write_midi([[]], tmp_path / "silent.mid")
    _one_line_error(run("sample", "--model", "v", "--soprano", "silent.mid", "--out", "x.musicxml"),
                    "has no notes")
