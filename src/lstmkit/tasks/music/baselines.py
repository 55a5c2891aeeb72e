"""Baselines beside every report: note frequencies and smoothed n-grams.

* :class:`NoteFrequency` -- every frame drawn from the same independent
  Bernoulli notes, :math:`p(v) = \\prod_d q_d^{v_d} (1 - q_d)^{1 - v_d}` with
  :math:`q_d = (n_d + \\alpha) / (N + 2\\alpha)` (``n_d`` frames with note d
  among ``N``).
* :class:`WittenBell` -- an interpolated Witten-Bell n-gram over any
  hashable symbols,

  .. math::

      p(w \\mid h) = \\frac{c(h, w) + T(h)\\, p(w \\mid h')}{c(h) + T(h)},

  ``T(h)`` the number of distinct symbols seen after context ``h``, ``h'``
  the context without its oldest symbol, and at the empty context a *base*
  distribution the caller gives (``p(w | h) = p(w | h')`` for an unseen
  ``h``). With a normalised base every order is normalised.
* :class:`FrameNGram` -- the n-gram over whole frames (chords), its base the
  note-frequency model, so an unseen chord still has a probability.
* :class:`VoiceNGram` -- the n-gram over the interleaved voice tokens, its
  context ending in the voice of the token to predict; base uniform.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence

import numpy as np

from .encoding import N_TOKENS, REST


class NoteFrequency:
    """Frame-independent note frequencies; ``log_prob(roll (T, P)) -> (T,)`` nats."""

    def __init__(self, alpha: float = 0.5) -> None:
        self.alpha = alpha
        self.q: np.ndarray | None = None

    def fit(self, rolls: Sequence[np.ndarray]) -> NoteFrequency:
        stacked = np.concatenate([np.asarray(r) for r in rolls])  # (N, P)
        self.q = (stacked.sum(0) + self.alpha) / (stacked.shape[0] + 2 * self.alpha)
        return self

    def log_prob(self, roll: np.ndarray) -> np.ndarray:
        v = np.asarray(roll, dtype=np.float64)
        return (v * np.log(self.q) + (1 - v) * np.log1p(-self.q)).sum(-1)

    def frame_log_prob(self, chord: tuple[int, ...]) -> float:
        """``log p`` of one frame given as the tuple of its active indices."""
        v = np.zeros(len(self.q))
        v[list(chord)] = 1.0
        return float(self.log_prob(v[None])[0])


class WittenBell:
    """Interpolated Witten-Bell n-gram of order ``order`` over hashable symbols."""

    def __init__(self, order: int, base: Callable[[Hashable], float]) -> None:
        if order < 1:
            raise ValueError(f"order: expected an int >= 1, got {order!r}")
        self.order = order
        self.base = base  # symbol -> probability (normalised over all symbols)
        self.counts: dict[tuple, Counter] = defaultdict(Counter)

    def add(self, context: tuple, symbol: Hashable) -> None:
        """Count ``symbol`` after every suffix of ``context`` (up to ``order - 1`` symbols)."""
        context = tuple(context)[-(self.order - 1):] if self.order > 1 else ()
        for i in range(len(context) + 1):
            self.counts[context[i:]][symbol] += 1

    def prob(self, context: tuple, symbol: Hashable) -> float:
        context = tuple(context)[-(self.order - 1):] if self.order > 1 else ()
        p = self.base(symbol)
        for i in range(len(context), -1, -1):  # shortest context first
            seen = self.counts.get(context[i:])
            if not seen:
                continue
            total, types = sum(seen.values()), len(seen)
            p = (seen.get(symbol, 0) + types * p) / (total + types)
        return p

    def distribution(self, context: tuple, symbols: Sequence[Hashable]) -> np.ndarray:
        """:meth:`prob` of each of ``symbols`` at once (the same recursion, vectorised)."""
        context = tuple(context)[-(self.order - 1):] if self.order > 1 else ()
        p = np.asarray([self.base(s) for s in symbols], dtype=np.float64)
        for i in range(len(context), -1, -1):
            seen = self.counts.get(context[i:])
            if not seen:
                continue
            total, types = sum(seen.values()), len(seen)
            counts = np.asarray([seen.get(s, 0) for s in symbols], dtype=np.float64)
            p = (counts + types * p) / (total + types)
        return p


class FrameNGram:
    """Witten-Bell n-gram over frames (chords); ``log_prob(roll (T, P)) -> (T,)`` nats."""

    def __init__(self, order: int = 2, alpha: float = 0.5) -> None:
        self.order = order
        self.notes = NoteFrequency(alpha)
        self.model: WittenBell | None = None
        self._base_cache: dict[tuple, float] = {}

    @staticmethod
    def chords(roll: np.ndarray) -> list[tuple[int, ...]]:
        return [tuple(int(i) for i in np.flatnonzero(row > 0.5)) for row in np.asarray(roll)]

    def _base(self, chord: tuple) -> float:
        if chord not in self._base_cache:
            self._base_cache[chord] = math.exp(self.notes.frame_log_prob(chord))
        return self._base_cache[chord]

    def fit(self, rolls: Sequence[np.ndarray]) -> FrameNGram:
        self.notes.fit(rolls)
        self.model = WittenBell(self.order, self._base)
        for roll in rolls:
            chords = [("<s>",)] * (self.order - 1) + self.chords(roll)
            for t in range(self.order - 1, len(chords)):
                self.model.add(tuple(chords[t - self.order + 1 : t]), chords[t])
        return self

    def log_prob(self, roll: np.ndarray) -> np.ndarray:
        chords = [("<s>",)] * (self.order - 1) + self.chords(roll)
        out = [math.log(self.model.prob(tuple(chords[t - self.order + 1 : t]), chords[t]))
               for t in range(self.order - 1, len(chords))]
        return np.asarray(out)


class VoiceNGram:
    """Witten-Bell n-gram over the interleaved voice stream (see :mod:`.encoding`)."""

    def __init__(self, order: int = 9) -> None:
        self.order = order
        self.model = WittenBell(order + 1, lambda _symbol: 1.0 / N_TOKENS)

    def _context(self, stream: Sequence[int], i: int) -> tuple:
        before = tuple(int(t) for t in stream[max(0, i - self.order + 1) : i])
        return before + (("voice", i % 4),)  # the voice is the last context item: kept longest

    def fit(self, streams: Iterable[np.ndarray]) -> VoiceNGram:
        for stream in streams:
            for i in range(len(stream)):
                self.model.add(self._context(stream, i), int(stream[i]))
        return self

    def distribution(self, stream: Sequence[int], i: int) -> np.ndarray:
        """``p(x_i = k | x_{<i})`` for every token k, ``(N_TOKENS,)``."""
        return self.model.distribution(self._context(stream, i), range(N_TOKENS))

    def harmonize(self, soprano: np.ndarray) -> np.ndarray:
        """Greedy alto/tenor/bass for a fixed soprano ``(T,)`` -> voices ``(4, T)``."""
        stream = np.full(4 * len(soprano), REST, dtype=np.int64)
        for i in range(len(stream)):
            if i % 4 == 0:
                stream[i] = soprano[i // 4]
            else:
                stream[i] = int(np.argmax(self.distribution(stream, i)))
        return stream.reshape(-1, 4).T  # (4T,) -> (T, 4) -> (4, T)
