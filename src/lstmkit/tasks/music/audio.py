"""Audio rendering of a MIDI file through a synthesizer installed on the system (optional).

``render_wav(midi, wav)`` runs, the first one found on ``PATH``:

* ``fluidsynth -ni -F WAV -r 44100 SOUNDFONT MIDI`` with the General MIDI
  soundfont named by ``$LSTMKIT_SOUNDFONT`` or the first of
  :data:`SOUNDFONTS` that exists (Debian: ``apt-get install fluidsynth
  fluid-soundfont-gm``);
* ``timidity MIDI -Ow -o WAV`` (Debian: ``apt-get install timidity``).

Neither is a Python dependency and no test needs one: without a synthesizer
the call is a one-line ``ValueError`` that says what to install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

SOUNDFONTS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/TimGM6mb.sf2",
    "/usr/share/soundfonts/default.sf2",
)


def _soundfont() -> str | None:
    named = os.environ.get("LSTMKIT_SOUNDFONT")
    if named:
        if not Path(named).is_file():
            raise ValueError(f"LSTMKIT_SOUNDFONT='{named}' is not a file")
        return named
    return next((s for s in SOUNDFONTS if Path(s).is_file()), None)


def synth_command(midi: Path, wav: Path) -> list[str]:
    """The command that renders ``midi`` to ``wav``; a one-line ValueError when none is installed."""
    fluidsynth, timidity = shutil.which("fluidsynth"), shutil.which("timidity")
    soundfont = _soundfont() if fluidsynth else None
    if fluidsynth and soundfont:
        return [fluidsynth, "-ni", "-F", str(wav), "-r", "44100", soundfont, str(midi)]
    if timidity:
        return [timidity, str(midi), "-Ow", "-o", str(wav)]
    if fluidsynth:
        raise ValueError("audio: fluidsynth needs a General MIDI soundfont: set LSTMKIT_SOUNDFONT or "
                         "install fluid-soundfont-gm")
    raise ValueError("audio: no synthesizer found: install fluidsynth and fluid-soundfont-gm, or timidity "
                     "(a .mid file needs neither)")


def render_wav(midi: str | os.PathLike, wav: str | os.PathLike) -> Path:
    """Render the MIDI file ``midi`` to the WAV file ``wav`` with the installed synthesizer."""
    midi, wav = Path(midi), Path(wav)
    command = synth_command(midi, wav)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not wav.is_file() or wav.stat().st_size == 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output file"]
        raise ValueError(f"audio: {Path(command[0]).name} failed (exit {done.returncode}): {last[0]}")
    return wav
