"""Tagging metrics: token accuracy and exact-match span precision / recall / F1 for BIO tags.

Spans are read from a BIO sequence the way conlleval does: ``B-X`` opens a
span of type ``X``; ``I-X`` continues an open ``X`` span and otherwise opens
a new one (a stray ``I-X`` after ``O`` or after another type still counts as
an entity); ``O`` or any tag without a ``B-``/``I-`` prefix closes it.
A predicted span counts as correct only when its start, end and type all
match a gold span:

.. math::
    P = \\frac{|G \\cap S|}{|S|},\\quad R = \\frac{|G \\cap S|}{|G|},\\quad
    F_1 = \\frac{2PR}{P+R}

summed over all sentences (micro average); 0 where a denominator is 0.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["bio_spans", "span_prf", "span_scores", "tag_scores", "token_accuracy"]


def bio_spans(tags: Sequence[str]) -> set[tuple[int, int, str]]:
    """Spans ``(start, end_exclusive, type)`` of a BIO tag sequence."""
    spans: set[tuple[int, int, str]] = set()
    start, kind = None, None
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, _, label = tag.partition("-")
        if prefix == "I" and label and kind == label:
            continue
        if start is not None:
            spans.add((start, i, kind))
            start, kind = None, None
        if prefix in ("B", "I") and label:
            start, kind = i, label
    return spans


def span_prf(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict[str, float]:
    """Micro span precision, recall, F1 and counts over sentences of BIO tags."""
    if len(gold) != len(pred):
        raise ValueError(f"gold and pred must have the same number of sentences, got {len(gold)} and {len(pred)}")
    tp = n_pred = n_gold = 0
    for i, (g, p) in enumerate(zip(gold, pred)):
        if len(g) != len(p):
            raise ValueError(f"sentence {i}: gold has {len(g)} tags, pred has {len(p)}")
        gs, ps = bio_spans(g), bio_spans(p)
        tp += len(gs & ps)
        n_gold += len(gs)
        n_pred += len(ps)
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "gold_spans": n_gold,
            "pred_spans": n_pred, "correct_spans": tp}


def span_scores(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict[str, float]:
    """``span_precision`` / ``span_recall`` / ``span_f1`` for reports; empty when no gold tag has a
    ``B-``/``I-`` prefix (POS tags and the like have no spans to score)."""
    if not any(bio_spans(g) for g in gold):
        return {}
    spans = span_prf(gold, pred)
    return {"span_precision": spans["precision"], "span_recall": spans["recall"], "span_f1": spans["f1"]}


def token_accuracy(
    gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], select: Sequence[Sequence[bool]] | None = None
) -> float:
    """Fraction of tokens whose predicted tag equals the gold tag (optionally only where ``select``)."""
    right = total = 0
    for i, (g, p) in enumerate(zip(gold, pred, strict=True)):
        if len(g) != len(p):
            raise ValueError(f"sentence {i}: gold has {len(g)} tags, pred has {len(p)}")
        sel = select[i] if select is not None else [True] * len(g)
        for a, b, s in zip(g, p, sel):
            if s:
                total += 1
                right += a == b
    return right / total if total else float("nan")


def tag_scores(
    gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], unseen: Sequence[Sequence[bool]]
) -> dict[str, float]:
    """The report of a tagger: ``accuracy``, ``unseen_accuracy`` (tokens flagged in ``unseen``) and,
    for BIO tags, :func:`span_scores`."""
    return {"accuracy": token_accuracy(gold, pred), "unseen_accuracy": token_accuracy(gold, pred, unseen),
            **span_scores(gold, pred)}
