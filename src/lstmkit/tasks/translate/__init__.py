"""Translation with an attentional LSTM encoder-decoder.

* :class:`Translate`: the task (``fit(pairs, val=None) -> self``, ``predict(sentences)`` ->
  translations, ``evaluate`` beside copying the source, ``save`` / ``load``) and
  :class:`TranslateConfig` (``model``, ``data`` and ``decode`` sections);
* :func:`fit` (0.1 interface, a thin wrapper over :class:`Translate`) -> :class:`TranslationPipeline` (``translate``, ``evaluate``
  with BLEU/chrF, ``attention`` heatmap PNG, ``save`` / ``load``).
* :class:`Seq2Seq` (bidirectional encoder, input-feeding decoder, additive
  or multiplicative attention from lstmkit, or none), :class:`Seq2SeqConfig`.
* Decoding: :func:`greedy_decode`, :func:`beam_search` (batched, length
  normalised), :class:`DecodeConfig`.
* Readers: :func:`read_parallel`, :func:`read_tsv_pairs`, :func:`read_lines`.

Names are imported on first use, so reading the configs (what the command line
needs to build its parsers) does not load torch's trainer.
"""

from __future__ import annotations

from lstmkit.tasks._lazy import lazy_exports

_EXPORTS = {
    "ATTENTIONS": "model",
    "DecodeConfig": "decode",
    "Hypotheses": "decode",
    "Seq2Seq": "model",
    "Seq2SeqConfig": "model",
    "TRAIN_DEFAULTS": "config",
    "Translate": "task",
    "TranslateConfig": "config",
    "TranslateDataConfig": "config",
    "TranslateDecodeConfig": "config",
    "TranslateModelConfig": "config",
    "TranslationModule": "api",
    "TranslationPipeline": "api",
    "beam_search": "decode",
    "bleu": "metrics",
    "chrf": "metrics",
    "decode": "decode",
    "fit": "api",
    "greedy_decode": "decode",
    "read_lines": "data",
    "read_pairs": "task",
    "read_parallel": "data",
    "read_tsv_pairs": "data",
    "save_attention_heatmap": "heatmap",
}
__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
