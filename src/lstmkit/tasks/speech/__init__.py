"""Speech recognition: `Speech`, a (Bi)LSTM-CTC transcriber and isolated-word classifier (see `api`).

Public API: `Speech`, the configs (`SpeechConfig`, `SpeechModelConfig`,
`SpeechDataConfig`, `SpeechDecodeConfig`), the audio front end (`read_audio`,
`log_mel`, `mel_matrix`, `cmvn`, `spec_augment`), the readers
(`read_utterances`, `Vocabulary`), the network (`SpeechNet`), CTC decoding
(`greedy`, `prefix_beam_search`, `CharLM`, `Lexicon`), `error_rates`, the
baselines (`HMMClassifier`, `Pocketsphinx`) and `real_time_factor`.

Names are imported on first use, so reading the configs (what the command line
needs to build its parsers) does not load torch's trainer.
"""

from __future__ import annotations

from lstmkit.tasks._lazy import lazy_exports

_EXPORTS = {
    "Speech": "api", "real_time_factor": "api",
    "SpeechConfig": "config", "SpeechModelConfig": "config", "SpeechDataConfig": "config",
    "SpeechDecodeConfig": "config", "TRAIN_DEFAULTS": "config",
    "read_audio": "audio", "log_mel": "audio", "mel_matrix": "audio", "cmvn": "audio", "spec_augment": "audio",
    "read_utterances": "data", "Vocabulary": "data",
    "SpeechNet": "model",
    "greedy": "decode", "prefix_beam_search": "decode", "CharLM": "decode", "Lexicon": "decode",
    "error_rates": "metrics",
    "HMMClassifier": "baselines", "Pocketsphinx": "baselines",
}
__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
