"""Python API of translation: ``fit``, ``TranslationPipeline.translate / evaluate / attention / save / load``.

Handling of awkward input (documented, tested):

* sources longer than ``max_source_len`` tokens are truncated to it, with a
  warning that counts them (in training, targets beyond ``max_target_len``
  too); nothing is silently dropped;
* an empty sentence raises ``ValueError`` naming its index;
* unknown words: source words missing from the vocabulary map to ``<unk>``;
  a generated ``<unk>`` is replaced by the source token that received the
  most attention at that step (Luong et al. 2015's unk replacement), or
  dropped by a model without attention.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from lstmkit.tasks._loading import load_errors
from lstmkit.text import (
    BPETokenizer,
    Vocab,
    WordTokenizer,
    pad_sequences,
)
from lstmkit.train import FitResult, TaskModule, TrainConfig

from .decode import DecodeConfig, decode
from .heatmap import save_attention_heatmap
from .metrics import bleu, chrf
from .model import Seq2Seq, Seq2SeqConfig

TASK = "translate"


def _check_batch_size(batch_size: object) -> int:
    """A batch size from the user: an integer >= 1 (0 would loop forever, -1 skip every sentence)."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size (--batch-size): expected an integer >= 1, received {batch_size!r}")
    return batch_size


def _check_sentences(sentences: Sequence[str], name: str) -> list[str]:
    if isinstance(sentences, str):
        raise TypeError(f"{name}: expected a sequence of strings, received a single str")
    sentences = list(sentences)
    if not sentences:
        raise ValueError(f"{name}: expected at least one sentence, received none")
    for i, s in enumerate(sentences):
        if not isinstance(s, str):
            raise TypeError(f"{name}[{i}]: expected a str, received {type(s).__name__}")
        if not s.strip():
            raise ValueError(f"{name}[{i}]: empty sentence")
    return sentences


def _tokenizer(config: Seq2SeqConfig, texts: Sequence[str]):
    if config.tokenizer == "word":
        return WordTokenizer(lowercase=config.lowercase, keep_spacing=True)
    return BPETokenizer.train(texts, vocab_size=config.bpe_vocab_size)


class TranslationModule(TaskModule):
    """Token-level cross-entropy with teacher forcing (pads ignored); logs ``val_loss``, ``val_ppl``."""

    def __init__(self, model: Seq2Seq, train_config: TrainConfig | None = None) -> None:
        super().__init__(train_config)
        self.model = model

    def _loss(self, batch) -> Tensor:
        src, src_len, tgt_in, tgt_out = batch
        logits = self.model(src, src_len, tgt_in)  # (B, T, V)
        return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1), ignore_index=0)

    def training_step(self, batch, batch_idx):
        return self._loss(batch)

    def validation_step(self, batch, batch_idx):
        loss = self._loss(batch)
        self.log("val_loss", loss, prog_bar=True, batch_size=batch[0].shape[0])
        self.log("val_ppl", torch.exp(loss.clamp(max=50)), batch_size=batch[0].shape[0])


def _collate(pairs: list[tuple[list[int], list[int]]]):
    src, src_len = pad_sequences([p[0] for p in pairs])
    tgt, _ = pad_sequences([p[1] for p in pairs])  # <bos> y_1 .. y_n <eos>
    return src, src_len, tgt[:, :-1], tgt[:, 1:]


@dataclass
class TranslationPipeline:
    """A trained translation model with tokenizers and vocabularies of both languages."""

    model: Seq2Seq
    src_tokenizer: object
    tgt_tokenizer: object
    src_vocab: Vocab
    tgt_vocab: Vocab
    config: Seq2SeqConfig
    fit_result: FitResult | None = None

    # ------------------------------------------------------------------ encoding
    def _source_tokens(self, sentences: Sequence[str]) -> list[list[str]]:
        tokens = [self.src_tokenizer.tokenize(s) for s in sentences]
        long = sum(1 for t in tokens if len(t) > self.config.max_source_len)
        if long:
            warnings.warn(
                f"{long} source sentence(s) longer than max_source_len={self.config.max_source_len} "
                "tokens were truncated",
                stacklevel=2,
            )
        tokens = [t[: self.config.max_source_len] for t in tokens]
        for i, t in enumerate(tokens):
            if not t:
                raise ValueError(f"sentences[{i}]: no tokens in {sentences[i]!r}")
        return tokens

    def encode_pairs(self, sources: Sequence[str], targets: Sequence[str]) -> list[tuple[list[int], list[int]]]:
        src_tokens = self._source_tokens(sources)
        out, long = [], 0
        for s, t in zip(src_tokens, targets):
            tgt = self.tgt_tokenizer.tokenize(t)
            if len(tgt) > self.config.max_target_len:
                long += 1
                tgt = tgt[: self.config.max_target_len]
            out.append((self.src_vocab.encode(s), self.tgt_vocab.encode(tgt, add_bos=True, add_eos=True)))
        if long:
            warnings.warn(f"{long} target sentence(s) longer than max_target_len={self.config.max_target_len} were truncated",
                          stacklevel=2)
        return out

    # ------------------------------------------------------------------ decoding
    def _detokenize(self, ids: list[int], src_tokens: list[str], attention: Tensor | None) -> tuple[str, list[str]]:
        pieces = []
        for step, tid in enumerate(ids):
            if tid == self.tgt_vocab.unk_id:
                if attention is None or not src_tokens:
                    continue
                source_pos = int(attention[step, : len(src_tokens)].argmax())
                pieces.append(src_tokens[source_pos])
            else:
                pieces.extend(self.tgt_vocab.decode([tid]))
        return self.tgt_tokenizer.detokenize(pieces).strip(), pieces

    def _decode_batches(self, sentences: Sequence[str], config: DecodeConfig, batch_size: int):
        _check_batch_size(batch_size)
        sentences = _check_sentences(sentences, "sentences")
        tokens = self._source_tokens(sentences)
        order = sorted(range(len(tokens)), key=lambda i: len(tokens[i]))
        results: list = [None] * len(tokens)
        self.model.eval()
        starts = range(0, len(order), batch_size)
        for start in tqdm(starts, desc="translate", unit="batch", disable=None, leave=False):
            idx = order[start : start + batch_size]
            src, src_len = pad_sequences([self.src_vocab.encode(tokens[i]) for i in idx])
            hyps = decode(self.model, src, src_len, self.tgt_vocab.bos_id, self.tgt_vocab.eos_id, config)
            for j, i in enumerate(idx):
                text, pieces = self._detokenize(hyps.tokens[j], tokens[i], hyps.attention[j])
                results[i] = (text, pieces, tokens[i], hyps.attention[j])
        return results

    def translate(
        self, sentences: Sequence[str], config: DecodeConfig | None = None, batch_size: int = 32
    ) -> list[str]:
        """One translation per sentence (greedy when ``config.beam_size`` is 1)."""
        config = config or DecodeConfig()
        return [r[0] for r in self._decode_batches(sentences, config, batch_size)]

    def evaluate(
        self, sources: Sequence[str], references: Sequence[str], config: DecodeConfig | None = None,
        batch_size: int = 32,
    ) -> dict[str, float]:
        """Corpus ``bleu`` and ``chrf`` (sacrebleu) of the translations of ``sources``."""
        config = config or DecodeConfig()
        references = _check_sentences(references, "references")
        if len(references) != len(sources):
            raise ValueError(
                f"sources and references: expected the same number of sentences, received "
                f"{len(sources)} and {len(references)}"
            )
        hyps = self.translate(sources, config, batch_size)
        return {"bleu": bleu(hyps, references), "chrf": chrf(hyps, references), "sentences": float(len(hyps))}

    def attention(self, sentence: str, path: str | Path, config: DecodeConfig | None = None) -> Path:
        """Translate ``sentence`` and write its attention heatmap PNG to ``path``."""
        config = config or DecodeConfig()
        if self.model.attention is None:
            raise ValueError("attention: this model was trained with attention='none'; there is no map")
        text, pieces, src_tokens, weights = self._decode_batches([sentence], config, 1)[0]
        if not pieces:
            raise ValueError(f"attention: the translation of {sentence!r} is empty; nothing to draw")
        return save_attention_heatmap(weights[: len(pieces), : len(src_tokens)].numpy(), src_tokens, pieces, path, title=text[:80])

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> Path:
        """Write a saved-model directory (the :class:`~.task.Translate` layout, atomically)."""
        from .task import Translate

        task = Translate.from_pipeline(self)
        if self.fit_result is not None:
            task.train_config = self.fit_result.config
        return task.save(path)

    @classmethod
    @load_errors("translate")
    def load(cls, path: str | Path) -> TranslationPipeline:
        """Read a ``translate`` model directory (either layout); problems raise ``ModelLoadError``."""
        from .task import Translate

        return Translate.load(path).pipeline


def fit(
    sources: Sequence[str],
    targets: Sequence[str],
    config: Seq2SeqConfig | None = None,
    train_config: TrainConfig | None = None,
    val_sources: Sequence[str] | None = None,
    val_targets: Sequence[str] | None = None,
    batch_size: int = 32,
) -> TranslationPipeline:
    """Build tokenizers and vocabularies on the training pairs and train with teacher forcing.

    The 0.1 interface: a thin wrapper over :class:`~.task.Translate` (whose ``fit`` returns the task).
    """
    from .config import TranslateConfig
    from .task import Translate

    config = config or Seq2SeqConfig()
    train_config = train_config or TrainConfig()
    _check_batch_size(batch_size)
    if (val_sources is None) != (val_targets is None):
        raise ValueError("val_sources and val_targets: give both or neither")
    sources = _check_sentences(sources, "sources")
    targets = _check_sentences(targets, "targets")
    if len(sources) != len(targets):
        raise ValueError(
            f"sources and targets: expected the same number of sentences, received {len(sources)} and {len(targets)}"
        )
    val = None
    if val_sources is not None:
        val = (_check_sentences(val_sources, "val_sources"), _check_sentences(val_targets, "val_targets"))
    task = Translate(TranslateConfig.from_network(config, batch_size), train_config)
    return task.fit((sources, targets), val=val).pipeline
