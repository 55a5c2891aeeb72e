"""Python API of language modelling: ``fit``, ``LanguageModelPipeline.sample / stream / evaluate / save / load``.

>>> from lstmkit.tasks.generate import fit, LanguageModelConfig, SamplingConfig  # doctest: +SKIP
>>> lm = fit(train_texts, LanguageModelConfig(tokenizer="char"), val_texts=held_out)  # doctest: +SKIP
>>> lm.sample("In the beginning", SamplingConfig(temperature=0.8, max_length=100))  # doctest: +SKIP

Handling of awkward input (documented, tested):

* an empty prime raises ``ValueError`` (a prime is needed to start the state);
* characters or words never seen in training map to ``<unk>``: in a prime a
  character model raises ``ValueError`` naming them (the continuation would
  be meaningless), a word model warns; ``evaluate`` warns with the count and
  scores them as ``<unk>``;
* a prime of any length is accepted: the LSTM state carries it, there is
  no maximum context.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from lstmkit.tasks._loading import load_errors
from lstmkit.text import BPETokenizer, CharTokenizer, Vocab, WordTokenizer
from lstmkit.train import FitResult, TrainConfig

from .model import LanguageModel, LanguageModelConfig, tbptt_loss
from .sampling import SamplingConfig, next_token
from .training import StreamConfig, batchify

TASK = "generate"


def build_tokenizer(config: LanguageModelConfig, texts: Sequence[str]):
    """The tokenizer a config asks for (BPE is trained on ``texts``)."""
    if config.tokenizer == "char":
        return CharTokenizer(lowercase=config.lowercase)
    if config.tokenizer == "word":
        return WordTokenizer(lowercase=config.lowercase, keep_spacing=True)
    return BPETokenizer.train(texts, vocab_size=config.bpe_vocab_size)


def _check_texts(texts: Sequence[str], name: str) -> list[str]:
    if isinstance(texts, str):
        raise TypeError(f"{name}: expected a sequence of strings, received a single str")
    texts = list(texts)
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise TypeError(f"{name}: expected strings, item {bad[0]} is {type(texts[bad[0]]).__name__}")
    if not any(t.strip() for t in texts):
        raise ValueError(f"{name}: expected non-empty text, received {len(texts)} empty document(s)")
    return texts


@dataclass
class LanguageModelPipeline:
    """A trained language model with its tokenizer and vocabulary."""

    model: LanguageModel
    tokenizer: object
    vocab: Vocab
    config: LanguageModelConfig
    stream_config: StreamConfig
    fit_result: FitResult | None = None

    @property
    def char_level(self) -> bool:
        return self.config.tokenizer == "char"

    # ------------------------------------------------------------------ encoding
    def encode_stream(self, texts: Sequence[str]) -> list[int]:
        """Documents -> one id stream (newline-joined for chars, ``<eos>`` after each otherwise)."""
        if self.char_level:
            return self.vocab.encode(self.tokenizer.tokenize("\n".join(texts) + "\n"))
        ids: list[int] = []
        for text in texts:
            ids.extend(self.vocab.encode(self.tokenizer.tokenize(text), add_eos=True))
        return ids

    def _unknown(self, tokens: list[str]) -> list[str]:
        return sorted({t for t in tokens if t not in self.vocab})

    # ------------------------------------------------------------------ metrics
    @torch.no_grad()
    def evaluate(self, texts: Sequence[str]) -> dict[str, float]:
        """Held-out ``loss`` (nats/token), ``perplexity``, ``tokens`` and, for chars, ``bpc``."""
        texts = _check_texts(texts, "texts")
        ids = self.encode_stream(texts)
        n_unk = sum(1 for i in ids if i == self.vocab.unk_id)
        if n_unk:
            warnings.warn(f"{n_unk} of {len(ids)} tokens were not seen in training and are scored as <unk>",
                          stacklevel=2)
        self.model.eval()
        stream = batchify(ids, self.stream_config.eval_batch_size)
        loss, _ = tbptt_loss(self.model, stream, self.stream_config.bptt)
        loss = float(loss)
        out = {"loss": loss, "perplexity": math.exp(min(loss, 50.0)), "tokens": float(stream.numel() - stream.shape[0]), "unknown": float(n_unk)}
        if self.char_level:
            out["bpc"] = loss / math.log(2)
        return out

    # ------------------------------------------------------------------ generation
    def _prime_ids(self, prime: str) -> list[int]:
        if not isinstance(prime, str):
            raise TypeError(f"prime: expected a str, received {type(prime).__name__}")
        if not prime:
            raise ValueError("prime: expected non-empty text to start generation, received ''")
        tokens = self.tokenizer.tokenize(prime)
        unknown = self._unknown(tokens)
        if unknown and self.char_level:
            raise ValueError(f"prime: characters not in the model's vocabulary: {unknown!r}")
        if unknown:
            warnings.warn(f"prime: tokens not in the vocabulary map to <unk>: {unknown[:10]!r}", stacklevel=2)
        if not tokens:
            raise ValueError(f"prime: expected at least one token, {prime!r} has none")
        return self.vocab.encode(tokens)

    @torch.no_grad()
    def generate_ids(self, prime: str, config: SamplingConfig | None = None) -> Iterator[int]:
        """Yield generated token ids one at a time (not the prime); stops at max_length or <eos>."""
        config = config or SamplingConfig()
        ids = self._prime_ids(prime)
        generator = None
        if config.seed is not None:
            generator = torch.Generator().manual_seed(config.seed)
        self.model.eval()
        logits, state = self.model(torch.tensor([ids]), None)  # (1, P, V)
        last = logits[:, -1]
        # never produce specials that carry no text; a character stream has no <eos> either
        banned = [self.vocab.pad_id, self.vocab.bos_id, self.vocab.unk_id]
        if self.char_level:
            banned.append(self.vocab.eos_id)
        for _ in range(config.max_length):
            last = last.clone()
            last[:, banned] = float("-inf")
            token = next_token(last, config, generator)  # (1,)
            tid = int(token)
            if tid == self.vocab.eos_id and not self.char_level:
                return
            yield tid
            logits, state = self.model(token.view(1, 1), state)
            last = logits[:, -1]

    def stream(self, prime: str, config: SamplingConfig | None = None) -> Iterator[str]:
        """Yield the generated text piece by piece as it is produced (stops at a stop string)."""
        config = config or SamplingConfig()
        tokens: list[str] = []
        emitted = ""
        for tid in self.generate_ids(prime, config):
            tokens.extend(self.vocab.decode([tid]))
            text = self.tokenizer.detokenize(tokens)
            piece = text[len(emitted):]
            if piece:
                emitted = text
                yield piece
            if any(emitted.endswith(s) for s in config.stop):
                return

    def sample(
        self, prime: str, config: SamplingConfig | None = None, on_text: Callable[[str], None] | None = None
    ) -> str:
        """The generated continuation of ``prime`` (without the prime); ``on_text`` sees each piece."""
        pieces = []
        for piece in self.stream(prime, config):
            pieces.append(piece)
            if on_text is not None:
                on_text(piece)
        return "".join(pieces)

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> Path:
        """Write a saved-model directory (the :class:`~.task.Generate` layout, atomically)."""
        from .task import Generate

        task = Generate.from_pipeline(self)
        if self.fit_result is not None:
            task.train_config = self.fit_result.config
        return task.save(path)

    @classmethod
    @load_errors("generate")
    def load(cls, path: str | Path) -> LanguageModelPipeline:
        """Read a ``generate`` model directory (either layout); problems raise ``ModelLoadError``."""
        from .task import Generate

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*has no token counts.*")
            return Generate.load(path).pipeline


def fit(
    texts: Sequence[str],
    config: LanguageModelConfig | None = None,
    stream_config: StreamConfig | None = None,
    train_config: TrainConfig | None = None,
    val_texts: Sequence[str] | None = None,
) -> LanguageModelPipeline:
    """Build the vocabulary on ``texts``, train with truncated BPTT, return the pipeline.

    ``None`` configs mean the defaults of each dataclass. The 0.1 interface:
    a thin wrapper over :class:`~.task.Generate` (whose ``fit`` returns the task).
    """
    from .config import GenerateConfig
    from .task import Generate

    config = config or LanguageModelConfig()
    stream_config = stream_config or StreamConfig()
    train_config = train_config or TrainConfig()
    texts = _check_texts(texts, "texts")
    if val_texts is not None:
        val_texts = _check_texts(val_texts, "val_texts")
    task = Generate(GenerateConfig.from_network(config, stream_config), train_config)
    return task.fit(texts, val=val_texts).pipeline
