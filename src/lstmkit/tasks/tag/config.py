"""The tagger's configuration: a ``model`` and a ``data`` section (frozen, validated).

Training knobs (epochs, learning rate, seed, monitor, ...) are the one
`lstmkit.train.TrainConfig`; every field here is also a CLI flag and a YAML
key (`lstmkit.tasks.configs`). :meth:`TagConfig.network` gives the flat
:class:`~lstmkit.tasks.tag.model.TaggerConfig` each network reads (the 0.1
layout, still accepted by ``Tagger``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lstmkit.tasks.configs import check_choices, from_dict, knob, to_dict

HEADS = ("crf", "softmax")
FORMATS = ("auto", "conllu", "conll")
TRAIN_DEFAULTS: dict[str, Any] = {"max_epochs": 30, "lr": 2e-3}


@dataclass(frozen=True)
class TagModelConfig:
    """The network(s): word and character encoders, sentence BiLSTM, head; the ensemble size."""

    head: str = knob("crf", choices=HEADS, help="output layer: linear-chain CRF or per-token softmax")
    bio: bool = knob(True, help="forbid invalid BIO transitions in the CRF")
    embed_size: int = knob(100, help="word embedding size")
    char_embed_size: int = knob(32, help="character embedding size")
    char_hidden_size: int = knob(50, help="character BiLSTM units per direction (0: no character encoder)")
    hidden_size: int = knob(128, help="sentence BiLSTM units per direction")
    num_layers: int = knob(1, help="stacked sentence BiLSTM layers")
    dropout: float = knob(0.33, help="dropout on the embeddings and the LSTM outputs, in [0, 1)")
    word_dropout: float = knob(0.05, help="probability of replacing a training word by <unk>")
    subword_buckets: int = knob(0, help="hashed character n-gram buckets added to each word embedding (0: off)")
    subword_min_n: int = knob(2, help="shortest character n-gram of the subword features")
    subword_max_n: int = knob(4, help="longest character n-gram of the subword features")
    lexicon: str | None = knob(None, help="Hunspell dictionary NAME.dic (NAME.aff beside it) whose word-class "
                                          "features are added to each word")
    lexicon_size: int = knob(50, help="lexicon feature embedding size")
    vectors: str | None = knob(None, help="GloVe / word2vec text file the word embedding starts from "
                                          "(its size must equal --embed-size)")
    members: int = knob(1, help="ensemble size: member k trains with seed + k (and, without validation "
                                "data, holds out validation fold k); the members decode as one CRF")

    def __post_init__(self) -> None:
        check_choices(self)
        if isinstance(self.members, bool) or not isinstance(self.members, int) or self.members < 1:
            raise ValueError(f"members must be an integer >= 1, received {self.members!r}")


@dataclass(frozen=True)
class TagDataConfig:
    """How CoNLL(-U) sentences are read, batched and split."""

    format: str = knob("auto", choices=FORMATS,
                       help="file format (auto: .conllu suffix or 10 tab-separated columns = CoNLL-U)")
    column: str = knob("upos", help="CoNLL-U tag column: a name (upos, xpos, ...) or 1..10")
    lowercase: bool = knob(True, help="lowercase words for the word vocabulary (characters keep case)")
    min_freq: int = knob(1, help="minimum word count for the vocabulary")
    max_vocab: int | None = knob(None, help="largest word vocabulary (none: no limit)")
    batch_size: int = knob(32, help="sentences per batch")
    folds: int = knob(10, help="without validation data: member k holds out fold k of this many "
                               "(fold 0: the last sentences)")

    def __post_init__(self) -> None:
        check_choices(self)
        if isinstance(self.folds, bool) or not isinstance(self.folds, int) or self.folds < 2:
            raise ValueError(f"folds must be an integer >= 2, received {self.folds!r}")


@dataclass(frozen=True)
class TagConfig:
    """Everything `Tag` needs besides the data and the training knobs."""

    model: TagModelConfig = field(default_factory=TagModelConfig)
    data: TagDataConfig = field(default_factory=TagDataConfig)

    def __post_init__(self) -> None:
        if not isinstance(self.model, TagModelConfig) or not isinstance(self.data, TagDataConfig):
            raise TypeError("TagConfig(model=TagModelConfig(...), data=TagDataConfig(...))")
        self.network()

    def network(self) -> Any:
        """The flat ``TaggerConfig`` each network reads."""
        from .model import TaggerConfig

        m, d = self.model, self.data
        return TaggerConfig(
            word_dim=m.embed_size, char_dim=m.char_embed_size, char_hidden=m.char_hidden_size,
            hidden=m.hidden_size, num_layers=m.num_layers, dropout=m.dropout, word_dropout=m.word_dropout,
            head=m.head, bio=m.bio, min_freq=d.min_freq, max_vocab=d.max_vocab, lowercase=d.lowercase,
            batch_size=d.batch_size, subword_buckets=m.subword_buckets, subword_min_n=m.subword_min_n,
            subword_max_n=m.subword_max_n, lexicon=m.lexicon, lexicon_dim=m.lexicon_size)

    @classmethod
    def from_network(cls, flat: Any, members: int = 1, **data: Any) -> TagConfig:
        """The sectioned config of a flat 0.1 ``TaggerConfig``."""
        model = TagModelConfig(
            head=flat.head, bio=flat.bio, embed_size=flat.word_dim, char_embed_size=flat.char_dim,
            char_hidden_size=flat.char_hidden, hidden_size=flat.hidden, num_layers=flat.num_layers,
            dropout=flat.dropout, word_dropout=flat.word_dropout, subword_buckets=flat.subword_buckets,
            subword_min_n=flat.subword_min_n, subword_max_n=flat.subword_max_n, lexicon=flat.lexicon,
            lexicon_size=flat.lexicon_dim, members=members)
        section = TagDataConfig(lowercase=flat.lowercase, min_freq=flat.min_freq, max_vocab=flat.max_vocab,
                                batch_size=flat.batch_size, **data)
        return cls(model=model, data=section)

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TagConfig:
        return from_dict(cls, raw)
