r"""Error rates of transcripts (jiwer) and accuracy of word labels.

Word error rate over a test set: :math:`\mathrm{WER} = (S + D + I) / N`,
with :math:`S, D, I` the substitutions, deletions and insertions of the
minimum edit alignment of each hypothesis to its reference (words split at
spaces), summed over utterances, and :math:`N` the number of reference
words. The character error rate is the same over characters (spaces
included). Both can exceed 1 (insertions). ``sentence_error`` is the share
of utterances not transcribed exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def error_rates(references: Sequence[str], hypotheses: Sequence[str]) -> dict[str, float]:
    """``{"wer", "cer", "sentence_error", "n"}`` of normalised transcripts (references non-empty)."""
    import jiwer

    refs, hyps = list(references), list(hypotheses)
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses")
    empty = [k for k, r in enumerate(refs) if not r.strip()]
    if empty:
        raise ValueError(f"evaluation data: transcript {empty[0] + 1} is empty; every utterance needs a "
                         "reference transcript")
    return {"wer": float(jiwer.wer(refs, hyps)), "cer": float(jiwer.cer(refs, hyps)),
            "sentence_error": float(np.mean([r != h for r, h in zip(refs, hyps)])), "n": len(refs)}


def accuracy(y_true: Sequence[int], y_pred: Sequence[int]) -> dict[str, float]:
    """Share of correct labels, and the count."""
    t, p = np.asarray(y_true), np.asarray(y_pred)
    return {"accuracy": float(np.mean(t == p)), "n": int(len(t))}
