"""`Translate`: the attentional encoder-decoder on the one task life cycle (``OUTPUT = "text"``).

    task = Translate(TranslateConfig(data=TranslateDataConfig(tokenizer="bpe")),
                     train=Translate.default_train(max_epochs=10))
    task.fit(("train.de", "train.en"), val="val.tsv")   # two aligned files, a TSV, pairs or a DataFrame
    task.predict(["ein Haus", "eine Katze"])            # -> translations (a str -> a str)
    task.evaluate("test.tsv")                           # {"lstm": {bleu, chrf}, "copy_source": {...}}
    task.save("model/");  Translate.load("model/")

Sentence pairs are a TSV path (``source<TAB>target``), a pair of aligned
files ``(source_path, target_path)``, two lists ``(sources, targets)`` or a
DataFrame with ``source`` and ``target`` columns. Prediction takes a list of
sentences, one sentence, or a file with one sentence per line. Decoding
follows the ``decode`` section. The baseline is copying the source sentence
(BLEU and chrF of the untranslated text: what the model must beat).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from torch.utils.data import DataLoader

from lstmkit.tasks.base import Task
from lstmkit.text import BucketBatchSampler, Vocab, tokenizer_from_config

from .config import TRAIN_DEFAULTS, TranslateConfig
from .metrics import bleu, chrf
from .model import Seq2Seq, Seq2SeqConfig

__all__ = ["Translate", "read_pairs"]

TASK = "translate"


def read_pairs(data: Any, what: str = "data") -> tuple[list[str], list[str]]:
    """``(sources, targets)`` from a TSV path, two aligned file paths, two lists or a DataFrame."""
    import pandas as pd

    from .api import _check_sentences
    from .data import read_parallel, read_tsv_pairs

    if isinstance(data, (str, os.PathLike)):
        return read_tsv_pairs(data)
    if isinstance(data, pd.DataFrame):
        for name in ("source", "target"):
            if name not in data.columns:
                raise ValueError(f"{what}: no column {name!r}; columns are {list(data.columns)}")
        sources, targets = [str(s) for s in data["source"]], [str(t) for t in data["target"]]
    elif isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(p, (str, os.PathLike))
                                                                     for p in data) and \
            all(os.path.isfile(p) for p in data):
        return read_parallel(data[0], data[1])
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        sources, targets = list(data[0]), list(data[1])
    else:
        raise TypeError(f"{what}: expected a TSV path, (source_file, target_file), (sources, targets) or a "
                        f"DataFrame, got {type(data).__name__}")
    sources = _check_sentences(sources, f"{what} sources")
    targets = _check_sentences(targets, f"{what} targets")
    if len(sources) != len(targets):
        raise ValueError(f"{what}: expected the same number of sources and targets, received "
                         f"{len(sources)} and {len(targets)}")
    return sources, targets


def read_sources(data: Any) -> list[str]:
    """Sentences to translate: a list, a file (one per line)."""
    from .api import _check_sentences
    from .data import read_lines

    if isinstance(data, (str, os.PathLike)) and os.path.isfile(data):
        return read_lines(data)
    return _check_sentences(data, "sentences")


class Translate(Task):
    """An attentional LSTM encoder-decoder (see the module docstring)."""

    NAME: ClassVar[str] = TASK
    CONFIG: ClassVar[type] = TranslateConfig
    TRAIN_DEFAULTS: ClassVar[dict[str, Any]] = TRAIN_DEFAULTS
    SUPPORTS_VAL: ClassVar[bool] = True
    OUTPUT: ClassVar[str] = "text"

    def __init__(self, config: TranslateConfig | None = None, train: Any = None) -> None:
        super().__init__(config, train)
        self.pipeline = None  # TranslationPipeline

    @property
    def is_fitted(self) -> bool:
        return self.pipeline is not None

    def _fit(self, train: Any, val: Any) -> None:
        from .api import TranslationModule, TranslationPipeline, _collate, _tokenizer

        net_cfg, batch = self.config.network(), self.config.data.batch_size
        sources, targets = read_pairs(train, "training data")
        src_tok, tgt_tok = _tokenizer(net_cfg, sources), _tokenizer(net_cfg, targets)
        src_vocab = Vocab.build((src_tok.tokenize(s) for s in sources), min_freq=net_cfg.min_freq,
                                max_size=net_cfg.max_vocab)
        tgt_vocab = Vocab.build((tgt_tok.tokenize(t) for t in targets), min_freq=net_cfg.min_freq,
                                max_size=net_cfg.max_vocab)
        seed = self.train_config.seed
        torch.manual_seed(seed)
        model = Seq2Seq(len(src_vocab), len(tgt_vocab), net_cfg)
        pipeline = TranslationPipeline(model, src_tok, tgt_tok, src_vocab, tgt_vocab, net_cfg)
        pairs = pipeline.encode_pairs(sources, targets)
        sampler = BucketBatchSampler([len(p[0]) for p in pairs], batch, shuffle=True, seed=seed)
        train_dl = DataLoader(pairs, batch_sampler=sampler, collate_fn=_collate)
        val_dl = None
        if val is not None:
            val_pairs = pipeline.encode_pairs(*read_pairs(val, "validation data"))
            val_dl = DataLoader(val_pairs, batch_size=batch, collate_fn=_collate)
        pipeline.fit_result = self._train_member(TranslationModule(model, self.train_config), train_dl, val_dl)
        model.eval()
        self.pipeline = pipeline

    def predict(self, data: str | Sequence[str]) -> str | list[str]:
        """One translation per sentence (one sentence -> one string), decoded by the ``decode`` section."""
        self._check_fitted("predict")
        single = isinstance(data, str) and not os.path.isfile(data)
        sentences = [data] if single else read_sources(data)
        out = self.pipeline.translate(sentences, self.config.decoding(), self.config.decode.decode_batch_size)
        return out[0] if single else out

    def evaluate(self, data: Any, train: Any = None, baselines: bool = True) -> dict[str, dict[str, float]]:
        """Corpus BLEU and chrF (sacrebleu) of the model beside copying the source (``copy_source``)."""
        self._check_fitted("evaluate")
        sources, references = read_pairs(data, "evaluation data")
        out = {"lstm": self.pipeline.evaluate(sources, references, self.config.decoding(),
                                              self.config.decode.decode_batch_size)}
        if baselines:
            out["copy_source"] = {"bleu": bleu(sources, references), "chrf": chrf(sources, references)}
        return out

    # ------------------------------------------------------------------ persistence
    def _state_dict(self) -> dict[str, Any]:
        return {k: v.detach().clone().contiguous() for k, v in self.pipeline.model.state_dict().items()}

    def _extras(self) -> dict[str, Any]:
        p = self.pipeline
        return {"src_tokenizer": p.src_tokenizer.to_config(), "tgt_tokenizer": p.tgt_tokenizer.to_config(),
                "src_vocab": p.src_vocab.to_dict(), "tgt_vocab": p.tgt_vocab.to_dict()}

    def _restore(self, saved: Any) -> None:
        from .api import TranslationPipeline

        net_cfg = self.config.network()
        src_vocab = Vocab.from_dict(saved.extras["src_vocab"])
        tgt_vocab = Vocab.from_dict(saved.extras["tgt_vocab"])
        model = Seq2Seq(len(src_vocab), len(tgt_vocab), net_cfg)
        saved.load_into(model)
        model.eval()
        self.pipeline = TranslationPipeline(
            model, tokenizer_from_config(saved.extras["src_tokenizer"]),
            tokenizer_from_config(saved.extras["tgt_tokenizer"]), src_vocab, tgt_vocab, net_cfg)

    @classmethod
    def config_from_record(cls, record: Any) -> tuple[Any, Any]:
        """Also reads the 0.1 layout (one flat ``model`` section)."""
        if "data" in record:
            return super().config_from_record(record)
        return TranslateConfig.from_network(Seq2SeqConfig(**record["model"])), cls.default_train()

    @classmethod
    def from_pipeline(cls, pipeline: Any, train: Any = None, batch_size: int = 32) -> Translate:
        task = cls(TranslateConfig.from_network(pipeline.config, batch_size), train)
        task.pipeline = pipeline
        return task
