"""Tokenizers: character, word (built in) and BPE subwords (``tokenizers`` package).

Every tokenizer has the same small interface:

* ``tokenize(text) -> list[str]``
* ``detokenize(tokens) -> str``
* ``to_config() -> dict`` (JSON-serialisable) and ``tokenizer_from_config(cfg)``
  to rebuild it, so a tokenizer is saved with a model.

Round trips:

* ``CharTokenizer``: ``detokenize(tokenize(s)) == s`` for every string
  (lowercasing off).
* ``WordTokenizer``: ``tokenize(detokenize(toks)) == toks`` for any output of
  ``tokenize``; the text round trip holds up to whitespace, unless
  ``keep_spacing=True`` in which case each token carries its leading space
  marker and ``detokenize(tokenize(s)) == s`` exactly.
* ``BPETokenizer``: byte-level BPE, so ``detokenize(tokenize(s)) == s`` for
  every string, whatever the script.

Example:
    >>> WordTokenizer().tokenize("Don't panic, Arthur!")
    ['don', "'", 't', 'panic', ',', 'arthur', '!']
    >>> CharTokenizer().detokenize(CharTokenizer().tokenize("ab c"))
    'ab c'
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from typing import Protocol

__all__ = [
    "Tokenizer",
    "CharTokenizer",
    "WordTokenizer",
    "BPETokenizer",
    "tokenizer_from_config",
]

_WORD_RE = re.compile(r"\w+|[^\w\s]", re.UNICODE)
_SPACED_RE = re.compile(r"\s*(?:\w+|[^\w\s])|\s+", re.UNICODE)


class Tokenizer(Protocol):
    """What every tokenizer offers."""

    def tokenize(self, text: str) -> list[str]: ...

    def detokenize(self, tokens: list[str]) -> str: ...

    def to_config(self) -> dict: ...


def _check_text(text: object) -> str:
    if not isinstance(text, str):
        raise TypeError(f"text must be str, got {type(text).__name__}")
    return text


class CharTokenizer:
    """One token per Unicode character (after optional NFC normalisation and lowercasing)."""

    kind = "char"

    def __init__(self, lowercase: bool = False, normalize: bool = True) -> None:
        self.lowercase = bool(lowercase)
        self.normalize = bool(normalize)

    def tokenize(self, text: str) -> list[str]:
        text = _check_text(text)
        if self.normalize:
            text = unicodedata.normalize("NFC", text)
        if self.lowercase:
            text = text.lower()
        return list(text)

    def detokenize(self, tokens: list[str]) -> str:
        return "".join(tokens)

    def to_config(self) -> dict:
        return {"kind": self.kind, "lowercase": self.lowercase, "normalize": self.normalize}


class WordTokenizer:
    """Words (runs of letters/digits/underscore) and single punctuation marks.

    With ``keep_spacing=True`` each token keeps the whitespace that precedes
    it, which makes the text round trip exact (useful for generation).
    """

    kind = "word"

    def __init__(self, lowercase: bool = True, keep_spacing: bool = False) -> None:
        self.lowercase = bool(lowercase)
        self.keep_spacing = bool(keep_spacing)

    def tokenize(self, text: str) -> list[str]:
        text = unicodedata.normalize("NFC", _check_text(text))
        if self.lowercase:
            text = text.lower()
        if self.keep_spacing:
            return _SPACED_RE.findall(text)
        return _WORD_RE.findall(text)

    def detokenize(self, tokens: list[str]) -> str:
        if self.keep_spacing:
            return "".join(tokens)
        return " ".join(tokens)

    def to_config(self) -> dict:
        return {"kind": self.kind, "lowercase": self.lowercase, "keep_spacing": self.keep_spacing}


class BPETokenizer:
    """Byte-level BPE subwords through the Hugging Face ``tokenizers`` package.

    Build with :meth:`train` on an iterable of texts; the learned merges are
    kept in :meth:`to_config` (as the tokenizer's JSON) so they travel with a
    saved model.
    """

    kind = "bpe"

    def __init__(self, backend) -> None:  # backend: tokenizers.Tokenizer
        self._tok = backend

    @classmethod
    def train(
        cls, texts: Iterable[str], vocab_size: int = 8000, min_frequency: int = 2
    ) -> "BPETokenizer":
        """Learn byte-level BPE merges from ``texts``.

        Args:
            texts: training texts.
            vocab_size: target number of subword types (>= 257).
            min_frequency: a pair is merged only if seen at least this often.
        """
        if vocab_size < 257:
            raise ValueError(f"vocab_size must be >= 257 (the byte alphabet), got {vocab_size}")
        from tokenizers import Tokenizer as HFTokenizer
        from tokenizers import decoders, models, pre_tokenizers, trainers

        tok = HFTokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size,
            min_frequency=min_frequency,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
        tok.train_from_iterator((_check_text(t) for t in texts), trainer=trainer)
        return cls(tok)

    def tokenize(self, text: str) -> list[str]:
        return self._tok.encode(_check_text(text)).tokens

    def detokenize(self, tokens: list[str]) -> str:
        ids = [self._tok.token_to_id(t) for t in tokens]
        missing = [t for t, i in zip(tokens, ids) if i is None]
        if missing:
            raise ValueError(f"tokens not in the BPE vocabulary: {missing[:5]}")
        return self._tok.decode(ids)

    def to_config(self) -> dict:
        return {"kind": self.kind, "tokenizer_json": self._tok.to_str()}

    @classmethod
    def from_config(cls, cfg: dict) -> "BPETokenizer":
        from tokenizers import Tokenizer as HFTokenizer

        return cls(HFTokenizer.from_str(cfg["tokenizer_json"]))


def tokenizer_from_config(cfg: dict | str) -> CharTokenizer | WordTokenizer | BPETokenizer:
    """Rebuild a tokenizer from ``to_config()`` output (a dict or its JSON string)."""
    if isinstance(cfg, str):
        cfg = json.loads(cfg)
    if not isinstance(cfg, dict) or "kind" not in cfg:
        raise ValueError(f"tokenizer config must be a dict with a 'kind' key, got {cfg!r:.80}")
    kind = cfg["kind"]
    if kind == "char":
        return CharTokenizer(lowercase=cfg.get("lowercase", False), normalize=cfg.get("normalize", True))
    if kind == "word":
        return WordTokenizer(
            lowercase=cfg.get("lowercase", True), keep_spacing=cfg.get("keep_spacing", False)
        )
    if kind == "bpe":
        return BPETokenizer.from_config(cfg)
    raise ValueError(f"tokenizer kind must be one of 'char', 'word', 'bpe', got {kind!r}")
