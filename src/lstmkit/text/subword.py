r"""Hashed character n-grams of a word (fastText-style subword features).

A word :math:`w` is framed as ``<w>`` and cut into every character n-gram
with :math:`n_{min} \le n \le n_{max}`; each n-gram is mapped to one of
``buckets`` ids by a stable hash (CRC-32, identical across runs and machines):

.. math::
    \mathrm{ids}(w) = \{\, \mathrm{crc32}(g) \bmod B : g \in \mathrm{ngrams}(\texttt{<}w\texttt{>}) \,\}

A model embeds a word as the mean of its n-gram embeddings
(``nn.EmbeddingBag(B, D, mode="mean")``), optionally added to a word
embedding, so rare and unseen words still get a representation from their
pieces (prefixes, suffixes, digit patterns).

Example:
    >>> char_ngrams("ev", 2, 3)
    ['<e', 'ev', 'v>', '<ev', 'ev>']
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import torch

__all__ = ["char_ngrams", "hashed_ngram_ids", "ngram_bags"]


def char_ngrams(word: str, n_min: int = 2, n_max: int = 4) -> list[str]:
    """All character n-grams (``n_min <= n <= n_max``) of ``<word>``."""
    if not 1 <= n_min <= n_max:
        raise ValueError(f"need 1 <= n_min <= n_max, got n_min={n_min}, n_max={n_max}")
    framed = f"<{word}>"
    return [framed[i : i + n] for n in range(n_min, n_max + 1) for i in range(len(framed) - n + 1)]


def hashed_ngram_ids(word: str, buckets: int, n_min: int = 2, n_max: int = 4) -> list[int]:
    """Bucket ids of the n-grams of ``word`` (at least one id, even for an empty word)."""
    if buckets < 1:
        raise ValueError(f"buckets must be >= 1, got {buckets}")
    grams = char_ngrams(word, n_min, n_max) or [f"<{word}>"]
    return [zlib.crc32(g.encode("utf-8")) % buckets for g in grams]


def ngram_bags(
    words: Sequence[str], buckets: int, n_min: int = 2, n_max: int = 4
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(ids, offsets)`` for ``nn.EmbeddingBag``: the n-gram ids of every word, concatenated."""
    ids: list[int] = []
    offsets: list[int] = []
    for w in words:
        offsets.append(len(ids))
        ids.extend(hashed_ngram_ids(w, buckets, n_min, n_max))
    return torch.tensor(ids, dtype=torch.long), torch.tensor(offsets, dtype=torch.long)
