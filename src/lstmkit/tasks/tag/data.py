"""Turning sentences into batches for the tagger.

A batch is a dict:

* ``words`` (B, T) long: word ids (lowercased word vocabulary), pad = 0;
* ``lengths`` (B,) long: true sentence lengths;
* ``chars`` (U, C) long and ``char_lengths`` (U,): the character ids of the
  U distinct word forms of the batch (case kept), each encoded once;
* ``word_index`` (B, T) long: which of the U forms sits at each position;
* ``tags`` (B, T) long (training / evaluation only), pad = 0 (masked out);
* with subword features on: ``ngram_ids`` / ``ngram_offsets``, the hashed
  character n-grams of the U forms (for ``nn.EmbeddingBag``);
* with a lexicon: ``lex_ids`` / ``lex_offsets``, the U forms' lexicon feature
  ids (:class:`lstmkit.text.lexicon.Lexicon`, case kept).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from lstmkit.text import BucketBatchSampler, Vocab, ngram_bags, pad_sequences
from lstmkit.text.lexicon import Lexicon

__all__ = ["TagEncoder", "make_loader"]


@dataclass
class TagEncoder:
    """Vocabularies of words, characters and tags, and the encoding of one sentence."""

    words: Vocab
    chars: Vocab
    tags: list[str]
    lowercase: bool = True
    max_word_len: int = 30
    subword_buckets: int = 0
    subword_min_n: int = 2
    subword_max_n: int = 4
    lexicon: str | None = None
    lexicon_sha256: str | None = None

    _loaded: Lexicon | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def lexicon_features(self) -> Lexicon | None:
        """The lexicon, loaded on first use (once per process and path), or None."""
        if self.lexicon and self._loaded is None:
            self._loaded = Lexicon.open(self.lexicon)
        return self._loaded

    @classmethod
    def build(
        cls,
        sentences: Sequence[tuple[list[str], list[str]]],
        min_freq: int = 1,
        max_size: int | None = None,
        lowercase: bool = True,
        max_word_len: int = 30,
        subword: tuple[int, int, int] = (0, 2, 4),
        tags: Sequence[str] = (),
        lexicon: str | None = None,
    ) -> "TagEncoder":
        """Vocabularies of ``sentences``; the tag set is theirs plus any extra ``tags``, sorted."""
        low = (lambda w: w.lower()) if lowercase else (lambda w: w)
        words = Vocab.build(([low(w) for w in toks] for toks, _ in sentences), min_freq, max_size)
        chars = Vocab.build((list(w) for toks, _ in sentences for w in toks), min_freq=1)
        tags = sorted({t for _, ts in sentences for t in ts} | set(tags))
        if not tags:
            raise ValueError("no tags in the training sentences")
        if lexicon:  # absolute, so that a saved model finds it from any working directory
            lexicon = str(Path(lexicon).resolve())
        digest = Lexicon.open(lexicon).sha256() if lexicon else None
        return cls(words, chars, tags, lowercase, max_word_len, *subword, lexicon=lexicon, lexicon_sha256=digest)

    def to_dict(self) -> dict:
        return {"words": self.words.to_dict(), "chars": self.chars.to_dict(), "tags": self.tags,
                "lowercase": self.lowercase, "max_word_len": self.max_word_len,
                "subword": [self.subword_buckets, self.subword_min_n, self.subword_max_n],
                "lexicon": self.lexicon, "lexicon_sha256": self.lexicon_sha256}

    @classmethod
    def from_dict(cls, d: dict) -> "TagEncoder":
        return cls(Vocab.from_dict(d["words"]), Vocab.from_dict(d["chars"]), list(d["tags"]),
                   bool(d["lowercase"]), int(d["max_word_len"]), *(int(v) for v in d["subword"]),
                   lexicon=d.get("lexicon"), lexicon_sha256=d.get("lexicon_sha256"))

    def word_ids(self, tokens: Sequence[str]) -> list[int]:
        if self.lowercase:
            return self.words.encode(t.lower() for t in tokens)
        return self.words.encode(tokens)

    def tag_ids(self, tags: Sequence[str], where: str = "") -> list[int]:
        index = {t: i for i, t in enumerate(self.tags)}
        unknown = [t for t in tags if t not in index]
        if unknown:
            raise ValueError(
                f"{where}tag {unknown[0]!r} was not seen in training; known tags: {self.tags}"
            )
        return [index[t] for t in tags]

    def collate(self, items: list[tuple[list[str], list[int] | None]]) -> dict[str, torch.Tensor]:
        words, lengths = pad_sequences([self.word_ids(toks) for toks, _ in items])
        forms: dict[str, int] = {}
        index_rows = []
        for toks, _ in items:
            index_rows.append([forms.setdefault(t, len(forms)) for t in toks])
        word_index, _ = pad_sequences(index_rows, pad_id=0)
        char_seqs = [self.chars.encode(list(f[: self.max_word_len])) or [self.chars.unk_id] for f in forms]
        chars, char_lengths = pad_sequences(char_seqs)
        batch = {"words": words, "lengths": lengths, "chars": chars, "char_lengths": char_lengths,
                 "word_index": word_index}
        if self.subword_buckets:
            batch["ngram_ids"], batch["ngram_offsets"] = ngram_bags(
                [f.lower() if self.lowercase else f for f in forms], self.subword_buckets,
                self.subword_min_n, self.subword_max_n)
        lexicon = self.lexicon_features
        if lexicon is not None:
            bags = [lexicon.features(f) for f in forms]
            batch["lex_ids"] = torch.tensor([i for b in bags for i in b], dtype=torch.long)
            batch["lex_offsets"] = torch.tensor([0] + [len(b) for b in bags[:-1]], dtype=torch.long).cumsum(0)
        if all(t is not None for _, t in items):
            batch["tags"], _ = pad_sequences([t for _, t in items], pad_id=0)
        return batch


def make_loader(
    encoder: TagEncoder,
    sentences: Sequence[tuple[list[str], list[str] | None]],
    batch_size: int,
    shuffle: bool,
    seed: int = 0,
) -> DataLoader:
    """A DataLoader of length-bucketed batches (tags encoded when present)."""
    items = [(list(toks), encoder.tag_ids(tags) if tags is not None else None) for toks, tags in sentences]
    sampler = BucketBatchSampler([len(t) for t, _ in items], batch_size, shuffle=shuffle, seed=seed)
    return DataLoader(items, batch_sampler=sampler, collate_fn=encoder.collate)
