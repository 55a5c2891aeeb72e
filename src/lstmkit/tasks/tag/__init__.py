"""Sequence labelling: BiLSTM over word + character encodings with a CRF or softmax head.

* :class:`Tag` (the task: ``fit(train, val=None) -> self`` with one tagger or a
  fold-per-member ensemble, ``predict`` -> DataFrame, ``evaluate`` with the
  most-frequent-tag and feature-tagger baselines, ``save`` / ``load``) and
  :class:`TagConfig` (``model`` and ``data`` sections);
* :class:`Tagger` (one network: ``fit``, ``predict``, ``evaluate``, ``save``, ``load``) and
  :class:`TaggerConfig`: the 0.1 interface;
* :class:`TaggerEnsemble`: several taggers decoding as one CRF with averaged
  scores; :func:`fit_ensemble` trains one (on rotating validation folds),
  :func:`load_tagger` loads a saved tagger or ensemble;
* :mod:`.crf`: linear-chain CRF (forward algorithm, batched Viterbi, BIO constraints);
* :mod:`lstmkit.text.conll`: CoNLL-U / two-column CoNLL reading and writing;
* :mod:`.metrics`: token accuracy, span precision / recall / F1 by seqeval (``span_scores``:
  only where the tags mark spans: BIO, IOBES or BILOU; ``span_report``: per entity type);
* :mod:`.baselines`: most-frequent-tag and logistic-regression feature taggers.

Names are imported on first use, so reading the configs (what the command line
needs to build its parsers) does not load torch's trainer.
"""

from __future__ import annotations

from lstmkit.tasks._lazy import lazy_exports

_EXPORTS = {
    "CRF": "crf",
    "FeatureTagger": "baselines",
    "MostFrequentTagger": "baselines",
    "Sentence": "lstmkit.text.conll",
    "TRAIN_DEFAULTS": "config",
    "Tag": "task",
    "TagConfig": "config",
    "TagDataConfig": "config",
    "TagModelConfig": "config",
    "Tagger": "api",
    "TaggerConfig": "model",
    "TaggerEnsemble": "ensemble",
    "bio_constraints": "crf",
    "bio_spans": "metrics",
    "fit_ensemble": "ensemble",
    "fold_split": "ensemble",
    "load_tagger": "ensemble",
    "read_conll": "lstmkit.text.conll",
    "read_sentences": "task",
    "span_prf": "metrics",
    "span_report": "metrics",
    "span_scores": "metrics",
    "tag_scores": "metrics",
    "token_accuracy": "metrics",
    "write_conll": "lstmkit.text.conll",
}
__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
