"""Text handling shared by the language tasks (classification, tagging, LM, translation).

Public API:

* Tokenizers: :class:`CharTokenizer`, :class:`WordTokenizer`,
  :class:`BPETokenizer` (byte-level BPE via the ``tokenizers`` package);
  ``tok.tokenize(text) -> list[str]``, ``tok.detokenize(tokens) -> str``,
  ``tok.to_config()`` / :func:`tokenizer_from_config` to save and rebuild.
* :class:`Vocab`: ``Vocab.build(token_lists, min_freq=1, max_size=None)``;
  specials ``<pad>``=0, ``<unk>``=1, ``<bos>``=2, ``<eos>``=3;
  ``encode(tokens, add_bos, add_eos)``, ``decode(ids)``, ``to_dict``/``from_dict``,
  ``save(path)``/``Vocab.load(path)`` (JSON, atomic).
* Batching: :func:`pad_sequences` -> ``(padded (B, T), lengths (B,))``;
  :func:`lengths_to_mask`; :class:`BucketBatchSampler` (batches of similar
  lengths, pass as ``batch_sampler=`` to a DataLoader); :func:`padding_ratio`.
* :func:`load_word_vectors(path, vocab)` -> ``(weights (V, D), n_found)`` from
  a GloVe/word2vec text file (optional); :func:`init_embedding` starts an
  ``nn.Embedding`` from such a file (``vectors=`` of the tagger's and the
  classifier's ``fit``).
* Subword features: :func:`char_ngrams`, :func:`hashed_ngram_ids`,
  :func:`ngram_bags` -> ``(ids, offsets)`` for ``nn.EmbeddingBag`` (fastText-style
  hashed character n-grams, stable CRC-32 hash).
* :func:`atomic_write_text`, :func:`read_text`, :func:`read_text_lines` (strict
  utf-8 with the file and line of a bad byte in the error; lines end at ``\n``
  only), :func:`split_lines`, :func:`read_csv_rows` (CSV parsed as CSV: quoted
  newlines kept, large fields accepted).
* CoNLL files: :mod:`lstmkit.text.conll` (``read_conll``, ``write_conll``).
"""

from ._io import atomic_write_text, read_csv_rows, read_text, read_text_lines, split_lines
from .batching import BucketBatchSampler, lengths_to_mask, pad_sequences, padding_ratio
from .subword import char_ngrams, hashed_ngram_ids, ngram_bags
from .tokenize import BPETokenizer, CharTokenizer, Tokenizer, WordTokenizer, tokenizer_from_config
from .vectors import init_embedding, load_word_vectors
from .vocab import BOS, DEFAULT_SPECIALS, EOS, PAD, UNK, Vocab

__all__ = [
    "BOS",
    "BPETokenizer",
    "BucketBatchSampler",
    "CharTokenizer",
    "DEFAULT_SPECIALS",
    "EOS",
    "PAD",
    "Tokenizer",
    "UNK",
    "Vocab",
    "WordTokenizer",
    "atomic_write_text",
    "char_ngrams",
    "hashed_ngram_ids",
    "ngram_bags",
    "lengths_to_mask",
    "init_embedding",
    "load_word_vectors",
    "pad_sequences",
    "padding_ratio",
    "read_csv_rows",
    "read_text",
    "read_text_lines",
    "split_lines",
    "tokenizer_from_config",
]
