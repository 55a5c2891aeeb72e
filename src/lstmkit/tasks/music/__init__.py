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

from __future__ import annotations

from lstmkit.tasks._lazy import lazy_exports

_EXPORTS = {
    "Music": "api",
    "harmonization_accuracy": "api",
    "soprano_tokens": "api",
    "FrameNGram": "baselines",
    "NoteFrequency": "baselines",
    "VoiceNGram": "baselines",
    "WittenBell": "baselines",
    "MusicConfig": "config",
    "MusicDataConfig": "config",
    "MusicModelConfig": "config",
    "bach_chorales": "data",
    "load_jsb": "data",
    "Note": "encoding",
    "frames_to_notes": "encoding",
    "frames_to_roll": "encoding",
    "notes_to_frames": "encoding",
    "roll_to_frames": "encoding",
    "read_notes": "files",
    "read_parts": "files",
    "write_midi": "files",
    "write_musicxml": "files",
    "BernoulliHead": "models",
    "FrameModel": "models",
    "NADEHead": "models",
    "VoiceModel": "models",
    "plot_piano_roll": "plots",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, extra=None)


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
