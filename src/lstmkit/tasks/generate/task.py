"""`Generate`: the LSTM language model on the one task life cycle (``OUTPUT = "text"``).

    task = Generate(GenerateConfig(data=GenerateDataConfig(tokenizer="word", bptt=70)),
                    train=Generate.default_train(max_epochs=5))
    task.fit("train.txt", val="val.txt")    # one document per non-empty line (or a list of strings)
    task.predict("In the beginning")        # -> the continuation (a list of primes -> a list)
    task.evaluate("test.txt", train="train.txt")   # lstm, unigram, kneser_ney_<n>gram
    task.save("model/");  Generate.load("model/")

``predict`` samples with the ``sample`` section (seeded: the same prime gives
the same text; ``sample_seed: none`` for a fresh one each call).
``evaluate`` reports held-out loss (nats per token), perplexity and, for
characters, bits per character, beside an add-one unigram model (counts
kept with the model) and, given the training text, interpolated Kneser-Ney
of order ``data.ngram_order``; all score the same token stream.
``LanguageModelPipeline`` (:attr:`Generate.pipeline`) streams and samples
with any :class:`SamplingConfig`.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from torch.utils.data import DataLoader

from lstmkit.tasks.base import Task
from lstmkit.text import Vocab, tokenizer_from_config

from .config import TRAIN_DEFAULTS, GenerateConfig
from .model import LanguageModel, LanguageModelConfig
from .ngram import KneserNeyLM, UnigramLM
from .training import LanguageModelModule, StreamConfig, StreamWindows, batchify

__all__ = ["Generate", "read_documents"]

TASK = "generate"


def read_documents(data: Any, what: str = "texts") -> list[str]:
    """Documents from a UTF-8 file (each non-empty line) or a sequence of strings."""
    if isinstance(data, (str, os.PathLike)) and not (isinstance(data, str) and "\n" in data) \
            and os.path.isfile(data):
        from lstmkit.text import read_text_lines

        docs = [line for line in read_text_lines(data) if line.strip()]
        if not docs:
            raise ValueError(f"{data}: the file has no text; expected one document per line")
        return docs
    if isinstance(data, (str, os.PathLike)):
        raise ValueError(f"{what}: no such file '{data}' (pass a list of strings for text itself)")
    from .api import _check_texts

    return _check_texts(data, what)


class Generate(Task):
    """An LSTM language model (see the module docstring)."""

    NAME: ClassVar[str] = TASK
    CONFIG: ClassVar[type] = GenerateConfig
    TRAIN_DEFAULTS: ClassVar[dict[str, Any]] = TRAIN_DEFAULTS
    SUPPORTS_VAL: ClassVar[bool] = True
    OUTPUT: ClassVar[str] = "text"

    def __init__(self, config: GenerateConfig | None = None, train: Any = None) -> None:
        super().__init__(config, train)
        self.pipeline = None  # LanguageModelPipeline
        self.unigram: dict[int, int] = {}

    @property
    def is_fitted(self) -> bool:
        return self.pipeline is not None

    def _fit(self, train: Any, val: Any) -> None:
        from .api import LanguageModelPipeline, build_tokenizer

        net_cfg, stream_cfg = self.config.network(), self.config.stream()
        texts = read_documents(train, "training data")
        tokenizer = build_tokenizer(net_cfg, texts)
        token_lists = [tokenizer.tokenize(t) for t in texts]
        if net_cfg.tokenizer == "char":
            token_lists.append(["\n"])
            vocab = Vocab.build(token_lists, min_freq=1)
        else:
            vocab = Vocab.build(token_lists, min_freq=net_cfg.min_freq, max_size=net_cfg.max_vocab)
        torch.manual_seed(self.train_config.seed)
        model = LanguageModel(len(vocab), net_cfg)
        pipeline = LanguageModelPipeline(model, tokenizer, vocab, net_cfg, stream_cfg)
        ids = pipeline.encode_stream(texts)
        train_dl = DataLoader(StreamWindows(batchify(ids, stream_cfg.batch_size), stream_cfg.bptt),
                              batch_size=None, shuffle=False)
        val_dl = None
        if val is not None:
            val_ids = pipeline.encode_stream(read_documents(val, "validation data"))
            val_dl = DataLoader(StreamWindows(batchify(val_ids, stream_cfg.eval_batch_size), stream_cfg.bptt),
                                batch_size=None, shuffle=False)
        module = LanguageModelModule(model, self.train_config, char_level=net_cfg.tokenizer == "char")
        pipeline.fit_result = self._train_member(module, train_dl, val_dl)
        model.eval()
        self.pipeline = pipeline
        self.unigram = {}
        for i in ids:
            self.unigram[i] = self.unigram.get(i, 0) + 1
        if val is not None:
            self.val_metrics = {f"val_{k}": v for k, v in self.pipeline.evaluate(
                read_documents(val, "validation data")).items() if k in ("loss", "perplexity", "bpc")}

    def predict(self, data: str | Sequence[str]) -> str | list[str]:
        """The continuation of a prime (a list of primes: one continuation each), sampled by ``sample``."""
        self._check_fitted("predict")
        sampling = self.config.sampling()
        if isinstance(data, str):
            return self.pipeline.sample(data, sampling)
        return [self.pipeline.sample(prime, sampling) for prime in data]

    def evaluate(self, data: Any, train: Any = None, baselines: bool = True) -> dict[str, dict[str, float]]:
        """``{"lstm": {loss, perplexity, tokens, unknown[, bpc]}, "unigram": ..., "kneser_ney_<n>gram": ...}``.

        The n-gram models score the same ids as the LSTM (documents joined into one
        stream); Kneser-Ney is fitted on ``train`` when given.
        """
        self._check_fitted("evaluate")
        texts = read_documents(data, "evaluation data")
        out = {"lstm": self.pipeline.evaluate(texts)}
        if not baselines:
            return out
        ids = self.pipeline.encode_stream(texts)
        vocab_size = len(self.pipeline.vocab)
        uni = UnigramLM(vocab_size)
        uni.counts.update(self.unigram)
        uni.total = sum(self.unigram.values())
        out["unigram"] = self._row(uni.nll(ids), len(ids))
        if train is not None:
            order = self.config.data.ngram_order
            train_ids = self.pipeline.encode_stream(read_documents(train, "training data"))
            out[f"kneser_ney_{order}gram"] = self._row(KneserNeyLM(order, vocab_size).fit(train_ids).nll(ids),
                                                       len(ids))
        return out

    def _row(self, nll: float, n: int) -> dict[str, float]:
        row = {"loss": nll, "perplexity": math.exp(min(nll, 50.0)), "tokens": float(n - 1)}
        if self.config.data.tokenizer == "char":
            row["bpc"] = nll / math.log(2)
        return row

    # ------------------------------------------------------------------ persistence
    def _state_dict(self) -> dict[str, Any]:
        return {k: v.detach().clone().contiguous() for k, v in self.pipeline.model.state_dict().items()}

    def _extras(self) -> dict[str, Any]:
        return {"tokenizer": self.pipeline.tokenizer.to_config(), "vocab": self.pipeline.vocab.to_dict(),
                "unigram": {str(k): v for k, v in sorted(self.unigram.items())}}

    def _restore(self, saved: Any) -> None:
        from .api import LanguageModelPipeline

        vocab = Vocab.from_dict(saved.extras["vocab"])
        net_cfg = self.config.network()
        model = LanguageModel(len(vocab), net_cfg)
        saved.load_into(model)
        model.eval()
        self.pipeline = LanguageModelPipeline(model, tokenizer_from_config(saved.extras["tokenizer"]), vocab,
                                              net_cfg, self.config.stream())
        self.unigram = {int(k): int(v) for k, v in (saved.extras.get("unigram") or {}).items()}
        if not self.unigram:  # lstmkit 0.1 kept no counts: the unigram baseline is uniform
            warnings.warn(f"'{saved.path}' (lstmkit 0.1) has no token counts: the unigram baseline "
                          "is uniform", stacklevel=3)

    @classmethod
    def config_from_record(cls, record: Any) -> tuple[Any, Any]:
        """Also reads the 0.1 layout (a flat ``model`` and a ``stream`` section)."""
        if "data" in record:
            return super().config_from_record(record)
        net = LanguageModelConfig(**record["model"])
        return GenerateConfig.from_network(net, StreamConfig(**record["stream"])), cls.default_train()

    @classmethod
    def from_pipeline(cls, pipeline: Any, train: Any = None) -> Generate:
        """A task around a trained :class:`LanguageModelPipeline` (its token counts are not known)."""
        task = cls(GenerateConfig.from_network(pipeline.config, pipeline.stream_config), train)
        task.pipeline = pipeline
        return task
