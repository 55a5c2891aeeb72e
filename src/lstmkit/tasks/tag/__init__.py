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
* :mod:`.conll`: CoNLL-U / two-column CoNLL reading and writing;
* :mod:`.metrics`: token accuracy, span precision / recall / F1 (``span_scores``:
  only where the tags are BIO);
* :mod:`.baselines`: most-frequent-tag and logistic-regression feature taggers.
"""

from lstmkit._extras import require

require("train", feature="lstmkit.tasks.tag")  # one line naming the extra, not a deep ImportError

from .api import Tagger
from .baselines import FeatureTagger, MostFrequentTagger
from .config import TagConfig, TagDataConfig, TagModelConfig
from .conll import Sentence, read_conll, write_conll
from .crf import CRF, bio_constraints
from .ensemble import TaggerEnsemble, fit_ensemble, fold_split, load_tagger
from .metrics import bio_spans, span_prf, span_scores, tag_scores, token_accuracy
from .model import TaggerConfig
from .task import Tag, read_sentences

__all__ = [
    "CRF",
    "FeatureTagger",
    "MostFrequentTagger",
    "Sentence",
    "Tag",
    "TagConfig",
    "TagDataConfig",
    "TagModelConfig",
    "Tagger",
    "TaggerConfig",
    "TaggerEnsemble",
    "bio_constraints",
    "bio_spans",
    "fit_ensemble",
    "fold_split",
    "load_tagger",
    "read_conll",
    "read_sentences",
    "span_prf",
    "span_scores",
    "tag_scores",
    "token_accuracy",
    "write_conll",
]
