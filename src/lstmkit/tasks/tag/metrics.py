"""Tagging metrics: token accuracy and exact-match span precision / recall / F1 (seqeval).

Spans are read by seqeval's conlleval-compatible (default, lenient) mode from BIO (IOB2),
IOBES and BILOU tags. BILOU is IOBES with other letters: ``L-`` (last) is read as ``E-``
and ``U-`` (unit) as ``S-`` before seqeval sees the tags. A span opens at ``B-X``,
``S-X``, or any ``I-X``/``E-X`` that does not continue an open ``X`` span (so a stray
``I-X`` after ``O`` or after another type still counts as an entity, as in conlleval);
it closes after ``E-X``/``S-X`` and before ``O``, a new ``B-``/``S-``, or a change of type.
Any tag without one of the prefixes ``B I E S L U`` followed by ``-`` and a type is
read as ``O``. A predicted span counts as correct only when its start, end and type
all match a gold span:

.. math::
    P = \\frac{|G \\cap S|}{|S|},\\quad R = \\frac{|G \\cap S|}{|G|},\\quad
    F_1 = \\frac{2PR}{P+R}

summed over all sentences (micro average), and per entity type for :func:`span_report`;
0 where a denominator is 0.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence

__all__ = ["bio_spans", "has_span_tags", "span_prf", "span_report", "span_scores", "tag_scores", "token_accuracy"]

_SPAN_TAG = re.compile(r"^([BIESLU])-(.+)$")
_BILOU = {"L": "E", "U": "S"}


def _seqeval():
    try:
        from seqeval.metrics import sequence_labeling
    except ImportError as err:  # pragma: no cover - seqeval is in the text extra
        raise ImportError("span scores need seqeval: pip install 'lstmkit[text]'") from err
    return sequence_labeling


def _normalise(tags: Sequence[str]) -> list[str]:
    """Tags as seqeval reads them: BILOU's ``L-``/``U-`` as ``E-``/``S-``, non-span tags as ``O``."""
    out = []
    for tag in tags:
        match = _SPAN_TAG.match(tag)
        out.append("O" if match is None else f"{_BILOU.get(match[1], match[1])}-{match[2]}")
    return out


def _pairs(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> tuple[list, list]:
    if len(gold) != len(pred):
        raise ValueError(f"gold and pred must have the same number of sentences, got {len(gold)} and {len(pred)}")
    for i, (g, p) in enumerate(zip(gold, pred)):
        if len(g) != len(p):
            raise ValueError(f"sentence {i}: gold has {len(g)} tags, pred has {len(p)}")
    return [_normalise(g) for g in gold], [_normalise(p) for p in pred]


def bio_spans(tags: Sequence[str]) -> set[tuple[int, int, str]]:
    """Spans ``(start, end_exclusive, type)`` of one BIO, IOBES or BILOU tag sequence."""
    return {(start, end + 1, kind) for kind, start, end in _seqeval().get_entities(_normalise(tags))}


def has_span_tags(tags: Sequence[str]) -> bool:
    """Whether any tag has a span prefix (``B- I- E- S- L- U-`` and a type)."""
    return any(_SPAN_TAG.match(tag) for tag in tags)


def _has_spans(gold: Sequence[Sequence[str]]) -> bool:
    return any(has_span_tags(g) for g in gold)


def span_prf(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict[str, float]:
    """Micro span precision, recall, F1 and counts over sentences of BIO / IOBES / BILOU tags."""
    sl = _seqeval()
    g, p = _pairs(gold, pred)
    gs, ps = set(sl.get_entities(g)), set(sl.get_entities(p))
    if not gs and not ps:
        precision = recall = f1 = 0.0
    else:
        with warnings.catch_warnings():  # zero denominators are 0 by the module's definition
            warnings.simplefilter("ignore")
            precision, recall, f1, _ = sl.precision_recall_fscore_support(g, p, average="micro",
                                                                          zero_division=0)
    return {"precision": float(precision), "recall": float(recall), "f1": float(f1),
            "gold_spans": len(gs), "pred_spans": len(ps), "correct_spans": len(gs & ps)}


def span_report(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict[str, dict[str, float]]:
    """Per entity type: ``precision``, ``recall``, ``f1`` and ``support`` (gold spans of the type),
    for every type in gold or prediction, sorted by type."""
    sl = _seqeval()
    g, p = _pairs(gold, pred)
    types = sorted({kind for kind, *_ in sl.get_entities(g)} | {kind for kind, *_ in sl.get_entities(p)})
    if not types:
        return {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        precision, recall, f1, support = sl.precision_recall_fscore_support(g, p, average=None, zero_division=0)
    # seqeval lists the types in sorted order, the same as `types`
    return {kind: {"precision": float(pr), "recall": float(rc), "f1": float(f), "support": int(s)}
            for kind, pr, rc, f, s in zip(types, precision, recall, f1, support, strict=True)}


def span_scores(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict[str, float]:
    """``span_precision`` / ``span_recall`` / ``span_f1`` for reports; empty when no gold tag has a
    span prefix (``B- I- E- S- L- U-``: POS tags and the like have no spans to score)."""
    if not _has_spans(gold):
        return {}
    spans = span_prf(gold, pred)
    return {"span_precision": spans["precision"], "span_recall": spans["recall"], "span_f1": spans["f1"]}


def token_accuracy(
    gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], select: Sequence[Sequence[bool]] | None = None
) -> float:
    """Fraction of tokens whose predicted tag equals the gold tag (optionally only where ``select``)."""
    import numpy as np
    from sklearn.metrics import accuracy_score

    if len(gold) != len(pred):
        raise ValueError(f"gold and pred must have the same number of sentences, got {len(gold)} and {len(pred)}")
    for i, (g, p) in enumerate(zip(gold, pred)):
        if len(g) != len(p):
            raise ValueError(f"sentence {i}: gold has {len(g)} tags, pred has {len(p)}")
    flat_gold = [t for g in gold for t in g]
    flat_pred = [t for p in pred for t in p]
    if select is not None:
        keep = np.array([bool(s) for sel in select for s in sel], dtype=bool)
        if len(keep) != len(flat_gold):
            raise ValueError(f"select has {len(keep)} flags for {len(flat_gold)} tokens")
        flat_gold = [t for t, k in zip(flat_gold, keep) if k]
        flat_pred = [t for t, k in zip(flat_pred, keep) if k]
    return float(accuracy_score(flat_gold, flat_pred)) if flat_gold else float("nan")


def tag_scores(
    gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], unseen: Sequence[Sequence[bool]],
    per_type: bool = False,
) -> dict:
    """The report of a tagger: ``accuracy``, ``unseen_accuracy`` (tokens flagged in ``unseen``) and,
    for span tags (BIO, IOBES, BILOU), :func:`span_scores`; with ``per_type`` also
    ``span_per_type`` (:func:`span_report`)."""
    out = {"accuracy": token_accuracy(gold, pred), "unseen_accuracy": token_accuracy(gold, pred, unseen),
           **span_scores(gold, pred)}
    if per_type and _has_spans(gold):
        out["span_per_type"] = span_report(gold, pred)
    return out
