"""The speech task's configuration: ``model``, ``data`` and ``decode`` sections (frozen, validated).

Training knobs are the one :class:`lstmkit.train.TrainConfig`; every field
here is also a CLI flag and a YAML key (:mod:`lstmkit.tasks.configs`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lstmkit.tasks.configs import check_choices, from_dict, knob, to_dict

MODES = ("ctc", "words")
POOLINGS = ("mean", "last")
CMVN = ("utterance", "global", "none")
DECODERS = ("greedy", "beam")
CTC_BASELINES = ("prior", "pocketsphinx")
WORD_BASELINES = ("dtw", "hmm")
COVARIANCES = ("diag", "full", "spherical")

TRAIN_DEFAULTS: dict[str, Any] = {  # the TrainConfig fields Speech sets differently
    "max_epochs": 30, "lr": 2e-3, "weight_decay": 1e-5, "schedule": "cosine", "min_lr_ratio": 0.05,
    "warmup_steps": 20, "gradient_clip_val": 5.0, "accelerator": "cpu",
}


def _positive(name: str, value: Any, low: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, received {value!r}")


@dataclass(frozen=True)
class SpeechModelConfig:
    """The network.

    Attributes:
        mode: ``ctc``: frames -> characters with a CTC head (transcription);
            ``words``: one class per utterance (isolated words) from the
            pooled LSTM outputs.
        hidden_size, num_layers, bidirectional, proj_size: the stacked LSTM
            (``proj_size`` > 0: LSTMP, outputs projected to that width).
        stack: frame stacking: ``stack`` consecutive frames are concatenated
            into one step, so the LSTM runs ``stack`` times fewer steps.
        pooling: ``words`` mode: ``mean`` over the valid steps or ``last``
            (each direction's final state).
        dropout: between LSTM layers and before the head.
        hmm_states, hmm_mixtures, hmm_covariance: ``words`` mode: the GMM-HMM
            per class reported beside the network by ``evaluate``.
    """

    mode: str = knob("ctc", choices=MODES, help="ctc: transcribe characters; words: one class per utterance")
    hidden_size: int = knob(128, help="LSTM hidden units per direction")
    num_layers: int = knob(2, help="stacked LSTM layers")
    bidirectional: bool = knob(True, help="read each utterance in both directions (off for streaming)")
    proj_size: int = knob(0, help="LSTM output projection width (0: none)")
    stack: int = knob(2, help="frames concatenated into one LSTM step (subsampling; 1: off)")
    pooling: str = knob("mean", choices=POOLINGS, help="words mode: how LSTM outputs become one vector")
    dropout: float = knob(0.1, help="dropout between layers and before the head, in [0, 1)")
    hmm_states: int = knob(5, help="words mode baseline: HMM states per class")
    hmm_mixtures: int = knob(1, help="words mode baseline: Gaussian mixture components per state")
    hmm_covariance: str = knob("diag", choices=COVARIANCES, help="words mode baseline: covariance type")

    def __post_init__(self) -> None:
        check_choices(self)
        for name in ("hidden_size", "num_layers", "stack", "hmm_states", "hmm_mixtures"):
            _positive(name, getattr(self, name))
        _positive("proj_size", self.proj_size, 0)
        if self.proj_size >= self.hidden_size:
            raise ValueError(f"proj_size must be below hidden_size ({self.hidden_size}), received {self.proj_size}")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), received {self.dropout!r}")


@dataclass(frozen=True)
class SpeechDataConfig:
    """How audio becomes features, and how manifests are read.

    Attributes:
        path_col, text_col: manifest columns (CSV or TSV with a header):
            the audio file (relative paths are relative to the manifest) and
            its transcript (``ctc``) or label (``words``).
        sample_rate: audio is resampled to this rate.
        n_mels, win_ms, hop_ms: the log-mel filterbank.
        cmvn: ``utterance`` (each utterance to mean 0, variance 1),
            ``global`` (training-set mean and variance; needed to stream) or ``none``.
        lowercase: transcripts are lowercased (and whitespace collapsed).
        freq_masks, freq_width, time_masks, time_width: SpecAugment on the
            training batches (0 masks: off).
        batch_size: utterances per batch.
        val_fraction: held out of the training data for the kept epoch when
            ``fit`` gets no ``val`` (0: none).
    """

    path_col: str = knob("path", help="manifest column with the audio file")
    text_col: str = knob("transcript", help="manifest column with the transcript (or word label)")
    sample_rate: int = knob(16000, help="audio is resampled to this rate (Hz)")
    n_mels: int = knob(40, help="log-mel filterbank channels")
    win_ms: float = knob(25.0, help="analysis window (ms)")
    hop_ms: float = knob(10.0, help="frame shift (ms)")
    cmvn: str = knob("utterance", choices=CMVN, help="feature normalisation: per utterance, global, none")
    lowercase: bool = knob(True, help="lowercase transcripts")
    freq_masks: int = knob(0, help="SpecAugment: frequency masks per training utterance")
    freq_width: int = knob(8, help="SpecAugment: widest frequency mask (features)")
    time_masks: int = knob(0, help="SpecAugment: time masks per training utterance")
    time_width: int = knob(20, help="SpecAugment: longest time mask (frames)")
    batch_size: int = knob(16, help="utterances per batch")
    val_fraction: float = knob(0.0, help="share of the training data held out when no --val-data (0: none)")

    def __post_init__(self) -> None:
        check_choices(self)
        for name in ("sample_rate", "n_mels", "batch_size"):
            _positive(name, getattr(self, name))
        for name in ("freq_masks", "freq_width", "time_masks", "time_width"):
            _positive(name, getattr(self, name), 0)
        if self.sample_rate < 4000:
            raise ValueError(f"sample_rate must be at least 4000 Hz, received {self.sample_rate}")
        if not 0 < float(self.hop_ms) <= float(self.win_ms):
            raise ValueError(f"need 0 < hop_ms <= win_ms, received {self.hop_ms}, {self.win_ms}")
        if not 0.0 <= float(self.val_fraction) < 0.9:
            raise ValueError(f"val_fraction must be in [0, 0.9), received {self.val_fraction!r}")


@dataclass(frozen=True)
class SpeechDecodeConfig:
    """How ``ctc`` models turn frame posteriors into text.

    Attributes:
        decoder: ``greedy`` (best path, repeats merged, blanks dropped) or
            ``beam`` (CTC prefix beam search).
        beam_size: prefixes kept per frame.
        lm_order, lm_weight: beam only: a character Kneser-Ney n-gram of
            ``lm_order`` trained on the training transcripts, added with
            weight ``lm_weight`` to the log-probability of each character
            (shallow fusion; 0: no LM).
        lexicon: beam only: every word of a hypothesis must be a training word.
        chunk_ms: streaming: audio per chunk.
    """

    decoder: str = knob("greedy", choices=DECODERS, help="greedy or beam (CTC prefix beam search)")
    beam_size: int = knob(8, help="beam: prefixes kept per frame")
    lm_order: int = knob(4, help="beam: order of the character n-gram LM")
    lm_weight: float = knob(0.0, help="beam: weight of the character LM (0: none)")
    lexicon: bool = knob(False, help="beam: only words seen in the training transcripts")
    chunk_ms: float = knob(200.0, help="streaming: audio per chunk (ms)")

    def __post_init__(self) -> None:
        check_choices(self)
        _positive("beam_size", self.beam_size)
        _positive("lm_order", self.lm_order)
        if float(self.lm_weight) < 0:
            raise ValueError(f"lm_weight must be >= 0, received {self.lm_weight!r}")
        if float(self.chunk_ms) <= 0:
            raise ValueError(f"chunk_ms must be > 0, received {self.chunk_ms!r}")


@dataclass(frozen=True)
class SpeechConfig:
    """Everything :class:`~lstmkit.tasks.speech.Speech` needs besides the data and the training knobs."""

    model: SpeechModelConfig = field(default_factory=SpeechModelConfig)
    data: SpeechDataConfig = field(default_factory=SpeechDataConfig)
    decode: SpeechDecodeConfig = field(default_factory=SpeechDecodeConfig)

    def __post_init__(self) -> None:
        if not (isinstance(self.model, SpeechModelConfig) and isinstance(self.data, SpeechDataConfig)
                and isinstance(self.decode, SpeechDecodeConfig)):
            raise TypeError("SpeechConfig(model=SpeechModelConfig(...), data=SpeechDataConfig(...), "
                            "decode=SpeechDecodeConfig(...))")

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> SpeechConfig:
        return from_dict(cls, raw)
