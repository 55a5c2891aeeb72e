"""Music generation with LSTMs: polyphonic chorales as piano-roll frames or as four voices.

* :class:`Music` -- the task: ``fit``, ``sample`` (``soprano=`` harmonises),
  ``evaluate`` (the model beside its baselines), ``write`` (MIDI, MusicXML,
  PNG), ``save`` / ``load``.
* Models (:mod:`.models`): :class:`FrameModel` (LSTM + Bernoulli or NADE
  output, exact log-likelihood per frame), :class:`VoiceModel` (LSTM LM over
  the voices' tokens).
* Baselines (:mod:`.baselines`): :class:`NoteFrequency`, :class:`FrameNGram`,
  :class:`VoiceNGram`.
* Encodings (:mod:`.encoding`), files (:mod:`.files`), data (:mod:`.data`),
  :func:`plot_piano_roll`.
"""

from .api import Music, harmonization_accuracy, soprano_tokens
from .baselines import FrameNGram, NoteFrequency, VoiceNGram, WittenBell
from .config import MusicConfig, MusicDataConfig, MusicModelConfig
from .data import bach_chorales, load_jsb
from .encoding import Note, frames_to_notes, frames_to_roll, notes_to_frames, roll_to_frames
from .files import read_notes, read_parts, write_midi, write_musicxml
from .models import BernoulliHead, FrameModel, NADEHead, VoiceModel
from .plots import plot_piano_roll

__all__ = [
    "BernoulliHead",
    "FrameModel",
    "FrameNGram",
    "Music",
    "MusicConfig",
    "MusicDataConfig",
    "MusicModelConfig",
    "NADEHead",
    "Note",
    "NoteFrequency",
    "VoiceModel",
    "VoiceNGram",
    "WittenBell",
    "bach_chorales",
    "frames_to_notes",
    "frames_to_roll",
    "harmonization_accuracy",
    "load_jsb",
    "notes_to_frames",
    "plot_piano_roll",
    "read_notes",
    "read_parts",
    "roll_to_frames",
    "soprano_tokens",
    "write_midi",
    "write_musicxml",
]
