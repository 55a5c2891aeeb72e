"""Sequence labelling: BiLSTM over word + character encodings with a CRF or softmax head.

* :class:`Tagger` (``fit``, ``predict``, ``evaluate``, ``save``, ``load``) and
  :class:`TaggerConfig`;
* :mod:`.crf`: linear-chain CRF (forward algorithm, batched Viterbi, BIO constraints);
* :mod:`.conll`: CoNLL-U / two-column CoNLL reading and writing;
* :mod:`.metrics`: token accuracy, span precision / recall / F1;
* :mod:`.baselines`: most-frequent-tag and logistic-regression feature taggers.
"""

from .api import Tagger
from .baselines import FeatureTagger, MostFrequentTagger
from .conll import Sentence, read_conll, write_conll
from .crf import CRF, bio_constraints
from .metrics import bio_spans, span_prf, token_accuracy
from .model import TaggerConfig

__all__ = [
    "CRF",
    "FeatureTagger",
    "MostFrequentTagger",
    "Sentence",
    "Tagger",
    "TaggerConfig",
    "bio_constraints",
    "bio_spans",
    "read_conll",
    "span_prf",
    "token_accuracy",
    "write_conll",
]
