"""Baseline taggers reported beside the BiLSTM.

* :class:`MostFrequentTagger`: each known word gets its most frequent
  training tag; unknown words get the most frequent tag overall.
* :class:`FeatureTagger`: multinomial logistic regression (scikit-learn) on
  hand features of each token: the lowercased word, prefixes and suffixes of
  1-4 characters, the word shape (``Xxxx`` -> ``Xx``, digits ``d``), capital /
  digit / apostrophe flags, and the previous and next words with their
  suffixes. Each token is classified independently. With ``lexicon=`` (a
  Hunspell dictionary, :class:`lstmkit.text.lexicon.Lexicon`) each token also
  gets the lexicon's feature ids of its word form, ``lex=<id>``: the same
  type-level features the BiLSTM tagger embeds, so that the comparison is
  fair (the baseline is not denied the dictionary the BiLSTM reads).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["MostFrequentTagger", "FeatureTagger", "token_features"]


class MostFrequentTagger:
    """Most frequent tag per (lowercased) word."""

    def fit(self, sentences: Sequence[tuple[list[str], list[str]]]) -> "MostFrequentTagger":
        counts: dict[str, Counter] = defaultdict(Counter)
        overall: Counter = Counter()
        for toks, tags in sentences:
            for w, t in zip(toks, tags):
                counts[w.lower()][t] += 1
                overall[t] += 1
        if not overall:
            raise ValueError("MostFrequentTagger.fit: no tagged tokens")
        self.best = {w: c.most_common(1)[0][0] for w, c in counts.items()}
        self.default = overall.most_common(1)[0][0]
        return self

    def predict(self, token_lists: Sequence[list[str]]) -> list[list[str]]:
        return [[self.best.get(w.lower(), self.default) for w in toks] for toks in token_lists]


def _shape(word: str) -> str:
    s = re.sub(r"[A-ZÇĞİÖŞÜ]", "X", word)
    s = re.sub(r"[a-zçğıöşüâîû]", "x", s)
    s = re.sub(r"[0-9]", "d", s)
    return re.sub(r"(.)\1+", r"\1", s)


def token_features(tokens: Sequence[str], i: int,
                   lexicon: Callable[[str], Sequence[int]] | None = None) -> dict[str, float]:
    """Hand features of token ``i`` in its sentence (plus ``lex=<id>`` for each of the word
    form's lexicon feature ids when ``lexicon`` maps a word to them)."""
    w = tokens[i]
    lw = w.lower()
    f: dict[str, float] = {"bias": 1.0, "w=" + lw: 1.0, "shape=" + _shape(w): 1.0}
    for k in range(1, 5):
        if len(lw) >= k:
            f[f"pre{k}={lw[:k]}"] = 1.0
            f[f"suf{k}={lw[-k:]}"] = 1.0
    if w[:1].isupper():
        f["title"] = 1.0
        f["title_first" if i == 0 else "title_inner"] = 1.0
    if any(c.isdigit() for c in w):
        f["digit"] = 1.0
    if "'" in w or "’" in w:
        f["apostrophe"] = 1.0
    for off, name in ((-1, "prev"), (1, "next")):
        j = i + off
        if 0 <= j < len(tokens):
            o = tokens[j].lower()
            f[f"{name}={o}"] = 1.0
            f[f"{name}_suf2={o[-2:]}"] = 1.0
            if tokens[j][:1].isupper():
                f[f"{name}_title"] = 1.0
        else:
            f[f"{name}=<edge>"] = 1.0
    if lexicon is not None:
        for fid in lexicon(w):
            f[f"lex={fid}"] = 1.0
    return f


class FeatureTagger:
    """Logistic-regression tagger on :func:`token_features`.

    ``lexicon``: a Hunspell dictionary path (``NAME.dic``) or an opened
    :class:`~lstmkit.text.lexicon.Lexicon`, or None (no lexicon features).
    """

    def __init__(self, C: float = 5.0, max_iter: int = 300, lexicon: Any = None) -> None:
        self.C = C
        self.max_iter = max_iter
        self.lexicon = lexicon

    def _lex(self) -> Callable[[str], Sequence[int]] | None:
        """The word -> lexicon feature ids map (the dictionary is opened on first use)."""
        if self.lexicon is None:
            return None
        if isinstance(self.lexicon, (str, Path)):
            from lstmkit.text.lexicon import Lexicon

            self.lexicon = Lexicon.open(self.lexicon)
        return self.lexicon.features  # memoised per word form by the lexicon

    def _features(self, token_lists: Sequence[Sequence[str]]) -> list[dict[str, float]]:
        lex = self._lex()
        return [token_features(toks, i, lex) for toks in token_lists for i in range(len(toks))]

    def fit(self, sentences: Sequence[tuple[list[str], list[str]]]) -> "FeatureTagger":
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.linear_model import LogisticRegression

        feats = self._features([toks for toks, _ in sentences])
        y = [t for _, tags in sentences for t in tags]
        self.vec = DictVectorizer()
        X = self.vec.fit_transform(feats)
        self.clf = LogisticRegression(C=self.C, max_iter=self.max_iter)
        self.clf.fit(X, y)
        return self

    def predict(self, token_lists: Sequence[list[str]]) -> list[list[str]]:
        feats = self._features(token_lists)
        if not feats:
            return [[] for _ in token_lists]
        flat = list(self.clf.predict(self.vec.transform(feats)))
        out, k = [], 0
        for toks in token_lists:
            out.append(flat[k : k + len(toks)])
            k += len(toks)
        return out
