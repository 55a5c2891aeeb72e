r"""Ensembles of taggers by log-linear pooling: one CRF whose scores are the members' mean.

Members :math:`m = 1..M` score a tag path :math:`y` of sentence :math:`x` with
their emissions :math:`E^m` and CRF potentials (transitions :math:`A^m`,
start :math:`s^m`, end :math:`e^m`):

.. math::
    \mathrm{score}_m(y) = s^m_{y_1} + \sum_{t=1}^{T} E^m_{t, y_t}
        + \sum_{t=2}^{T} A^m_{y_{t-1}, y_t} + e^m_{y_T},
    \qquad
    \mathrm{score}(y) = \frac{1}{M} \sum_m \mathrm{score}_m(y)

so the ensemble is itself a linear-chain CRF with averaged emissions and
potentials. Each member's :math:`\log Z_m(x)` does not depend on :math:`y`,
hence its Viterbi path maximises the geometric mean
:math:`\prod_m p_m(y \mid x)^{1/M}`. With softmax heads the members'
per-token log-probabilities are averaged and each token takes the argmax.

The members may have been trained on different validation folds (so that
together they see every training sentence, :func:`fit_ensemble`) and with
different vocabularies; they must share the tag set and the head.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from lstmkit.io import atomic_write_json
from lstmkit.text import lengths_to_mask
from lstmkit.train import FitResult, ModelLoadError, TrainConfig
from lstmkit.train.model_dir import replace_model_dir

from .api import Tagger, as_pairs, report
from .crf import CRF
from .model import TaggerConfig

__all__ = ["TaggerEnsemble", "fit_ensemble", "fold_split", "load_tagger", "MANIFEST"]

MANIFEST = "ensemble.json"
FORMAT_VERSION = 1


class TaggerEnsemble:
    """Several trained :class:`Tagger` s decoding as one (see the module docstring)."""

    def __init__(self, members: Sequence[Tagger]) -> None:
        members = list(members)
        if not members:
            raise ValueError("an ensemble needs at least one trained tagger")
        for i, m in enumerate(members):
            if not isinstance(m, Tagger):
                raise TypeError(f"member {i}: expected a Tagger, got {type(m).__name__}")
            m._require()
        first = members[0]
        for i, m in enumerate(members[1:], start=1):
            if m.encoder.tags != first.encoder.tags:
                raise ValueError(f"member {i} has tags {m.encoder.tags}, member 0 has {first.encoder.tags}: "
                                 "members must share the tag set (train them on the same tagged data)")
            if m.config.head != first.config.head:
                raise ValueError(f"member {i} has a {m.config.head!r} head, member 0 a {first.config.head!r} head")
        self.members = members
        self.last_decode_seconds = 0.0

    @property
    def tags(self) -> list[str]:
        return self.members[0].encoder.tags

    @property
    def head(self) -> str:
        return self.members[0].config.head

    def _pooled_crf(self) -> CRF:
        """A CRF whose transition / start / end scores are the members' means (constraints included)."""
        scores = [m.net.crf._scores() for m in self.members]
        crf = CRF(len(self.tags))
        with torch.no_grad():
            for k, name in enumerate(("transitions", "start", "end")):
                getattr(crf, name).copy_(torch.stack([s[k] for s in scores]).mean(0))
        return crf

    @torch.no_grad()
    def predict(self, sentences, batch_size: int = 256) -> list[list[str]]:
        """Tags for each sentence, decoded from the pooled scores in batches of ``batch_size``."""
        sentences = list(sentences)
        start = time.perf_counter()
        per_member = [m.emissions(sentences, batch_size) for m in self.members]
        if self.head == "crf":
            pooled = [torch.stack(ems).mean(0) for ems in zip(*per_member)]
            crf = self._pooled_crf()
        else:
            pooled = [torch.stack([e.log_softmax(-1) for e in ems]).mean(0) for ems in zip(*per_member)]
        out: list[list[str]] = []
        for lo in range(0, len(pooled), batch_size):
            chunk = pooled[lo:lo + batch_size]
            em = torch.nn.utils.rnn.pad_sequence(chunk, batch_first=True)  # (B, T, K)
            lengths = torch.tensor([len(e) for e in chunk])
            if self.head == "crf":
                mask = lengths_to_mask(lengths, em.shape[1])
                ids = crf.decode(em, mask)[0]
            else:
                ids = em.argmax(-1)
            out.extend([self.tags[k] for k in row[:n]] for row, n in zip(ids.tolist(), lengths.tolist()))
        self.last_decode_seconds = time.perf_counter() - start
        return out

    def evaluate(self, sentences) -> dict[str, float]:
        """As :meth:`Tagger.evaluate`; a word is unseen when no member's vocabulary has it."""
        pairs = as_pairs(sentences)
        if any(t is None for _, t in pairs):
            raise ValueError("evaluation sentences need tags")
        for i, (_, tags) in enumerate(pairs):
            self.members[0].encoder.tag_ids(tags, where=f"sentence {i}: ")
        pred = self.predict([t for t, _ in pairs])

        def unseen(word: str) -> bool:
            return all(m.encoder.words.stoi.get(word.lower() if m.encoder.lowercase else word) is None
                       for m in self.members)

        return report(pairs, pred, [[unseen(w) for w in toks] for toks, _ in pairs], self.last_decode_seconds)

    def save(self, path: str | os.PathLike) -> Path:
        """Write ``path/ensemble.json`` and one saved-model directory per member, atomically.

        Replaces only an existing saved model or ensemble at ``path``, like
        :func:`lstmkit.train.save_model` (see :mod:`lstmkit.train.model_dir`)."""
        with replace_model_dir(path) as tmp:
            names = [f"member-{i}" for i in range(len(self.members))]
            for name, m in zip(names, self.members):
                m.save(tmp / name)
            atomic_write_json(tmp / MANIFEST, {"format_version": FORMAT_VERSION, "task": "tag", "members": names})
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "TaggerEnsemble":
        """Read a directory written by :meth:`save` (raises ``ModelLoadError`` when unusable)."""
        path = Path(path)
        try:
            manifest = json.loads((path / MANIFEST).read_text())
            names = manifest["members"]
            version = int(manifest["format_version"])
        except FileNotFoundError:
            raise ModelLoadError(f"'{path}' is not a tagger ensemble: it has no {MANIFEST}") from None
        except (ValueError, KeyError, TypeError) as e:
            raise ModelLoadError(f"'{path / MANIFEST}' is not a valid ensemble manifest ({e})") from None
        if version > FORMAT_VERSION:
            raise ModelLoadError(f"'{path / MANIFEST}' has format_version {version}, newer than the "
                                 f"{FORMAT_VERSION} this lstmkit reads; upgrade lstmkit")
        if not isinstance(names, list) or not names:
            raise ModelLoadError(f"'{path / MANIFEST}' lists no members")
        return cls([Tagger.load(path / str(n)) for n in names])


def fold_split(sentences: Sequence, k: int, n_folds: int = 10) -> tuple[list, list]:
    """``(train, validation)``: fold ``k % n_folds`` of ``n_folds`` equal folds, counted from the end, is
    the validation part (fold 0 = the last ``n // n_folds`` sentences)."""
    sentences = list(sentences)
    n = len(sentences)
    if n < n_folds:
        raise ValueError(f"need at least {n_folds} sentences for {n_folds} validation folds, got {n}")
    j = k % n_folds
    lo, hi = n - (j + 1) * n // n_folds, n - j * n // n_folds
    return sentences[:lo] + sentences[hi:], sentences[lo:hi]


def fit_ensemble(
    train,
    config: TaggerConfig | None = None,
    train_config: TrainConfig | None = None,
    members: int = 5,
    val=None,
    vectors: str | os.PathLike | None = None,
) -> tuple[TaggerEnsemble, list[FitResult]]:
    """Train ``members`` taggers and return them as one :class:`TaggerEnsemble` with their fit results.

    Member ``k`` trains with seed ``train_config.seed + k`` and keeps the weights of its best epoch by
    ``train_config.monitor`` (e.g. ``"val_acc"``, mode ``"max"``) on the validation sentences: ``val``
    for every member when given; otherwise member ``k`` holds out fold ``k`` of ``train``
    (:func:`fold_split`), so that the members together learn from every training sentence. All
    members share the tag set of ``train``; ``vectors`` start each member's word embedding
    (:meth:`Tagger.fit`).
    """
    if not isinstance(members, int) or members < 1:
        raise ValueError(f"members: expected an int >= 1, got {members!r}")
    train = as_pairs(train)
    if any(t is None for _, t in train):
        raise ValueError("training sentences need tags")
    tags = sorted({t for _, ts in train for t in ts})
    base = train_config or Tagger(config).train_config
    taggers, results = [], []
    for k in range(members):
        part, held_out = (train, val) if val is not None else fold_split(train, k)
        tagger = Tagger(config, base.replace(seed=base.seed + k))
        results.append(tagger.fit(part, held_out, tags=tags, vectors=vectors))
        taggers.append(tagger)
    return TaggerEnsemble(taggers), results


def load_tagger(path: str | os.PathLike) -> Tagger | TaggerEnsemble:
    """Load a saved tagger or tagger ensemble, whichever ``path`` holds (any layout ``Tag.load`` reads)."""
    if (Path(path) / MANIFEST).exists():
        return TaggerEnsemble.load(path)
    from .task import Tag

    return Tag.load(path).tagger
