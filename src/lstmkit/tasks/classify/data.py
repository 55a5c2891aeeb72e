"""Reading labelled texts from CSV / TSV, and the encoding of texts into batches.

Table files: the delimiter is ``\\t`` for ``.tsv``/``.tab`` and ``,``
otherwise (or given). The first row is the header; the text and label
columns are chosen by name. Documented handling: completely blank lines are
skipped; the table is parsed as CSV (:func:`lstmkit.text.read_csv_rows`: a quoted
field keeps its newlines, rows end at ``\n`` only). Errors (``ValueError``,
message ``file:line: what``): a malformed CSV row, an empty
file, a header without the named column, a row with too few fields, an empty
text, a missing or non-numeric label, bytes that are not utf-8.

A batch is a dict with ``tokens`` (B, T) long (pad 0), ``lengths`` (B,) and
``target`` (B,) (long class index or float standardised score) when labels
are known. With subword features on (``subword_buckets > 0``) it also has
``form_index`` (B, T): which distinct token string of the batch sits at each
position, and ``ngram_ids`` / ``ngram_offsets``: the hashed character n-grams
of those distinct strings, for ``nn.EmbeddingBag``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from lstmkit.text import (
    BPETokenizer,
    BucketBatchSampler,
    CharTokenizer,
    Vocab,
    WordTokenizer,
    ngram_bags,
    pad_sequences,
    read_csv_rows,
    tokenizer_from_config,
)

__all__ = ["read_table", "TextEncoder", "make_loader", "delimiter_for"]


def delimiter_for(path: str | os.PathLike, delimiter: str | None = None) -> str:
    if delimiter is not None:
        return delimiter
    return "\t" if Path(path).suffix.lower() in (".tsv", ".tab") else ","


def read_table(
    path: str | os.PathLike,
    text_column: str = "text",
    label_column: str | None = "label",
    delimiter: str | None = None,
    regression: bool = False,
) -> tuple[list[str], list | None, list[int]]:
    """Read ``(texts, labels, line_numbers)``; ``labels`` is None when ``label_column`` is None.

    Labels are strings (classes) or floats (``regression=True``).
    """
    p = Path(path)
    delim = delimiter_for(p, delimiter)
    rows = read_csv_rows(p, delim)
    if not rows:
        raise ValueError(f"{p}: file is empty (expected a header row and data rows)")
    header = None
    texts: list[str] = []
    labels: list = []
    line_numbers: list[int] = []
    for lineno, row in rows:
        if header is None:
            header = [c.strip() for c in row]
            needed = [text_column] + ([label_column] if label_column is not None else [])
            for name in needed:
                if name not in header:
                    raise ValueError(
                        f"{p}:{lineno}: no column {name!r} in the header; columns are {header} "
                        f"(delimiter {delim!r})"
                    )
            ti = header.index(text_column)
            li = header.index(label_column) if label_column is not None else None
            continue
        if len(row) <= max(ti, li if li is not None else 0):
            raise ValueError(f"{p}:{lineno}: row has {len(row)} fields, the header has {len(header)}")
        text = row[ti].strip()
        if not text:
            raise ValueError(f"{p}:{lineno}: empty text in column {text_column!r}")
        texts.append(text)
        line_numbers.append(lineno)
        if li is not None:
            raw = row[li].strip()
            if not raw:
                raise ValueError(f"{p}:{lineno}: empty label in column {label_column!r}")
            if regression:
                try:
                    value = float(raw)
                except ValueError:
                    raise ValueError(f"{p}:{lineno}: label {raw!r} is not a number (regression)") from None
                if not math.isfinite(value):
                    raise ValueError(f"{p}:{lineno}: label {raw!r} is not finite")
                labels.append(value)
            else:
                labels.append(raw)
    if not texts:
        raise ValueError(f"{p}: no data rows after the header")
    return texts, (labels if label_column is not None else None), line_numbers


@dataclass
class TextEncoder:
    """Tokenizer + vocabulary + label set (or score mean / std) of a classifier."""

    tokenizer: object
    vocab: Vocab
    labels: list[str] | None
    mean: float = 0.0
    std: float = 1.0
    max_tokens: int = 400
    lower_input: bool = False  # lowercase before tokenizing (BPE has no lowercase option of its own)
    subword_buckets: int = 0  # hashed char n-gram features (0 = off)
    subword_min_n: int = 2
    subword_max_n: int = 4

    @classmethod
    def build(cls, cfg, texts: Sequence[str], labels: Sequence) -> "TextEncoder":
        if cfg.tokenizer == "word":
            tok = WordTokenizer(lowercase=cfg.lowercase)
        elif cfg.tokenizer == "char":
            tok = CharTokenizer(lowercase=cfg.lowercase)
        else:
            source = [t.lower() for t in texts] if cfg.lowercase else list(texts)
            tok = BPETokenizer.train(source, vocab_size=cfg.bpe_vocab_size)
        lower_input = cfg.tokenizer == "bpe" and cfg.lowercase
        enc = cls(tok, Vocab(["<pad>", "<unk>", "<bos>", "<eos>"]), None, max_tokens=cfg.max_tokens,
                  lower_input=lower_input, subword_buckets=cfg.subword_buckets,
                  subword_min_n=cfg.subword_min_n, subword_max_n=cfg.subword_max_n)
        enc.vocab = Vocab.build((enc.tokens(t) for t in texts), cfg.min_freq, cfg.max_vocab)
        if cfg.task == "regression":
            vals = [float(v) for v in labels]
            enc.mean = sum(vals) / len(vals)
            enc.std = math.sqrt(sum((v - enc.mean) ** 2 for v in vals) / len(vals)) or 1.0
            return enc
        enc.labels = sorted({str(v) for v in labels}, key=_label_key)
        if len(enc.labels) < 2:
            raise ValueError(f"need at least 2 classes to train a classifier, got {enc.labels}")
        return enc

    def tokens(self, text: str) -> list[str]:
        return self.tokenizer.tokenize(text.lower() if self.lower_input else text)[: self.max_tokens]

    def ids(self, text: str) -> list[int]:
        ids = self.vocab.encode(self.tokens(text))
        return ids or [self.vocab.unk_id]  # text with no tokens (e.g. only spaces): one <unk>

    def forms(self, text: str) -> list[str]:
        """The token strings that :meth:`ids` encodes (``<unk>`` for a text without tokens)."""
        return self.tokens(text) or [self.vocab.itos[self.vocab.unk_id]]

    def target(self, label, where: str = "") -> float | int:
        if self.labels is None:
            return (float(label) - self.mean) / self.std
        index = {c: i for i, c in enumerate(self.labels)}
        key = str(label)
        if key not in index:
            raise ValueError(f"{where}label {key!r} was not seen in training; known labels: {self.labels}")
        return index[key]

    def to_dict(self) -> dict:
        return {"tokenizer": self.tokenizer.to_config(), "vocab": self.vocab.to_dict(), "labels": self.labels,
                "mean": self.mean, "std": self.std, "max_tokens": self.max_tokens,
                "lower_input": self.lower_input, "subword": [self.subword_buckets, self.subword_min_n,
                                                             self.subword_max_n]}

    @classmethod
    def from_dict(cls, d: dict) -> "TextEncoder":
        buckets, n_min, n_max = d["subword"]
        return cls(tokenizer_from_config(d["tokenizer"]), Vocab.from_dict(d["vocab"]), d["labels"],
                   float(d["mean"]), float(d["std"]), int(d["max_tokens"]), bool(d["lower_input"]),
                   int(buckets), int(n_min), int(n_max))


def _label_key(s: str):
    try:
        return (0, float(s), s)
    except ValueError:
        return (1, 0.0, s)


def make_loader(enc: TextEncoder, texts: Sequence[str], labels: Sequence | None, batch_size: int,
                shuffle: bool, seed: int = 0, where=None) -> DataLoader:
    """Length-bucketed DataLoader of encoded texts (targets when ``labels`` is given)."""
    items = []
    for i, text in enumerate(texts):
        tgt = None
        if labels is not None:
            tgt = enc.target(labels[i], where=where(i) if where else f"item {i}: ")
        items.append((enc.ids(text), tgt, enc.forms(text) if enc.subword_buckets else None))
    sampler = BucketBatchSampler([len(x) for x, _, _ in items], batch_size, shuffle=shuffle, seed=seed)
    regression = enc.labels is None

    def collate(batch):
        tokens, lengths = pad_sequences([x for x, _, _ in batch])
        out = {"tokens": tokens, "lengths": lengths}
        if batch[0][1] is not None:
            dtype = torch.float32 if regression else torch.long
            out["target"] = torch.tensor([t for _, t, _ in batch], dtype=dtype)
        if enc.subword_buckets:
            distinct: dict[str, int] = {}
            rows = [[distinct.setdefault(f, len(distinct)) for f in forms] for _, _, forms in batch]
            out["form_index"], _ = pad_sequences(rows, pad_id=0)
            out["ngram_ids"], out["ngram_offsets"] = ngram_bags(
                list(distinct), enc.subword_buckets, enc.subword_min_n, enc.subword_max_n)
        return out

    return DataLoader(items, batch_sampler=sampler, collate_fn=collate)
