"""Optional pretrained word vectors from a text file (GloVe / word2vec text format).

Format: one ``token v1 v2 ... vD`` per line, separated by spaces; an optional
first header line ``N D`` (word2vec) is skipped. Only tokens present in the
vocabulary are kept. Rows of vocabulary tokens without a vector are drawn
from N(0, 0.1^2) (seeded); the ``<pad>`` row is zero.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from .vocab import Vocab

__all__ = ["load_word_vectors", "init_embedding"]


def load_word_vectors(
    path: str | os.PathLike, vocab: Vocab, lowercase: bool = False, seed: int = 0
) -> tuple[torch.Tensor, int]:
    """Read vectors for ``vocab`` from ``path``.

    Returns:
        ``(weights (len(vocab), D), n_found)``, ready for
        ``nn.Embedding.from_pretrained`` or ``embedding.weight.data.copy_``.

    Raises:
        ValueError: ragged dimensions, non-numeric values, bad encoding or no
            vectors at all; the message names the file and line.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: word-vector file not found")
    found: dict[int, torch.Tensor] = {}
    dim: int | None = None
    with open(p, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8").rstrip("\n").rstrip("\r")
            except UnicodeDecodeError:
                raise ValueError(f"{p}:{lineno}: line is not valid utf-8") from None
            if not line.strip():
                continue
            parts = line.rstrip().split(" ")
            if lineno == 1 and len(parts) == 2 and all(x.isdigit() for x in parts):
                continue  # word2vec header "N D"
            if len(parts) < 2:
                raise ValueError(f"{p}:{lineno}: expected 'token v1 ... vD', got {line[:60]!r}")
            if dim is None:
                dim = len(parts) - 1
            elif len(parts) - 1 != dim:
                raise ValueError(f"{p}:{lineno}: expected {dim} values, got {len(parts) - 1}")
            token = parts[0].lower() if lowercase else parts[0]
            idx = vocab.stoi.get(token)
            if idx is None or idx in found:
                continue
            try:
                found[idx] = torch.tensor([float(x) for x in parts[1:]])
            except ValueError:
                raise ValueError(f"{p}:{lineno}: non-numeric value in vector for {token!r}") from None
    if dim is None:
        raise ValueError(f"{p}: no vectors found (empty file)")
    g = torch.Generator().manual_seed(seed)
    weights = torch.randn(len(vocab), dim, generator=g) * 0.1
    for idx, vec in found.items():
        weights[idx] = vec
    weights[vocab.pad_id] = 0.0
    return weights, len(found)


@torch.no_grad()
def init_embedding(embedding: nn.Embedding, path: str | os.PathLike, vocab: Vocab, lowercase: bool = False,
                   seed: int = 0) -> dict:
    """Start ``embedding`` (one row per ``vocab`` id) from the vectors in ``path``.

    Vocabulary tokens with a vector take it; the others get :func:`load_word_vectors`'s
    seeded N(0, 0.1^2) rows, ``<pad>`` zeros. Returns ``{"path", "found", "vocab", "dim"}``
    for reports. Raises ``ValueError`` when the vectors' size differs from the embedding's.
    """
    weights, found = load_word_vectors(path, vocab, lowercase=lowercase, seed=seed)
    if tuple(weights.shape) != tuple(embedding.weight.shape):
        raise ValueError(f"{path}: vectors have {weights.shape[1]} dimensions but the embedding has "
                         f"{embedding.weight.shape[1]}: set the model's word embedding size to {weights.shape[1]}")
    embedding.weight.copy_(weights)
    return {"path": str(path), "found": found, "vocab": len(vocab), "dim": int(weights.shape[1])}
