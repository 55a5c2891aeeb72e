"""Translation with an attentional LSTM encoder-decoder.

* :func:`fit` -> :class:`TranslationPipeline` (``translate``, ``evaluate``
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
from .data import read_lines, read_parallel, read_tsv_pairs
from .decode import DecodeConfig, Hypotheses, beam_search, decode, greedy_decode
from .heatmap import save_attention_heatmap
from .metrics import bleu, chrf
from .model import ATTENTIONS, Seq2Seq, Seq2SeqConfig

__all__ = [
    "ATTENTIONS",
    "DecodeConfig",
    "Hypotheses",
    "Seq2Seq",
    "Seq2SeqConfig",
    "TranslationModule",
    "TranslationPipeline",
    "beam_search",
    "bleu",
    "chrf",
    "decode",
    "fit",
    "greedy_decode",
    "read_lines",
    "read_parallel",
    "read_tsv_pairs",
    "save_attention_heatmap",
]
