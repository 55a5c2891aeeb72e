"""Vocabulary: token <-> integer id, with special tokens.

Ids ``0..len(specials)-1`` are the specials, in the order given (by default
``<pad>`` = 0, ``<unk>`` = 1, ``<bos>`` = 2, ``<eos>`` = 3); then the kept
tokens, most frequent first (ties broken by the token string, so a build is
deterministic). A token is kept when its count is ``>= min_freq``; at most
``max_size`` non-special tokens are kept. Unseen tokens map to ``<unk>``.

Example:
    >>> v = Vocab.build([["a", "b", "a"], ["c"]], min_freq=1)
    >>> v.encode(["a", "zzz"], add_eos=True)
    [4, 1, 3]
    >>> v.decode([2, 4, 5, 3])
    ['a', 'b']
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from lstmkit.io import atomic_write_json

__all__ = ["Vocab", "PAD", "UNK", "BOS", "EOS", "DEFAULT_SPECIALS"]

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
DEFAULT_SPECIALS: tuple[str, ...] = (PAD, UNK, BOS, EOS)


class Vocab:
    """A fixed mapping between tokens and ids.

    Args:
        tokens: all tokens in id order, specials included.
        specials: the special tokens (must be the first entries of ``tokens``);
            ``<pad>`` and ``<unk>`` are required.
    """

    def __init__(self, tokens: Sequence[str], specials: Sequence[str] = DEFAULT_SPECIALS) -> None:
        tokens = list(tokens)
        specials = tuple(specials)
        for req in (PAD, UNK):
            if req not in specials:
                raise ValueError(f"specials must include {req!r}, got {specials}")
        if tuple(tokens[: len(specials)]) != specials:
            raise ValueError(
                f"tokens must start with the specials {specials}, got {tuple(tokens[: len(specials)])}"
            )
        self.itos: list[str] = tokens
        self.stoi: dict[str, int] = {}
        for i, t in enumerate(tokens):
            if not isinstance(t, str):
                raise TypeError(f"vocabulary tokens must be str, got {type(t).__name__} at id {i}")
            if t in self.stoi:
                raise ValueError(f"duplicate token {t!r} in vocabulary (ids {self.stoi[t]} and {i})")
            self.stoi[t] = i
        self.specials = specials
        self.counts: dict[str, int] = {}

    @classmethod
    def build(
        cls,
        sequences: Iterable[Iterable[str]],
        min_freq: int = 1,
        max_size: int | None = None,
        specials: Sequence[str] = DEFAULT_SPECIALS,
    ) -> "Vocab":
        """Count tokens over ``sequences`` and keep the frequent ones."""
        if min_freq < 1:
            raise ValueError(f"min_freq must be >= 1, got {min_freq}")
        if max_size is not None and max_size < 0:
            raise ValueError(f"max_size must be >= 0 or None, got {max_size}")
        counts: Counter[str] = Counter()
        for seq in sequences:
            counts.update(seq)
        specials = tuple(specials)
        kept = sorted(
            (t for t, c in counts.items() if c >= min_freq and t not in specials),
            key=lambda t: (-counts[t], t),
        )
        if max_size is not None:
            kept = kept[:max_size]
        vocab = cls(list(specials) + kept, specials)
        vocab.counts = {t: counts[t] for t in kept}
        return vocab

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and self.itos == other.itos and self.specials == other.specials

    def __repr__(self) -> str:
        return f"Vocab(size={len(self)}, specials={self.specials})"

    @property
    def pad_id(self) -> int:
        return self.stoi[PAD]

    @property
    def unk_id(self) -> int:
        return self.stoi[UNK]

    @property
    def bos_id(self) -> int:
        if BOS not in self.stoi:
            raise KeyError("this vocabulary has no <bos> token")
        return self.stoi[BOS]

    @property
    def eos_id(self) -> int:
        if EOS not in self.stoi:
            raise KeyError("this vocabulary has no <eos> token")
        return self.stoi[EOS]

    def index(self, token: str) -> int:
        """Id of ``token``; ``<unk>``'s id when unseen."""
        return self.stoi.get(token, self.stoi[UNK])

    def encode(self, tokens: Iterable[str], add_bos: bool = False, add_eos: bool = False) -> list[int]:
        """Map tokens to ids (unseen -> ``<unk>``), optionally framed by ``<bos>``/``<eos>``."""
        unk = self.stoi[UNK]
        ids = [self.stoi.get(t, unk) for t in tokens]
        if add_bos:
            ids.insert(0, self.bos_id)
        if add_eos:
            ids.append(self.eos_id)
        return ids

    def decode(self, ids: Iterable[int], strip_specials: bool = True) -> list[str]:
        """Map ids back to tokens; drops pad/bos/eos when ``strip_specials`` (``<unk>`` stays)."""
        out = []
        drop = {self.stoi[s] for s in self.specials if s != UNK} if strip_specials else set()
        n = len(self.itos)
        for i in ids:
            i = int(i)
            if not 0 <= i < n:
                raise ValueError(f"id {i} out of range for a vocabulary of size {n}")
            if i not in drop:
                out.append(self.itos[i])
        return out

    def to_dict(self) -> dict:
        return {"tokens": list(self.itos), "specials": list(self.specials)}

    @classmethod
    def from_dict(cls, d: dict) -> "Vocab":
        if not isinstance(d, dict) or "tokens" not in d or "specials" not in d:
            raise ValueError("a vocabulary dict needs 'tokens' and 'specials' keys")
        return cls(d["tokens"], d["specials"])

    def save(self, path: str | os.PathLike) -> Path:
        """Write the vocabulary as JSON, atomically."""
        return atomic_write_json(path, self.to_dict(), ensure_ascii=False, indent=None)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Vocab":
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FileNotFoundError(f"{p}: vocabulary file not found") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ValueError(f"{p}: not a vocabulary JSON file ({err})") from None
        return cls.from_dict(data)
