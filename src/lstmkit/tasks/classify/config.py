"""The classifier's configuration: a ``model`` and a ``data`` section (frozen, validated).

Training knobs (epochs, learning rate, seed, monitor, ...) are the one
`lstmkit.train.TrainConfig`; every field here is also a CLI flag and a YAML
key (`lstmkit.tasks.configs`). :meth:`ClassifyConfig.network` gives the flat
:class:`~lstmkit.tasks.classify.model.ClassifierConfig` the network and the
text encoder read (the 0.1 layout, still accepted by ``TextClassifier``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lstmkit.tasks.configs import check_choices, from_dict, knob, to_dict

POOLINGS = ("last", "max", "mean", "attention")
TOKENIZERS = ("word", "char", "bpe")
TASKS = ("classes", "regression")
TRAIN_DEFAULTS: dict[str, Any] = {"max_epochs": 10, "lr": 2e-3}


@dataclass(frozen=True)
class ClassifyModelConfig:
    """The network: embedding, (Bi)LSTM, pooling, head; how its embedding starts."""

    task: str = knob("classes", choices=TASKS, help="predict classes or a numeric score (regression)")
    pooling: str = knob("max", choices=POOLINGS, help="how the LSTM outputs become one vector")
    embed_size: int = knob(128, help="token embedding size")
    hidden_size: int = knob(128, help="LSTM hidden units per direction")
    num_layers: int = knob(1, help="stacked LSTM layers")
    bidirectional: bool = knob(True, help="read the text in both directions")
    attn_size: int = knob(64, help="attention pooling: size of the scoring layer")
    dropout: float = knob(0.4, help="dropout on the embeddings and the pooled vector, in [0, 1)")
    embed_dropout: float = knob(0.1, help="probability of replacing a training token by <unk> (word dropout)")
    subword_buckets: int = knob(0, help="hashed character n-gram buckets added to each token embedding (0: off)")
    subword_min_n: int = knob(2, help="shortest character n-gram of the subword features")
    subword_max_n: int = knob(4, help="longest character n-gram of the subword features")
    vectors: str | None = knob(None, help="GloVe / word2vec text file the token embedding starts from "
                                          "(its size must equal --embed-size)")
    encoder: str | None = knob(None, help="'generate fit' model directory whose embedding and LSTM the "
                                          "classifier starts from (ULMFiT-style transfer)")
    freeze_epochs: int = knob(1, help="transfer: epochs with the pretrained encoder frozen")
    unfreeze_every: int = knob(1, help="transfer: then unfreeze one layer (top first) every this many epochs")

    def __post_init__(self) -> None:
        check_choices(self)
        if self.vectors is not None and self.encoder is not None:
            raise ValueError("give vectors or encoder, not both: both initialise the token embedding")
        for name in ("freeze_epochs", "unfreeze_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, received {value!r}")


@dataclass(frozen=True)
class ClassifyDataConfig:
    """How a table of texts is read, tokenized, batched and split."""

    text_col: str = knob("text", help="name of the text column")
    label_col: str = knob("label", help="name of the label (or score) column")
    delimiter: str | None = knob(None, help="field separator of CSV/TSV files (none: tab for .tsv, else comma)")
    tokenizer: str = knob("word", choices=TOKENIZERS, help="token unit")
    lowercase: bool = knob(True, help="lowercase the text before tokenizing")
    bpe_vocab_size: int = knob(8000, help="BPE tokenizer: vocabulary size learned on the training texts")
    min_freq: int = knob(1, help="minimum token count for the vocabulary")
    max_vocab: int | None = knob(50000, help="largest vocabulary (none: no limit)")
    max_tokens: int = knob(400, help="longer texts are cut to this many tokens")
    batch_size: int = knob(32, help="texts per batch")
    val_fraction: float = knob(0.1, help="without validation data: fraction of the training rows held out "
                                         "(shuffled with the seed; 0: none)")

    def __post_init__(self) -> None:
        check_choices(self)
        if not 0.0 <= float(self.val_fraction) < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), received {self.val_fraction!r}")


@dataclass(frozen=True)
class ClassifyConfig:
    """Everything `Classify` needs besides the data and the training knobs."""

    model: ClassifyModelConfig = field(default_factory=ClassifyModelConfig)
    data: ClassifyDataConfig = field(default_factory=ClassifyDataConfig)

    def __post_init__(self) -> None:
        if not isinstance(self.model, ClassifyModelConfig) or not isinstance(self.data, ClassifyDataConfig):
            raise TypeError("ClassifyConfig(model=ClassifyModelConfig(...), data=ClassifyDataConfig(...))")
        self.network()  # the network's own checks (sizes >= 1, dropout in [0, 1), ...)

    def network(self) -> Any:
        """The flat ``ClassifierConfig`` the network and the text encoder read."""
        from .model import ClassifierConfig

        m, d = self.model, self.data
        return ClassifierConfig(
            task=m.task, tokenizer=d.tokenizer, lowercase=d.lowercase, bpe_vocab_size=d.bpe_vocab_size,
            min_freq=d.min_freq, max_vocab=d.max_vocab, embed_dim=m.embed_size, hidden=m.hidden_size,
            num_layers=m.num_layers, bidirectional=m.bidirectional, pooling=m.pooling, attn_size=m.attn_size,
            dropout=m.dropout, embed_dropout=m.embed_dropout, max_tokens=d.max_tokens, batch_size=d.batch_size,
            subword_buckets=m.subword_buckets, subword_min_n=m.subword_min_n, subword_max_n=m.subword_max_n)

    @classmethod
    def from_network(cls, flat: Any, **data: Any) -> ClassifyConfig:
        """The sectioned config of a flat 0.1 ``ClassifierConfig`` (``data``: more data fields)."""
        model = ClassifyModelConfig(
            task=flat.task, pooling=flat.pooling, embed_size=flat.embed_dim, hidden_size=flat.hidden,
            num_layers=flat.num_layers, bidirectional=flat.bidirectional, attn_size=flat.attn_size,
            dropout=flat.dropout, embed_dropout=flat.embed_dropout, subword_buckets=flat.subword_buckets,
            subword_min_n=flat.subword_min_n, subword_max_n=flat.subword_max_n)
        section = ClassifyDataConfig(
            tokenizer=flat.tokenizer, lowercase=flat.lowercase, bpe_vocab_size=flat.bpe_vocab_size,
            min_freq=flat.min_freq, max_vocab=flat.max_vocab, max_tokens=flat.max_tokens,
            batch_size=flat.batch_size, **data)
        return cls(model=model, data=section)

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ClassifyConfig:
        return from_dict(cls, raw)
