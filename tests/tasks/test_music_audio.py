"""Audio rendering: which synthesizer command is built, and one-line errors; no synthesizer is needed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from lstmkit.tasks.music import audio


def _installed(monkeypatch, tmp_path, *names):
    """A PATH holding only do-nothing executables called ``names``."""
    (tmp_path / "bin").mkdir(parents=True, exist_ok=True)
    for name in names:
        exe = tmp_path / "bin" / name
        exe.parent.mkdir(parents=True, exist_ok=True)
        exe.write_text("#!/bin/sh\n")
        exe.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))


def test_without_a_synthesizer_the_error_says_what_to_install(monkeypatch, tmp_path):
    _installed(monkeypatch, tmp_path)
    with pytest.raises(ValueError, match="no synthesizer found: install fluidsynth .* or timidity"):
        audio.render_wav(tmp_path / "a.mid", tmp_path / "a.wav")


def test_fluidsynth_with_a_soundfont_first_then_timidity(monkeypatch, tmp_path):
    font = tmp_path / "gm.sf2"
    font.write_bytes(b"sf2")
    _installed(monkeypatch, tmp_path, "fluidsynth", "timidity")
    monkeypatch.setenv("LSTMKIT_SOUNDFONT", str(font))
    cmd = audio.synth_command(Path("a.mid"), Path("a.wav"))
    assert Path(cmd[0]).name == "fluidsynth" and cmd[-2:] == [str(font), "a.mid"] and "a.wav" in cmd
    monkeypatch.delenv("LSTMKIT_SOUNDFONT")
    monkeypatch.setattr(audio, "SOUNDFONTS", ())  # fluidsynth without a soundfont: timidity instead
    cmd = audio.synth_command(Path("a.mid"), Path("a.wav"))
    assert Path(cmd[0]).name == "timidity" and cmd[1:] == ["a.mid", "-Ow", "-o", "a.wav"]
    _installed(monkeypatch, tmp_path / "only", "fluidsynth")
    with pytest.raises(ValueError, match="fluidsynth needs a General MIDI soundfont"):
        audio.synth_command(Path("a.mid"), Path("a.wav"))
    monkeypatch.setenv("LSTMKIT_SOUNDFONT", str(tmp_path / "missing.sf2"))
    with pytest.raises(ValueError, match="is not a file"):
        audio.synth_command(Path("a.mid"), Path("a.wav"))


def test_a_failing_synthesizer_is_one_line(monkeypatch, tmp_path):
    _installed(monkeypatch, tmp_path, "timidity")
    failed = subprocess.CompletedProcess([], 1, stdout="", stderr="reading\nno instruments\n")
    monkeypatch.setattr(audio.subprocess, "run", lambda *a, **k: failed)
    with pytest.raises(ValueError, match=r"audio: timidity failed \(exit 1\): no instruments"):
        audio.render_wav(tmp_path / "a.mid", tmp_path / "a.wav")
