"""Corpus BLEU and chrF through sacrebleu, the reference implementation.

BLEU (Papineni et al. 2002): BP · exp(Σ_{n=1..4} ¼ log p_n), with p_n the
clipped n-gram precisions and BP = min(1, exp(1 - r/c)); sacrebleu's default
13a tokenisation. chrF (Popović 2015): character n-gram F_β with n ≤ 6, β = 2.
Both are on a 0-100 scale.
"""

from __future__ import annotations

from collections.abc import Sequence


def _check(hypotheses: Sequence[str], references: Sequence[str]) -> None:
    if len(hypotheses) != len(references):
        raise ValueError(
            f"hypotheses and references: expected the same number of lines, received "
            f"{len(hypotheses)} and {len(references)}"
        )
    if not hypotheses:
        raise ValueError("hypotheses: expected at least one line, received none")


def bleu(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Corpus BLEU (0-100) of one hypothesis per reference."""
    import sacrebleu

    _check(hypotheses, references)
    return float(sacrebleu.corpus_bleu(list(hypotheses), [list(references)]).score)


def chrf(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Corpus chrF (0-100) of one hypothesis per reference."""
    import sacrebleu

    _check(hypotheses, references)
    return float(sacrebleu.corpus_chrf(list(hypotheses), [list(references)]).score)
