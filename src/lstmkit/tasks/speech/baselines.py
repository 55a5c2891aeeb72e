r"""The recognizers the LSTM displaced, as baselines: GMM-HMMs, 1-NN DTW, pocketsphinx; and a prior.

* :class:`HMMClassifier` (isolated words): one left-to-right HMM per class
  (hmmlearn; Gaussian or Gaussian-mixture emissions with ``covariance``
  ``diag``/``full``/``spherical``), trained by Baum-Welch on that class's
  utterances; an utterance goes to :math:`\arg\max_c \log p(x \mid \lambda_c)`
  (forward algorithm). Left-to-right: state :math:`i` may only stay or move
  to :math:`i+1`; the chain starts in state 0.
* ``dtw`` (isolated words): 1-nearest neighbour under dynamic time warping
  of the feature sequences (the aeon implementation, as in ``seqclass``).
* :class:`Pocketsphinx` (transcription): CMU pocketsphinx with its US-English
  acoustic model and dictionary, searching a JSGF grammar that loops over the
  words of the training transcripts (``<s> = (w1 | w2 | ...)+``), so it knows
  the task's vocabulary as the network does. Needs audio and words that are
  in its dictionary; otherwise it is reported as skipped with the reason.
* ``prior`` (transcription): every utterance gets the most frequent
  training transcript.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def prior_transcript(texts: Sequence[str]) -> str:
    """The most frequent training transcript (ties: the first seen)."""
    return Counter(texts).most_common(1)[0][0]


class HMMClassifier:
    """One left-to-right GMM-HMM per class (see the module docstring)."""

    def __init__(self, states: int = 5, mixtures: int = 1, covariance: str = "diag", n_iter: int = 20,
                 seed: int = 0) -> None:
        self.states, self.mixtures, self.covariance = states, mixtures, covariance
        self.n_iter, self.seed = n_iter, seed
        self.models: list = []

    def _model(self):
        from hmmlearn import hmm

        n = self.states
        kwargs = dict(n_components=n, covariance_type=self.covariance, n_iter=self.n_iter,
                      random_state=self.seed, init_params="mcw", params="stmcw", min_covar=1e-3)
        model = hmm.GMMHMM(n_mix=self.mixtures, **kwargs) if self.mixtures > 1 else \
            hmm.GaussianHMM(**{k: v for k, v in kwargs.items() if k not in ("init_params", "params")},
                            init_params="mc", params="stmc")
        model.startprob_ = np.eye(n)[0]
        trans = np.zeros((n, n))
        for i in range(n):
            trans[i, i] = 0.5 if i < n - 1 else 1.0
            if i < n - 1:
                trans[i, i + 1] = 0.5
        model.transmat_ = trans
        return model

    def _fit_class(self, sequences: list[np.ndarray]):
        """Baum-Welch on one class; a state whose covariance collapses (not positive definite) is
        refitted with a 10x larger covariance floor, up to twice."""
        data, lengths = np.concatenate(sequences), [len(x) for x in sequences]
        floor = 1e-3
        for attempt in range(3):
            model = self._model()
            model.min_covar = floor
            try:
                return model.fit(data, lengths)
            except ValueError as err:
                if "positive-definite" not in str(err) or attempt == 2:
                    raise
                floor *= 10
        raise AssertionError("unreachable")

    def fit(self, features: list[np.ndarray], targets: np.ndarray) -> HMMClassifier:
        targets = np.asarray(targets)
        self.models = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for c in range(int(targets.max()) + 1):
                mine = [features[i].astype(np.float64) for i in np.flatnonzero(targets == c)]
                self.models.append(self._fit_class(mine) if mine else None)
        return self

    def scores(self, features: list[np.ndarray]) -> np.ndarray:
        """``(n, classes)`` log-likelihoods (``-inf`` for a class without training data or a failed score)."""
        out = np.full((len(features), len(self.models)), -np.inf)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for c, model in enumerate(self.models):
                if model is None:
                    continue
                for i, x in enumerate(features):
                    value = model.score(x.astype(np.float64))
                    out[i, c] = value if np.isfinite(value) else -np.inf
        return out

    def predict(self, features: list[np.ndarray]) -> np.ndarray:
        return self.scores(features).argmax(axis=1)


def dtw_predict(train: list[np.ndarray], targets: np.ndarray, test: list[np.ndarray]) -> np.ndarray:
    """1-NN DTW class indices of ``test`` (see the module docstring)."""
    from lstmkit.tasks.seqclass.baselines import Baseline

    return Baseline("dtw", train, np.asarray(targets)).predict(test)


class Pocketsphinx:
    """pocketsphinx with a word-loop JSGF grammar over ``words`` (see the module docstring)."""

    def __init__(self, words: Sequence[str], sample_rate: int = 16000) -> None:
        from pocketsphinx import Decoder

        self.sample_rate = sample_rate
        self.decoder = Decoder(samprate=sample_rate, logfn="/dev/null")
        vocab = sorted(set(words))
        missing = [w for w in vocab if self.decoder.lookup_word(w) is None]
        if missing:
            raise ValueError(f"pocketsphinx's dictionary lacks {', '.join(missing[:5])}")
        if not vocab:
            raise ValueError("no words to build a grammar from")
        grammar = ("#JSGF V1.0;\ngrammar words;\npublic <s> = <w>+;\n<w> = "
                   + " | ".join(vocab) + ";\n")
        self.decoder.add_jsgf_string("words", grammar)
        self.decoder.activate_search("words")

    def transcribe_samples(self, samples: np.ndarray) -> str:
        pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16).tobytes()
        self.decoder.start_utt()
        self.decoder.process_raw(pcm, full_utt=True)
        self.decoder.end_utt()
        hyp = self.decoder.hyp()
        return " ".join(hyp.hypstr.split()) if hyp is not None else ""

    def transcribe(self, paths: Sequence[Path]) -> list[str]:
        from lstmkit.tasks.speech.audio import read_audio

        return [self.transcribe_samples(read_audio(p, self.sample_rate)) for p in paths]
