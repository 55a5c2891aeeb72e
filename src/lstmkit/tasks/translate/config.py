"""The translation model's configuration: ``model``, ``data`` and ``decode`` sections (frozen, validated).

Training knobs (epochs, learning rate, seed, ...) are the one
`lstmkit.train.TrainConfig`; every field here is also a CLI flag and a YAML
key (`lstmkit.tasks.configs`). :meth:`TranslateConfig.network` and
:meth:`TranslateConfig.decoding` give the flat configs of 0.1
(``Seq2SeqConfig``, ``DecodeConfig``) that the network and the decoder read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lstmkit.tasks.configs import check_choices, from_dict, knob, to_dict

ATTENTIONS = ("additive", "general", "concat", "none")
TRAIN_DEFAULTS: dict[str, Any] = {"max_epochs": 10}


@dataclass(frozen=True)
class TranslateModelConfig:
    """The encoder-decoder: sizes, attention, input feeding."""

    embed_size: int = knob(128, help="source and target embedding size")
    hidden_size: int = knob(256, help="encoder units per direction and decoder units")
    num_layers: int = knob(1, help="layers of the encoder and of the decoder")
    dropout: float = knob(0.2, help="dropout on embeddings, between layers and on the attentional state")
    attention: str = knob("additive", choices=ATTENTIONS,
                          help="additive (Bahdanau), general / concat (Luong) or none")
    input_feeding: bool = knob(True, help="feed the previous attentional state into the decoder input")


@dataclass(frozen=True)
class TranslateDataConfig:
    """How sentences are tokenized, cut and batched."""

    tokenizer: str = knob("word", choices=("word", "bpe"), help="token unit (bpe: byte-level BPE per language)")
    lowercase: bool = knob(False, help="lowercase both sides (word tokenizer)")
    max_source_len: int = knob(100, help="longer sources are cut (with a warning)")
    max_target_len: int = knob(120, help="longer training targets are cut (with a warning)")
    min_freq: int = knob(2, help="minimum token count for each vocabulary (word tokenizer)")
    max_vocab: int | None = knob(20000, help="largest vocabulary per language (none: no limit)")
    bpe_vocab_size: int = knob(4000, help="BPE tokenizer: vocabulary size learned per language")
    batch_size: int = knob(32, help="sentence pairs per training batch")

    def __post_init__(self) -> None:
        check_choices(self)
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ValueError(f"batch_size (--batch-size): expected an integer >= 1, received {self.batch_size!r}")


@dataclass(frozen=True)
class TranslateDecodeConfig:
    """How ``predict`` and ``evaluate`` decode."""

    beam_size: int = knob(5, help="beam size (1: greedy)")
    max_length: int = knob(120, help="most target tokens per translation")
    length_penalty: float = knob(0.6, help="alpha of the length normalisation ((5 + |y|) / 6)^alpha")
    decode_batch_size: int = knob(32, help="sentences decoded at once")


@dataclass(frozen=True)
class TranslateConfig:
    """Everything `Translate` needs besides the sentence pairs and the training knobs."""

    model: TranslateModelConfig = field(default_factory=TranslateModelConfig)
    data: TranslateDataConfig = field(default_factory=TranslateDataConfig)
    decode: TranslateDecodeConfig = field(default_factory=TranslateDecodeConfig)

    def __post_init__(self) -> None:
        if not (isinstance(self.model, TranslateModelConfig) and isinstance(self.data, TranslateDataConfig)
                and isinstance(self.decode, TranslateDecodeConfig)):
            raise TypeError("TranslateConfig(model=TranslateModelConfig(...), data=TranslateDataConfig(...), "
                            "decode=TranslateDecodeConfig(...))")
        self.network(), self.decoding()
        if self.decode.decode_batch_size < 1:
            raise ValueError("decode_batch_size (--decode-batch-size, formerly --batch-size): expected an "
                             "integer >= 1, received "
                             f"{self.decode.decode_batch_size!r}")

    def network(self) -> Any:
        """The flat ``Seq2SeqConfig`` the network reads."""
        from .model import Seq2SeqConfig

        m, d = self.model, self.data
        return Seq2SeqConfig(
            tokenizer=d.tokenizer, lowercase=d.lowercase, embed_size=m.embed_size, hidden_size=m.hidden_size,
            num_layers=m.num_layers, dropout=m.dropout, attention=m.attention, input_feeding=m.input_feeding,
            max_source_len=d.max_source_len, max_target_len=d.max_target_len, min_freq=d.min_freq,
            max_vocab=d.max_vocab, bpe_vocab_size=d.bpe_vocab_size)

    def decoding(self) -> Any:
        """The ``DecodeConfig`` of ``predict`` and ``evaluate``."""
        from .decode import DecodeConfig

        c = self.decode
        return DecodeConfig(beam_size=c.beam_size, max_length=c.max_length, length_penalty=c.length_penalty)

    @classmethod
    def from_network(cls, net: Any, batch_size: int = 32) -> TranslateConfig:
        """The sectioned config of a flat 0.1 ``Seq2SeqConfig``."""
        model = TranslateModelConfig(embed_size=net.embed_size, hidden_size=net.hidden_size,
                                     num_layers=net.num_layers, dropout=net.dropout, attention=net.attention,
                                     input_feeding=net.input_feeding)
        data = TranslateDataConfig(tokenizer=net.tokenizer, lowercase=net.lowercase,
                                   max_source_len=net.max_source_len, max_target_len=net.max_target_len,
                                   min_freq=net.min_freq, max_vocab=net.max_vocab,
                                   bpe_vocab_size=net.bpe_vocab_size, batch_size=batch_size)
        return cls(model=model, data=data)

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TranslateConfig:
        return from_dict(cls, raw)
