r"""A Hunspell dictionary as type-level word features (what the lexicon knows of a word form).

A Hunspell dictionary (``NAME.dic`` + ``NAME.aff``, e.g. Debian's
``hunspell-tr``: 371k Turkish stems) lists stems with the affix classes
(flags) each one takes. Which affixes a stem takes is a strong signal of its
word class: a Turkish noun stem takes case and plural endings, a verb stem
tense and person endings. For a word form :math:`w` the lexicon gives its
analyses :math:`A(w)` (stem + affix, found by the ``spylls`` port of Hunspell's
lookup, trying the form as written, lowercased and capitalised) and turns them
into a bag of feature ids:

.. math::
    \phi(w) = \{\mathrm{found\ as\ written}\ |\ \mathrm{found\ in\ another\ case}\ |\ \mathrm{not\ found}\}
      \ \cup \bigcup_{a \in A(w)} \big(\{\mathrm{stem}(a)\text{'s flags}\} \cup
      \{\mathrm{affix\ flag}(a)\ \mathrm{or\ bare\ stem}\}\big)

A tagger embeds :math:`\phi(w)` with ``nn.EmbeddingBag(mode="mean")`` (as
:mod:`~lstmkit.tasks.tag.model` does), so a word never seen in the tagged
training data still carries the word class its stem implies. Lexicon
features of this kind are a known remedy for small tagged corpora (Plank &
Klerke 2018, "Lexical resources for low-resource PoS tagging in neural times").

Example:
    >>> lex = Lexicon.open("/usr/share/hunspell/tr_TR.dic")  # doctest: +SKIP
    >>> lex.features("evlerde")                                # doctest: +SKIP
    [1, ...]
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["Lexicon"]

NOT_FOUND, FOUND, OTHER_CASE, BARE_STEM = 0, 1, 2, 3
_SPECIALS = 4


def _prefix(path: str | os.PathLike) -> Path:
    """``NAME`` of ``NAME.dic`` / ``NAME.aff`` / ``NAME``."""
    p = Path(path)
    return p.with_suffix("") if p.suffix in (".dic", ".aff") else p


def _stamp(p: Path) -> tuple[int, int] | None:
    return (p.stat().st_size, p.stat().st_mtime_ns) if p.is_file() else None


class Lexicon:
    """Feature ids of word forms from a Hunspell dictionary (see the module docstring).

    Args:
        path: the ``.dic`` file (its ``.aff`` file must sit beside it) or the
            common prefix of the two (``/usr/share/hunspell/tr_TR``).
    """

    _cache: dict[tuple, Lexicon] = {}

    def __init__(self, path: str | os.PathLike) -> None:
        prefix = _prefix(path)
        self.dic_path, self.aff_path = prefix.with_suffix(".dic"), prefix.with_suffix(".aff")
        for p in (self.dic_path, self.aff_path):
            if not p.is_file():
                raise FileNotFoundError(f"Hunspell lexicon file not found: {p} (a lexicon is NAME.dic + NAME.aff; "
                                        "Debian/Ubuntu: apt-get install hunspell-LANG)")
        try:
            from spylls.hunspell import Dictionary
        except ImportError:  # pragma: no cover - spylls is a dependency
            raise ImportError("Hunspell lexicons need the spylls package: pip install spylls") from None
        self.path = str(self.dic_path)
        self._dictionary = Dictionary.from_files(str(prefix))
        aff = self._dictionary.aff
        flags = sorted({str(f) for table in (aff.SFX, aff.PFX) for f in table}
                       | {str(f) for w in self._dictionary.dic.words for f in w.flags})
        self._stem_flag = {f: _SPECIALS + i for i, f in enumerate(flags)}
        self._affix_flag = {f: _SPECIALS + len(flags) + i for i, f in enumerate(flags)}
        self.size = _SPECIALS + 2 * len(flags)
        self._memo: dict[str, list[int]] = {}
        self._digest: str | None = None

    @classmethod
    def open(cls, path: str | os.PathLike) -> Lexicon:
        """A lexicon, loaded once per process and path (loading a large dictionary takes seconds);
        loaded again when its files change."""
        prefix = _prefix(path).resolve()
        key = (str(prefix), _stamp(prefix.with_suffix(".dic")), _stamp(prefix.with_suffix(".aff")))
        if key not in cls._cache:
            cls._cache[key] = cls(path)
        return cls._cache[key]

    def sha256(self) -> str:
        """Digest of the ``.dic`` and ``.aff`` bytes: a saved model records which lexicon it learned from.

        Read once per loaded lexicon (:meth:`open` loads again when the files change)."""
        if self._digest is None:
            h = hashlib.sha256()
            for p in (self.dic_path, self.aff_path):
                h.update(p.read_bytes())
            self._digest = h.hexdigest()
        return self._digest

    def analyses(self, word: str) -> list[tuple[str, str | None, frozenset[str], bool]]:
        """``(stem, affix flag or None, stem flags, as written)`` for each analysis of ``word``."""
        out = []
        variants = dict.fromkeys([word, word.lower(), word[:1].upper() + word[1:].lower()])
        for form in variants:
            for a in self._dictionary.lookuper.good_forms(form):
                affix = a.suffix or a.prefix
                flags = frozenset(str(f) for f in a.in_dictionary.flags) if a.in_dictionary else frozenset()
                out.append((a.stem, str(affix.flag) if affix else None, flags, form == word))
        return out

    def features(self, word: str) -> list[int]:
        """Sorted feature ids of ``word`` (never empty; ids are below :attr:`size`)."""
        hit = self._memo.get(word)
        if hit is not None:
            return hit
        found = self.analyses(word)
        ids: set[int] = set()
        if not found:
            ids.add(NOT_FOUND)
        else:
            ids.add(FOUND if any(written for *_, written in found) else OTHER_CASE)
            for _, affix, flags, _ in found:
                ids.update(self._stem_flag[f] for f in flags if f in self._stem_flag)
                ids.add(self._affix_flag.get(affix, BARE_STEM) if affix else BARE_STEM)
        hit = self._memo[word] = sorted(ids)
        return hit
