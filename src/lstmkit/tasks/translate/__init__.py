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
"""

from lstmkit._extras import require

require("train", feature="lstmkit.tasks.translate")  # one line naming the extra, not a deep ImportError

from .api import TranslationModule, TranslationPipeline, fit
from .config import (
    TranslateConfig,
    TranslateDataConfig,
    TranslateDecodeConfig,
    TranslateModelConfig,
)
from .data import read_lines, read_parallel, read_tsv_pairs
from .decode import DecodeConfig, Hypotheses, beam_search, decode, greedy_decode
from .heatmap import save_attention_heatmap
from .metrics import bleu, chrf
from .model import ATTENTIONS, Seq2Seq, Seq2SeqConfig
from .task import Translate, read_pairs

__all__ = [
    "ATTENTIONS",
    "DecodeConfig",
    "Hypotheses",
    "Seq2Seq",
    "Seq2SeqConfig",
    "Translate",
    "TranslateConfig",
    "TranslateDataConfig",
    "TranslateDecodeConfig",
    "TranslateModelConfig",
    "TranslationModule",
    "TranslationPipeline",
    "beam_search",
    "bleu",
    "chrf",
    "decode",
    "fit",
    "greedy_decode",
    "read_lines",
    "read_pairs",
    "read_parallel",
    "read_tsv_pairs",
    "save_attention_heatmap",
]
