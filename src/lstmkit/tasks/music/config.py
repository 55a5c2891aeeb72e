"""The music task's configuration: a ``model`` and a ``data`` section (frozen dataclasses).

Training itself is configured by :class:`lstmkit.train.TrainConfig`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lstmkit.tasks.configs import check_choices, from_dict, knob, to_dict

from .encoding import JSB_HIGH, JSB_LOW, TOKEN_HIGH, TOKEN_LOW

KINDS = ("nade", "bernoulli", "voices")
#: chorales per batch when ``MusicDataConfig.batch_size`` is None, by model kind
DEFAULT_BATCH: dict[str, int] = {"nade": 8, "bernoulli": 2, "voices": 8}
#: the music task's TrainConfig defaults: up to 100 epochs, the rate halved after 3 epochs
#: without a better val_loss, early stopping after 10 (the best epoch is kept)
TRAIN_DEFAULTS: dict[str, Any] = {
    "max_epochs": 100, "lr": 2e-3, "schedule": "plateau", "plateau_patience": 3,
    "early_stopping_patience": 10, "accelerator": "cpu",
}


def _positive(owner: str, name: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{owner}.{name}: expected an int >= 1, got {value!r}")


@dataclass(frozen=True)
class MusicModelConfig:
    """What network to train.

    kind: ``"nade"`` (LSTM over piano-roll frames, notes of a frame
        autoregressive: RNN-NADE), ``"bernoulli"`` (the same LSTM, notes of a
        frame independent) or ``"voices"`` (LSTM language model over the four
        voices' tokens per sixteenth; harmonises a given soprano).
    hidden_size, num_layers: the LSTM.
    dropout: on the LSTM's output (and between layers; on the voice
        model's inputs too).
    input_dropout: frame models: dropout on the previous frame the LSTM reads
        (notes of the input frame zeroed with this probability, the rest
        scaled by ``1/(1-p)``; training only), a corruption of the context
        the model must see through.
    zoneout: frame models: zoneout (Krueger et al. 2016) on the LSTM's cell and hidden
        state, ``c_t = z * c_{t-1} + (1 - z) * c~_t`` with ``z ~ Bernoulli(p)``
        in training, ``z = p`` in evaluation (0 = off).
    recurrent_dropout: frame models: variational dropout (Gal & Ghahramani
        2016) on the LSTM's ``h_{t-1}``: one Bernoulli mask per sequence,
        scaled by ``1/(1-p)``, training only (0 = off). Default 0.5, chosen on
        JSB Chorales' ``valid`` split for both frame outputs (NLL per frame,
        LSTM(200): Bernoulli 8.23 at 0, 8.00 at 0.5; NADE 5.68 at 0, 5.36 at
        0.3, 5.23 at 0.5).
    ema_decay: every kind: keep an exponential moving average of the weights
        during training with this decay per optimizer step (debiased at the
        start, see :mod:`lstmkit.tasks.music.training`); validation, early
        stopping, the kept epoch and the saved model use the average (0 = off).
    nade_size: hidden units of the NADE head (``kind="nade"``).
    embed_size: token embedding size (``kind="voices"``).
    """

    kind: str = knob("nade", choices=KINDS,
                     help="nade: frames, notes of a frame autoregressive (RNN-NADE); bernoulli: "
                          "frames, notes independent; voices: four voices' tokens (harmonises)")
    hidden_size: int = knob(256, help="LSTM hidden units")
    num_layers: int = knob(1, help="stacked LSTM layers")
    dropout: float = knob(0.3, help="dropout on the LSTM output (and between layers)")
    input_dropout: float = knob(0.0, help="frame models: dropout on the input (previous) frame")
    zoneout: float = knob(0.0, help="frame models: zoneout on the LSTM's cell and hidden state (0 = off)")
    recurrent_dropout: float = knob(0.5, help="frame models: variational dropout on the LSTM's h_{t-1} "
                                              "(one mask per sequence; 0 = off; 0.5: chosen on JSB valid)")
    ema_decay: float = knob(0.0, help="keep a moving average of the weights with this decay per step; "
                                      "validation and the saved model use it (0 = off)")
    nade_size: int = knob(64, help="hidden units of the NADE output (kind nade)")
    embed_size: int = knob(64, help="token embedding size (kind voices)")

    def __post_init__(self) -> None:
        check_choices(self)
        for name in ("hidden_size", "num_layers", "nade_size", "embed_size"):
            _positive("MusicModelConfig", name, getattr(self, name))
        for name in ("dropout", "input_dropout", "zoneout", "recurrent_dropout", "ema_decay"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
                raise ValueError(f"MusicModelConfig.{name}: expected a float in [0, 1), got {value!r}")

    @property
    def frames(self) -> bool:
        """True for the piano-roll frame models, False for the voice model."""
        return self.kind != "voices"


@dataclass(frozen=True)
class MusicDataConfig:
    """How the music is cut into training examples.

    low, high: MIDI pitch range of the frame models (default JSB's 43..96); a
        pitch outside it is an error, never silently dropped.
    step: quarter notes per frame when frames are read from MIDI / MusicXML
        (JSB Chorales: 1.0).
    transpose: training-time augmentation: each chorale shifted by a random
        number of semitones in ``[-transpose, transpose]`` that keeps it in
        range (0 = off).
    batch_size: chorales per batch; ``None`` takes the kind's default,
        :data:`DEFAULT_BATCH` (2 for ``bernoulli``: the independent-note
        output overfits JSB's 229 chorales, and the noisier, more numerous
        updates of small batches were worth ~0.07 nats/frame on ``valid``
        and ~0.05 on test for JSB, see ``benchmarks/results/music.json``;
        8 for ``nade`` and ``voices``).
    max_sixteenths: the voice model trains on random crops of this many
        sixteenths (4 tokens each) of a chorale.
    ngram_order: order of the n-gram baseline (frames: chords; voices: tokens).
    """

    low: int = knob(JSB_LOW, help="lowest MIDI pitch of the frame models (JSB: 43)")
    high: int = knob(JSB_HIGH, help="highest MIDI pitch of the frame models (JSB: 96)")
    step: float = knob(1.0, help="quarter notes per frame when reading MIDI / MusicXML")
    transpose: int = knob(0, help="training augmentation: random shift of up to this many semitones")
    batch_size: int | None = knob(None, help="chorales per batch (none: 2 for bernoulli, 8 otherwise)")
    max_sixteenths: int = knob(128, help="voices model: training crops of this many sixteenths")
    ngram_order: int = knob(2, help="order of the n-gram baseline (frames: chords; voices: tokens)")

    def __post_init__(self) -> None:
        if not (isinstance(self.low, int) and isinstance(self.high, int)
                and TOKEN_LOW <= self.low < self.high <= TOKEN_HIGH):
            raise ValueError(
                f"MusicDataConfig: expected {TOKEN_LOW} <= low < high <= {TOKEN_HIGH}, "
                f"got low={self.low!r}, high={self.high!r}"
            )
        if not self.step > 0:
            raise ValueError(f"MusicDataConfig.step: expected a float > 0, got {self.step!r}")
        if not isinstance(self.transpose, int) or self.transpose < 0:
            raise ValueError(f"MusicDataConfig.transpose: expected an int >= 0, got {self.transpose!r}")
        if self.batch_size is not None:
            _positive("MusicDataConfig", "batch_size", self.batch_size)
        for name in ("max_sixteenths", "ngram_order"):
            _positive("MusicDataConfig", name, getattr(self, name))

    @property
    def n_pitches(self) -> int:
        return self.high - self.low + 1


@dataclass(frozen=True)
class MusicConfig:
    """The music task's sections: ``model`` and ``data``."""

    model: MusicModelConfig = field(default_factory=MusicModelConfig)
    data: MusicDataConfig = field(default_factory=MusicDataConfig)

    def __post_init__(self) -> None:
        if not isinstance(self.model, MusicModelConfig) or not isinstance(self.data, MusicDataConfig):
            raise TypeError("MusicConfig(model=MusicModelConfig(...), data=MusicDataConfig(...))")

    @property
    def batch_size(self) -> int:
        """Chorales per batch: ``data.batch_size``, or the model kind's :data:`DEFAULT_BATCH`."""
        return self.data.batch_size if self.data.batch_size is not None else DEFAULT_BATCH[self.model.kind]

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> MusicConfig:
        return from_dict(cls, raw)
