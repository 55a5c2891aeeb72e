"""Language modelling and text generation with LSTMs.

* :class:`Generate`: the task (``fit(train, val=None) -> self``, ``predict(prime)`` ->
  text, ``evaluate`` beside unigram and Kneser-Ney baselines, ``save`` / ``load``) and
  :class:`GenerateConfig` (``model``, ``data`` and ``sample`` sections);
* :func:`fit` (0.1 interface, a thin wrapper over :class:`Generate`) trains a character, word or BPE :class:`LanguageModel` with
  truncated backpropagation through time over a continuous stream.
* :class:`LanguageModelPipeline`: ``sample`` / ``stream`` (temperature,
  top-k, top-p, greedy, stop strings), ``evaluate`` (perplexity, bits per
  character), ``save`` / ``load``.
* Baselines: :class:`UnigramLM`, :class:`KneserNeyLM`.
* Transfer to a classifier's encoder: :mod:`lstmkit.tasks.generate.transfer`.

Names are imported on first use, so reading the configs (what the command line
needs to build its parsers) does not load torch's trainer.
"""

from __future__ import annotations

from lstmkit.tasks._lazy import lazy_exports

_EXPORTS = {
    "Generate": "task",
    "GenerateConfig": "config",
    "GenerateDataConfig": "config",
    "GenerateModelConfig": "config",
    "GenerateSampleConfig": "config",
    "KneserNeyLM": "ngram",
    "LanguageModel": "model",
    "LanguageModelConfig": "model",
    "LanguageModelModule": "training",
    "LanguageModelPipeline": "api",
    "SamplingConfig": "sampling",
    "StreamConfig": "training",
    "StreamWindows": "training",
    "TRAIN_DEFAULTS": "config",
    "UnigramLM": "ngram",
    "batchify": "training",
    "build_tokenizer": "api",
    "filter_probs": "sampling",
    "fit": "api",
    "next_token": "sampling",
    "read_documents": "task",
    "tbptt_loss": "model",
}
__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
