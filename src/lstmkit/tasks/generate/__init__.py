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
"""

from lstmkit._extras import require

require("train", feature="lstmkit.tasks.generate")  # one line naming the extra, not a deep ImportError

from .api import LanguageModelPipeline, build_tokenizer, fit
from .config import GenerateConfig, GenerateDataConfig, GenerateModelConfig, GenerateSampleConfig
from .model import LanguageModel, LanguageModelConfig, tbptt_loss
from .ngram import KneserNeyLM, UnigramLM
from .sampling import SamplingConfig, filter_probs, next_token
from .task import Generate, read_documents
from .training import LanguageModelModule, StreamConfig, StreamWindows, batchify

__all__ = [
    "Generate",
    "GenerateConfig",
    "GenerateDataConfig",
    "GenerateModelConfig",
    "GenerateSampleConfig",
    "KneserNeyLM",
    "LanguageModel",
    "LanguageModelConfig",
    "LanguageModelModule",
    "LanguageModelPipeline",
    "SamplingConfig",
    "StreamConfig",
    "StreamWindows",
    "UnigramLM",
    "batchify",
    "build_tokenizer",
    "filter_probs",
    "fit",
    "next_token",
    "read_documents",
    "tbptt_loss",
]
