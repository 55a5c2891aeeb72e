r"""CTC decoding: best path (greedy) and prefix beam search with optional LM fusion and a lexicon.

A CTC network gives per frame :math:`t \le T` log-probabilities
:math:`\log y_t(k)` over blank (id 0) and the labels. A path :math:`\pi \in
\{0..V-1\}^T` has :math:`p(\pi) = \prod_t y_t(\pi_t)`; the collapse
:math:`\mathcal{B}(\pi)` merges repeated ids, then drops blanks; a labelling
:math:`l` has :math:`p(l) = \sum_{\pi : \mathcal{B}(\pi) = l} p(\pi)`.

* :func:`greedy`: :math:`\mathcal{B}(\arg\max_\pi p(\pi))`, i.e. the argmax per frame, collapsed.
* :func:`prefix_beam_search` (Graves 2012; Hannun et al. 2014): for each
  prefix :math:`\ell` it tracks :math:`p_b(\ell)` (paths so far that collapse
  to :math:`\ell` and end in blank) and :math:`p_{nb}(\ell)` (end in
  :math:`\ell`'s last label). At frame :math:`t`, with :math:`p = p_b + p_{nb}`:

  .. math::
      p_b'(\ell) \mathrel{+}= p(\ell)\, y_t(0), \qquad
      p_{nb}'(\ell) \mathrel{+}= p_{nb}(\ell)\, y_t(\ell_{-1}),

      p_{nb}'(\ell c) \mathrel{+}= y_t(c)\, \lambda(c \mid \ell) \cdot
      \begin{cases} p_b(\ell) & c = \ell_{-1} \\ p(\ell) & \text{otherwise,} \end{cases}

  and only the ``beam_size`` most probable prefixes are kept. Without an LM
  (:math:`\lambda = 1`) and with a beam wide enough to keep every prefix, the
  scores are exactly :math:`\log p(\ell)`, so the result is the most probable
  labelling (``tests/tasks/test_speech_decode.py`` checks this against a
  brute-force sum over all :math:`V^T` paths). Shallow fusion:
  :math:`\lambda(c \mid \ell) = P_{LM}(c \mid \ell)^{w}`, and the final scores
  add :math:`w \log P_{LM}(\text{end} \mid \ell)`. With a lexicon a prefix
  survives only while its last word is a prefix of a lexicon word, and a
  space (or the end) only after a whole lexicon word.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from lstmkit.tasks.generate.ngram import KneserNeyLM
from lstmkit.tasks.speech.data import BLANK

NEG_INF = float("-inf")


def _lae(a: float, b: float) -> float:
    """log(exp(a) + exp(b)) without overflow."""
    if a == NEG_INF:
        return b
    if b == NEG_INF:
        return a
    if a > b:
        return a + math.log1p(math.exp(b - a))
    return b + math.log1p(math.exp(a - b))


def collapse(path: Iterable[int], blank: int = BLANK) -> list[int]:
    """:math:`\\mathcal{B}`: merge repeated ids, then drop blanks."""
    out, prev = [], None
    for k in path:
        k = int(k)
        if k != prev and k != blank:
            out.append(k)
        prev = k
    return out


def greedy(log_probs: np.ndarray) -> list[int]:
    """Best-path decoding of ``(T, V)`` log-probabilities."""
    return collapse(np.asarray(log_probs).argmax(axis=1))


class CharLM:
    """A character Kneser-Ney n-gram over vocabulary ids; id 0 (the CTC blank) marks utterance boundaries."""

    def __init__(self, texts: Sequence[Sequence[int]], vocab_size: int, order: int = 4) -> None:
        stream = [BLANK]
        for ids in texts:
            stream += list(ids) + [BLANK]
        self.order = order
        self.lm = KneserNeyLM(min(order, max(1, len(stream))), vocab_size).fit(stream)
        self._cache: dict[tuple, float] = {}

    def logp(self, prefix: tuple[int, ...], token: int) -> float:
        """:math:`\\log P(\\text{token} \\mid \\text{prefix})`; token 0: the end of the utterance."""
        context = ((BLANK,) + prefix)[-(self.lm.order - 1):] if self.lm.order > 1 else ()
        key = (context, token)
        if key not in self._cache:
            self._cache[key] = math.log(max(self.lm.prob(context, token), 1e-300))
        return self._cache[key]


class Lexicon:
    """Allowed words (as id tuples, split at ``space``) and all their prefixes."""

    def __init__(self, words: Iterable[Sequence[int]], space: int | None) -> None:
        self.space = space
        self.words = {tuple(w) for w in words if len(w)}
        self.prefixes = {w[:i] for w in self.words for i in range(len(w) + 1)}

    def _last_word(self, prefix: tuple[int, ...]) -> tuple[int, ...]:
        if self.space is None or self.space not in prefix:
            return prefix
        return prefix[len(prefix) - prefix[::-1].index(self.space):]

    def allows(self, prefix: tuple[int, ...], token: int) -> bool:
        word = self._last_word(prefix)
        if token == self.space:
            return word in self.words
        return word + (token,) in self.prefixes

    def complete(self, prefix: tuple[int, ...]) -> bool:
        word = self._last_word(prefix)
        return not prefix or word in self.words


def _slots(table: dict[tuple[int, ...], list[float]]):
    """``slot(prefix)``: the ``[log p_b, log p_nb]`` entry of ``prefix`` in ``table``, created at ``-inf``."""

    def slot(key: tuple[int, ...]) -> list[float]:
        if key not in table:
            table[key] = [NEG_INF, NEG_INF]
        return table[key]

    return slot


def prefix_beam_search(log_probs: np.ndarray, beam_size: int = 8, lm: CharLM | None = None,
                       lm_weight: float = 0.0, lexicon: Lexicon | None = None,
                       prune: float = -12.0) -> list[tuple[list[int], float]]:
    """The kept prefixes after the last frame, best first, as ``(ids, log score)`` (module docstring).

    ``prune``: labels whose log-probability at a frame is below it are not
    tried at that frame (``-inf``: try all; exactness needs that).
    """
    lp = np.asarray(log_probs, dtype=np.float64)
    steps, vocab = lp.shape
    use_lm = lm is not None and lm_weight > 0
    beams: dict[tuple[int, ...], list[float]] = {(): [0.0, NEG_INF]}
    for t in range(steps):
        row = lp[t]
        labels = [c for c in range(vocab) if c != BLANK and row[c] >= prune]
        nxt: dict[tuple[int, ...], list[float]] = {}
        slot = _slots(nxt)
        for prefix, (pb, pnb) in beams.items():
            total = _lae(pb, pnb)
            s = slot(prefix)
            s[0] = _lae(s[0], total + row[BLANK])
            last = prefix[-1] if prefix else None
            if last is not None:
                s[1] = _lae(s[1], pnb + row[last])
            for c in labels:
                if lexicon is not None and not lexicon.allows(prefix, c):
                    continue
                bonus = lm_weight * lm.logp(prefix, c) if use_lm else 0.0
                source = pb if c == last else total
                if source == NEG_INF:
                    continue
                e = slot(prefix + (c,))
                e[1] = _lae(e[1], source + row[c] + bonus)
        ranked = sorted(nxt.items(), key=lambda kv: _lae(*kv[1]), reverse=True)
        beams = dict(ranked[:beam_size])
    final = []
    for prefix, (pb, pnb) in beams.items():
        score = _lae(pb, pnb)
        if use_lm:
            score += lm_weight * lm.logp(prefix, BLANK)
        final.append((prefix, score))
    if lexicon is not None:
        complete = [f for f in final if lexicon.complete(f[0])]
        final = complete or final
    final.sort(key=lambda f: f[1], reverse=True)
    return [(list(p), s) for p, s in final]
