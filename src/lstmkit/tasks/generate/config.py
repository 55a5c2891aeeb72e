"""The language model's configuration: ``model``, ``data`` and ``sample`` sections (frozen, validated).

Training knobs (epochs, learning rate, seed, ...) are the one
`lstmkit.train.TrainConfig`; every field here is also a CLI flag and a YAML
key (`lstmkit.tasks.configs`). :meth:`GenerateConfig.network`,
:meth:`GenerateConfig.stream` and :meth:`GenerateConfig.sampling` give the
flat configs of 0.1 (``LanguageModelConfig``, ``StreamConfig``,
``SamplingConfig``), which the network, the stream and the sampler read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lstmkit.tasks.configs import check_choices, from_dict, knob, to_dict

TOKENIZERS = ("char", "word", "bpe")
TRAIN_DEFAULTS: dict[str, Any] = {"max_epochs": 5}


@dataclass(frozen=True)
class GenerateModelConfig:
    """The network: embedding, LSTM stack, output layer."""

    embed_size: int = knob(64, help="token embedding size")
    hidden_size: int = knob(256, help="LSTM hidden units per layer")
    num_layers: int = knob(2, help="stacked LSTM layers")
    dropout: float = knob(0.1, help="dropout on the embeddings, between layers and before the output, in [0, 1)")
    recurrent_dropout: float = knob(0.0, help="variational dropout on h inside the LSTM (one mask per sequence)")
    weight_drop: float = knob(0.0, help="DropConnect on the hidden-to-hidden weights (AWD-LSTM)")
    tie_weights: bool = knob(False, help="share the input embedding with the output layer")


@dataclass(frozen=True)
class GenerateDataConfig:
    """How the text becomes one token stream and how that stream is cut; the n-gram baseline's order."""

    tokenizer: str = knob("char", choices=TOKENIZERS, help="token unit (bpe: byte-level BPE)")
    lowercase: bool = knob(False, help="lowercase the text before tokenizing (char and word)")
    min_freq: int = knob(1, help="minimum token count for the vocabulary (word and bpe)")
    max_vocab: int | None = knob(None, help="largest vocabulary (word and bpe; none: no limit)")
    bpe_vocab_size: int = knob(4000, help="BPE tokenizer: vocabulary size learned on the training text")
    batch_size: int = knob(32, help="parallel rows of the training stream")
    bptt: int = knob(100, help="truncated BPTT window length (tokens)")
    eval_batch_size: int = knob(16, help="rows of the stream when scoring held-out text")
    ngram_order: int = knob(5, help="order of the Kneser-Ney baseline evaluate fits on the training text")

    def __post_init__(self) -> None:
        check_choices(self)
        if isinstance(self.ngram_order, bool) or not isinstance(self.ngram_order, int) or self.ngram_order < 1:
            raise ValueError(f"ngram_order must be an integer >= 1, received {self.ngram_order!r}")


@dataclass(frozen=True)
class GenerateSampleConfig:
    """How ``predict`` continues a prime."""

    temperature: float = knob(1.0, help="sampling temperature (below 1 sharpens, above 1 flattens)")
    top_k: int | None = knob(None, help="sample among the k most probable tokens (none: all)")
    top_p: float | None = knob(None, help="sample from the smallest nucleus of this mass, in (0, 1] (none: all)")
    greedy: bool = knob(False, help="always take the most probable token")
    max_length: int = knob(200, help="most tokens generated after the prime")
    stop: tuple[str, ...] = knob((), help="stop once the generated text ends with one of these strings")
    sample_seed: int | None = knob(0, help="seed of the sampler (none: a different continuation every run)")


@dataclass(frozen=True)
class GenerateConfig:
    """Everything `Generate` needs besides the text and the training knobs."""

    model: GenerateModelConfig = field(default_factory=GenerateModelConfig)
    data: GenerateDataConfig = field(default_factory=GenerateDataConfig)
    sample: GenerateSampleConfig = field(default_factory=GenerateSampleConfig)

    def __post_init__(self) -> None:
        if not (isinstance(self.model, GenerateModelConfig) and isinstance(self.data, GenerateDataConfig)
                and isinstance(self.sample, GenerateSampleConfig)):
            raise TypeError("GenerateConfig(model=GenerateModelConfig(...), data=GenerateDataConfig(...), "
                            "sample=GenerateSampleConfig(...))")
        self.network(), self.stream(), self.sampling()  # their own checks

    def network(self) -> Any:
        """The flat ``LanguageModelConfig`` the network reads."""
        from .model import LanguageModelConfig

        m, d = self.model, self.data
        return LanguageModelConfig(
            tokenizer=d.tokenizer, lowercase=d.lowercase, embed_size=m.embed_size, hidden_size=m.hidden_size,
            num_layers=m.num_layers, dropout=m.dropout, recurrent_dropout=m.recurrent_dropout,
            weight_drop=m.weight_drop, tie_weights=m.tie_weights, min_freq=d.min_freq, max_vocab=d.max_vocab,
            bpe_vocab_size=d.bpe_vocab_size)

    def stream(self) -> Any:
        """The ``StreamConfig`` that cuts the token stream."""
        from .training import StreamConfig

        d = self.data
        return StreamConfig(batch_size=d.batch_size, bptt=d.bptt, eval_batch_size=d.eval_batch_size)

    def sampling(self) -> Any:
        """The ``SamplingConfig`` of ``predict``."""
        from .sampling import SamplingConfig

        s = self.sample
        return SamplingConfig(temperature=s.temperature, top_k=s.top_k, top_p=s.top_p, greedy=s.greedy,
                              max_length=s.max_length, stop=tuple(s.stop), seed=s.sample_seed)

    @classmethod
    def from_network(cls, net: Any, stream: Any = None, sampling: Any = None) -> GenerateConfig:
        """The sectioned config of the flat 0.1 configs."""
        from .training import StreamConfig

        stream = stream or StreamConfig()
        model = GenerateModelConfig(
            embed_size=net.embed_size, hidden_size=net.hidden_size, num_layers=net.num_layers,
            dropout=net.dropout, recurrent_dropout=net.recurrent_dropout, weight_drop=net.weight_drop,
            tie_weights=net.tie_weights)
        data = GenerateDataConfig(
            tokenizer=net.tokenizer, lowercase=net.lowercase, min_freq=net.min_freq, max_vocab=net.max_vocab,
            bpe_vocab_size=net.bpe_vocab_size, batch_size=stream.batch_size, bptt=stream.bptt,
            eval_batch_size=stream.eval_batch_size)
        sample = GenerateSampleConfig() if sampling is None else GenerateSampleConfig(
            temperature=sampling.temperature, top_k=sampling.top_k, top_p=sampling.top_p,
            greedy=sampling.greedy, max_length=sampling.max_length, stop=tuple(sampling.stop),
            sample_seed=sampling.seed)
        return cls(model=model, data=data, sample=sample)

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> GenerateConfig:
        return from_dict(cls, raw)


def network_from_record(record: dict[str, Any]) -> Any:
    """The network config of a saved ``generate`` model, either layout (0.1: flat ``model`` + ``stream``)."""
    from .model import LanguageModelConfig

    if "data" not in record:
        return LanguageModelConfig(**record["model"])
    sections = {k: v for k, v in record.items() if k != "train"}
    return from_dict(GenerateConfig, sections).network()
