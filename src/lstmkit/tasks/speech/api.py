"""`Speech`: transcribe utterances with a (Bi)LSTM-CTC network, or classify isolated words.

    task = Speech(SpeechConfig()).fit("train.tsv", val="dev.tsv")    # manifest: path, transcript
    task.transcribe(["a.wav", "b.flac"])    # -> ["three one four", ...]
    task.predict("test.tsv")                # DataFrame: id, prediction (, reference)
    task.evaluate("test.tsv")               # {"bilstm": {"wer", "cer", ...}, "prior": ..., "pocketsphinx": ...}
    task.stream("long.wav")                 # unidirectional model: text chunk by chunk, state carried
    task.save("asr/");  Speech.load("asr/")

``mode="words"`` (isolated words, e.g. spoken digits) predicts one label per
utterance and reports accuracy beside a GMM-HMM per class and 1-NN DTW. The
input may be audio (log-mel features are computed) or precomputed feature
sequences (``(items, labels)`` with 2-D arrays, e.g. MFCCs). Inputs are those of
:func:`~lstmkit.tasks.speech.data.read_utterances`.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader

from lstmkit.tasks.base import Task
from lstmkit.tasks.speech import baselines as bl
from lstmkit.tasks.speech.config import CTC_BASELINES, TRAIN_DEFAULTS, WORD_BASELINES, SpeechConfig
from lstmkit.tasks.speech.data import (
    Batches,
    Frontend,
    Utterances,
    Vocabulary,
    collate,
    normalise,
    pad,
    read_utterances,
)
from lstmkit.tasks.speech.decode import CharLM, Lexicon, greedy, prefix_beam_search
from lstmkit.tasks.speech.metrics import accuracy, error_rates
from lstmkit.tasks.speech.model import SpeechModule, SpeechNet


class Speech(Task):
    """A speech recognizer in the task shape (see the module docstring)."""

    NAME: ClassVar[str] = "speech"
    CONFIG: ClassVar[type] = SpeechConfig
    TRAIN_DEFAULTS: ClassVar[dict[str, Any]] = TRAIN_DEFAULTS
    SUPPORTS_VAL: ClassVar[bool] = True
    OUTPUT: ClassVar[str] = "frame"

    def __init__(self, config: SpeechConfig | None = None, train: Any = None) -> None:
        super().__init__(config, train)
        self.net: SpeechNet | None = None
        self.front: Frontend | None = None
        self.vocab: Vocabulary | None = None
        self.classes: list[str] = []
        self.train_texts: list[str] = []
        self.train_features: list[np.ndarray] = []
        self.train_targets = np.zeros(0, dtype=np.int64)
        self._lm: CharLM | None = None
        self._lexicon: Lexicon | None = None

    @property
    def is_fitted(self) -> bool:
        return self.net is not None

    @property
    def ctc(self) -> bool:
        return self.config.model.mode == "ctc"

    @property
    def model_name(self) -> str:
        return "bilstm" if self.config.model.bidirectional else "lstm"

    # ------------------------------------------------------------------ data
    def _texts(self, utts: Utterances, what: str) -> list[str]:
        if utts.texts is None:
            raise ValueError(f"{what}: transcripts/labels are needed (a manifest with a "
                             f"'{self.config.data.text_col}' column, or (items, texts))")
        return [normalise(t, self.config.data.lowercase) for t in utts.texts]

    def _targets(self, texts: list[str], what: str) -> list[Any]:
        if self.ctc:
            return [self.vocab.encode(t) for t in texts]
        index = {c: k for k, c in enumerate(self.classes)}
        unknown = sorted(set(texts) - set(index))
        if unknown:
            raise ValueError(f"{what}: label(s) {', '.join(unknown[:5])} were not seen in training")
        return [index[t] for t in texts]

    def _loader(self, features: list[np.ndarray], targets: list[Any], train: bool, seed: int = 0) -> DataLoader:
        data = Batches(features, targets, self.config.data if train else None, seed)
        return DataLoader(data, batch_size=self.config.data.batch_size, shuffle=train, collate_fn=collate,
                          generator=torch.Generator().manual_seed(seed) if train else None)

    # ------------------------------------------------------------------ fit
    def _fit(self, train: Any, val: Any) -> None:
        dc, mc = self.config.data, self.config.model
        utts = read_utterances(train, dc, "training data")
        texts = self._texts(utts, "training data")
        if self.ctc:
            self.vocab = Vocabulary.from_texts(texts)
            if len(self.vocab) < 2:
                raise ValueError("training data: the transcripts hold no characters")
        else:
            self.classes = sorted(set(texts))
            if len(self.classes) < 2:
                raise ValueError(f"training data: needs at least two word labels, found {len(self.classes)}")
        targets = self._targets(texts, "training data")
        self.front, features = Frontend.fit(utts, dc)
        fit_idx = np.arange(len(features))
        val_features, val_targets, val_texts = None, None, None
        if val is not None:
            vutts = read_utterances(val, dc, "validation data")
            val_texts = self._texts(vutts, "validation data")
            val_targets = self._targets(val_texts, "validation data")
            val_features = self.front.many(vutts.sources)
        elif dc.val_fraction > 0 and len(features) > 1:
            order = np.random.default_rng(self.train_config.seed).permutation(len(features))
            take = max(1, int(round(dc.val_fraction * len(features))))
            fit_idx, held = np.sort(order[take:]), np.sort(order[:take])
            val_features = [features[i] for i in held]
            val_targets, val_texts = [targets[i] for i in held], [texts[i] for i in held]
        self.train_texts = texts
        self.train_features = features if not self.ctc else []
        self.train_targets = np.asarray(targets if not self.ctc else [], dtype=np.int64)
        self._lm = self._lexicon = None
        n_out = len(self.vocab) if self.ctc else len(self.classes)
        torch.manual_seed(self.train_config.seed)
        self.net = SpeechNet.from_config(self.front.dim, n_out, mc)
        module = SpeechModule(self.net, self.train_config)
        loader = self._loader([features[i] for i in fit_idx], [targets[i] for i in fit_idx], True,
                              self.train_config.seed)
        val_loader = None if val_features is None else self._loader(val_features, val_targets, False)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*does not have many workers.*")
            warnings.filterwarnings("ignore", message=".*val_dataloader.*")
            self._train_member(module, loader, val_loader)
        self.net = self.net.cpu().eval()
        if val_features is not None:
            if self.ctc:
                hyps = [self._decode(lp) for lp in self._log_probs(val_features)]
                rates = error_rates(val_texts, hyps)
                self.val_metrics = {"val_wer": rates["wer"], "val_cer": rates["cer"]}
            else:
                pred = self._logits(val_features).argmax(1)
                self.val_metrics = {"val_accuracy": float(np.mean(pred == np.asarray(val_targets)))}

    # ------------------------------------------------------------------ inference
    @torch.no_grad()
    def _forward(self, features: list[np.ndarray], batch_size: int = 32) -> list[torch.Tensor]:
        """Network outputs per utterance, batched by length (log-probs ``(T', V)`` or logits ``(K,)``)."""
        self.net.eval()
        order = np.argsort([len(f) for f in features], kind="stable")
        out: list[Any] = [None] * len(features)
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            x, lengths = pad([features[j] for j in idx])
            y, out_lengths = self.net(x, lengths)
            for k, j in enumerate(idx):
                out[j] = y[k, : int(out_lengths[k])] if self.ctc else y[k]
        return out

    def _log_probs(self, features: list[np.ndarray]) -> list[np.ndarray]:
        return [t.double().numpy() for t in self._forward(features)]

    def _logits(self, features: list[np.ndarray]) -> np.ndarray:
        return torch.stack(self._forward(features)).double().numpy()

    def _decoder_parts(self) -> tuple[CharLM | None, Lexicon | None]:
        dec = self.config.decode
        if dec.lm_weight > 0 and self._lm is None:
            self._lm = CharLM([self.vocab.encode(t) for t in self.train_texts], len(self.vocab), dec.lm_order)
        if dec.lexicon and self._lexicon is None:
            space = self.vocab.index.get(" ")
            words = {w for t in self.train_texts for w in t.split()}
            self._lexicon = Lexicon([self.vocab.encode(w) for w in words], space)
        return self._lm, self._lexicon

    def _decode(self, log_probs: np.ndarray, decoder: str | None = None) -> str:
        dec = self.config.decode
        if (decoder or dec.decoder) == "greedy":
            return self.vocab.decode(greedy(log_probs))
        lm, lexicon = self._decoder_parts()
        best = prefix_beam_search(log_probs, dec.beam_size, lm, dec.lm_weight, lexicon)
        return self.vocab.decode(best[0][0]) if best else ""

    def transcribe(self, data: Any, decoder: str | None = None) -> list[str]:
        """The text of each utterance (``decoder``: ``greedy``/``beam``, default the config's)."""
        self._check_fitted("transcribe")
        if not self.ctc:
            raise ValueError("transcribe needs a ctc model; this one classifies words (use predict)")
        utts = read_utterances(data, self.config.data, "data")
        return [self._decode(lp, decoder) for lp in self._log_probs(self.front.many(utts.sources))]

    def predict(self, data: Any) -> pd.DataFrame:
        """One row per utterance: ``id``, ``prediction`` (text or word), ``reference`` when given;
        ``words`` mode adds ``p_<label>`` columns."""
        self._check_fitted("predict")
        utts = read_utterances(data, self.config.data, "data")
        features = self.front.many(utts.sources)
        frame = pd.DataFrame({"id": utts.ids})
        if self.ctc:
            frame["prediction"] = [self._decode(lp) for lp in self._log_probs(features)]
        else:
            proba = torch.softmax(torch.from_numpy(self._logits(features)), dim=1).numpy()
            frame["prediction"] = [self.classes[k] for k in proba.argmax(1)]
            for k, c in enumerate(self.classes):
                frame[f"p_{c}"] = proba[:, k]
        if utts.texts is not None:
            frame["reference"] = [normalise(t, self.config.data.lowercase) for t in utts.texts]
        return frame

    def evaluate(self, data: Any, baselines: tuple[str, ...] | None = None) -> dict[str, dict[str, Any]]:
        """``ctc``: WER, CER, sentence error of the network (greedy and beam) and the baselines
        (``prior``, ``pocketsphinx``); ``words``: accuracy beside ``hmm`` and ``dtw``
        (see :mod:`~lstmkit.tasks.speech.baselines`). A baseline that cannot run on this data
        is reported as ``{"skipped": reason}``."""
        self._check_fitted("evaluate")
        utts = read_utterances(data, self.config.data, "evaluation data")
        texts = self._texts(utts, "evaluation data")
        features = self.front.many(utts.sources)
        if baselines is None:
            baselines = CTC_BASELINES if self.ctc else WORD_BASELINES
        report: dict[str, dict[str, Any]] = {}
        if self.ctc:
            lps = self._log_probs(features)
            report[self.model_name] = error_rates(texts, [self._decode(lp, "greedy") for lp in lps])
            report[f"{self.model_name}_beam"] = error_rates(texts, [self._decode(lp, "beam") for lp in lps])
            for name in baselines:
                report[name] = self._ctc_baseline(name, utts, texts)
            return report
        targets = np.asarray(self._targets(texts, "evaluation data"))
        report[self.model_name] = accuracy(targets, self._logits(features).argmax(1))
        mc = self.config.model
        for name in baselines:
            if name == "hmm":
                model = bl.HMMClassifier(mc.hmm_states, mc.hmm_mixtures, mc.hmm_covariance,
                                         seed=self.train_config.seed).fit(self.train_features, self.train_targets)
                report[name] = accuracy(targets, model.predict(features))
            elif name == "dtw":
                report[name] = accuracy(targets, bl.dtw_predict(self.train_features, self.train_targets, features))
            else:
                raise ValueError(f"unknown words baseline {name!r}; choose from {', '.join(WORD_BASELINES)}")
        return report

    def _ctc_baseline(self, name: str, utts: Utterances, texts: list[str]) -> dict[str, Any]:
        if name == "prior":
            return error_rates(texts, [bl.prior_transcript(self.train_texts)] * len(texts))
        if name != "pocketsphinx":
            raise ValueError(f"unknown ctc baseline {name!r}; choose from {', '.join(CTC_BASELINES)}")
        if utts.kind != "audio":
            return {"skipped": "pocketsphinx needs audio, not feature arrays"}
        try:
            recognizer = bl.Pocketsphinx([w for t in self.train_texts for w in t.split()],
                                         self.config.data.sample_rate)
        except ImportError:
            return {"skipped": "pocketsphinx is not installed (pip install 'lstmkit[speech]')"}
        except ValueError as err:
            return {"skipped": str(err)}
        return error_rates(texts, recognizer.transcribe(utts.sources))

    # ------------------------------------------------------------------ streaming
    def stream(self, source: Any, chunk_ms: float | None = None) -> Iterator[dict[str, Any]]:
        """Transcribe one audio file (or 1-D samples at ``sample_rate``) chunk by chunk.

        Yields per chunk ``{"chunk", "end_s", "text" (so far), "seconds" (compute time)}``;
        the final text equals greedy :meth:`transcribe` of the whole file. Needs a
        unidirectional ctc model over audio with ``cmvn`` ``global`` or ``none``
        (per-utterance CMVN would need the whole utterance first).
        """
        from lstmkit.tasks.speech.streaming import Streamer

        self._check_fitted("stream")
        yield from Streamer(self, chunk_ms).run(source)

    # ------------------------------------------------------------------ persistence
    def _state_dict(self) -> dict[str, Any]:
        state = {f"net.{k}": v for k, v in self.net.state_dict().items()}
        if not self.ctc:
            state["train.values"] = torch.from_numpy(np.concatenate(self.train_features))
            state["train.lengths"] = torch.tensor([len(f) for f in self.train_features], dtype=torch.long)
            state["train.targets"] = torch.from_numpy(self.train_targets)
        return state

    def _extras(self) -> dict[str, Any]:
        return {"frontend": self.front.to_dict(), "chars": self.vocab.chars if self.ctc else None,
                "classes": self.classes, "train_texts": self.train_texts if self.ctc else []}

    def _restore(self, saved: Any) -> None:
        extras = saved.extras
        self.front = Frontend.from_dict(extras["frontend"], self.config.data)
        self.classes = [str(c) for c in extras["classes"]]
        self.train_texts = [str(t) for t in extras["train_texts"]]
        if self.ctc:
            self.vocab = Vocabulary(extras["chars"])
        state = saved.state_dict
        if not self.ctc:
            values, lengths = state["train.values"].numpy(), state["train.lengths"].numpy()
            self.train_features = np.split(values, np.cumsum(lengths)[:-1])
            self.train_targets = state["train.targets"].numpy().astype(np.int64)
        n_out = len(self.vocab) if self.ctc else len(self.classes)
        net = SpeechNet.from_config(self.front.dim, n_out, self.config.model)
        own = {k[len("net."):]: v for k, v in state.items() if k.startswith("net.")}
        dataclasses.replace(saved, state_dict=own).load_into(net)
        self.net = net.eval()


def real_time_factor(task: Speech, paths: list[Any]) -> float:
    """Seconds of computation (features, network, decoding) per second of audio, for ``transcribe``."""
    from lstmkit.tasks.speech.audio import read_audio

    rate = task.config.data.sample_rate
    seconds = sum(len(read_audio(p, rate)) for p in paths) / rate
    start = time.perf_counter()
    task.transcribe(paths)
    return (time.perf_counter() - start) / seconds
