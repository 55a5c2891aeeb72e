"""Sequence labelling: BiLSTM over word + character encodings with a CRF or softmax head.

* :class:`Tagger` (``fit``, ``predict``, ``evaluate``, ``save``, ``load``) and
  :class:`TaggerConfig`;
* :class:`TaggerEnsemble`: several taggers decoding as one CRF with averaged
  scores; :func:`fit_ensemble` trains one (on rotating validation folds),
  :func:`load_tagger` loads a saved tagger or ensemble;
* :mod:`.crf`: linear-chain CRF (forward algorithm, batched Viterbi, BIO constraints);
* :mod:`.conll`: CoNLL-U / two-column CoNLL reading and writing;
* :mod:`.metrics`: token accuracy, span precision / recall / F1 by seqeval (``span_scores``:
  only where the tags mark spans: BIO, IOBES or BILOU; ``span_report``: per entity type);
* :mod:`.baselines`: most-frequent-tag and logistic-regression feature taggers.
"""

from lstmkit._extras import require

require("train", feature="lstmkit.tasks.tag")  # one line naming the extra, not a deep ImportError

from lstmkit.text.conll import Sentence, read_conll, write_conll

from .api import Tagger
from .baselines import FeatureTagger, MostFrequentTagger
from .crf import CRF, bio_constraints
from .ensemble import TaggerEnsemble, fit_ensemble, fold_split, load_tagger
from .metrics import bio_spans, span_prf, span_report, span_scores, tag_scores, token_accuracy
from .model import TaggerConfig

__all__ = [
    "CRF",
    "FeatureTagger",
    "MostFrequentTagger",
    "Sentence",
    "Tagger",
    "TaggerConfig",
    "TaggerEnsemble",
    "bio_constraints",
    "bio_spans",
    "fit_ensemble",
    "fold_split",
    "load_tagger",
    "read_conll",
    "span_prf",
    "span_report",
    "span_scores",
    "tag_scores",
    "token_accuracy",
    "write_conll",
]
