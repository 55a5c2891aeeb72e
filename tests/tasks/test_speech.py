"""The Speech task: fit on tiny tone 'speech', transcribe, words mode, save/load, streaming, bad input."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("soundfile", reason="the speech tests need the speech extra: pip install 'lstmkit[speech]'")
pytest.importorskip("lightning", reason="training needs the train extra")

sys.path.insert(0, str(Path(__file__).parent))  # the shared tone corpus beside this file
from speech_fixtures import RATE, TEXTS, tone_audio, write_corpus  # noqa: E402

from lstmkit.tasks.speech import Speech  # noqa: E402
from lstmkit.tasks.speech.config import (  # noqa: E402
    SpeechConfig,
    SpeechDataConfig,
    SpeechDecodeConfig,
    SpeechModelConfig,
)
from lstmkit.tasks.speech.data import Vocabulary, read_utterances  # noqa: E402


def _task(epochs=2, **model) -> Speech:
    data = model.pop("data", {})
    decode = model.pop("decode", {})
    mc = SpeechModelConfig(**{"hidden_size": 8, "num_layers": 1, "stack": 2, **model})
    config = SpeechConfig(model=mc, data=SpeechDataConfig(**{"batch_size": 4, **data}),
                          decode=SpeechDecodeConfig(**decode))
    return Speech(config, Speech.default_train(max_epochs=epochs, progress=False, lr=1e-2))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("speech")
    return write_corpus(root), write_corpus(root, TEXTS[:4], repeat=1, name="test.csv", sep=",")


def test_vocabulary_reserves_the_blank():
    vocab = Vocabulary.from_texts(["ab", "b a"])
    assert len(vocab) == 4 and vocab.chars == [" ", "a", "b"]
    assert vocab.encode("a b?") == [2, 1, 3] and vocab.decode([0, 2, 0, 3]) == "ab"


def test_manifest_paths_are_relative_to_the_manifest(corpus, tmp_path):
    train, test = corpus
    utts = read_utterances(str(test), SpeechDataConfig())
    assert utts.kind == "audio" and utts.texts == TEXTS[:4]
    assert all(p.is_file() and p.parent == test.parent / "wav" for p in utts.sources)


@pytest.mark.parametrize("content, message", [
    ("path\ttranscript\nwav/nowhere.wav\ta\n", r"line 2: audio file '.*nowhere.wav' does not exist"),
    ("path\ttranscript\n\ta\n", "line 2: empty 'path'"),
    ("file\ttranscript\nx.wav\ta\n", "no 'path' column"),
    ("path\ttranscript\n", "no rows"),
    ("", "is empty"),
    ("path\ttranscript\nx.wav\ta\tb\n", "3 fields where the header has 2"),
])
def test_bad_manifests_are_one_line_errors(tmp_path, content, message):
    manifest = tmp_path / "m.tsv"
    manifest.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message) as err:
        read_utterances(manifest, SpeechDataConfig())
    assert "\n" not in str(err.value)


def test_ctc_fit_transcribe_evaluate_and_round_trip(corpus, tmp_path):
    train, test = corpus
    task = _task(decode={"decoder": "beam", "beam_size": 4, "lm_weight": 0.5, "lexicon": True})
    task.fit(str(train), val=str(test))
    assert set(task.val_metrics) == {"val_wer", "val_cer"}
    frame = task.predict(str(test))
    assert list(frame.columns) == ["id", "prediction", "reference"] and len(frame) == 4
    words = {w for t in TEXTS for w in t.split()}
    assert all(set(p.split()) <= words for p in frame["prediction"]), "the lexicon allows training words only"
    report = task.evaluate(str(test), baselines=("prior",))
    assert set(report) == {"bilstm", "bilstm_beam", "prior"}
    assert report["prior"]["n"] == 4 and 0 <= report["bilstm"]["cer"]
    task.save(tmp_path / "m")
    again = Speech.load(tmp_path / "m")
    pd.testing.assert_frame_equal(again.predict(str(test)), frame)
    assert again.transcribe(str(test)) == frame["prediction"].tolist()
    assert again.evaluate(str(test), baselines=("prior",)) == report


def test_a_few_epochs_learn_the_tones(corpus):
    train, _ = corpus
    task = _task(epochs=25, hidden_size=16, bidirectional=True)
    task.fit(str(train))
    report = task.evaluate(str(train), baselines=("prior",))
    assert report["bilstm"]["cer"] < 0.5 * report["prior"]["cer"], report


def test_streaming_equals_offline(corpus, tmp_path):
    train, test = corpus
    task = _task(bidirectional=False, stack=3, data={"cmvn": "global"})
    task.fit(str(train))
    wav = tmp_path / "long.wav"
    import soundfile

    soundfile.write(wav, np.concatenate([tone_audio(t, seed=9) for t in TEXTS]), RATE)
    offline = task._log_probs(task.front.many([wav]))[0]
    from lstmkit.tasks.speech.streaming import Streamer

    streamer = Streamer(task, chunk_ms=130)
    records = list(streamer.run(wav))
    assert len(records) > 10 and records[-1]["text"] == task.transcribe([str(wav)], decoder="greedy")[0]
    np.testing.assert_allclose(np.concatenate(streamer.log_probs), offline, atol=1e-4)
    with pytest.raises(ValueError, match="unidirectional"):
        next(_task().fit(str(train)).stream(wav))


def test_words_mode_on_feature_sequences(tmp_path):
    rng = np.random.default_rng(0)
    xs = [rng.normal(size=(int(rng.integers(8, 14)), 3)).astype(np.float32) + 2 * (i % 2) * np.arange(3)
          for i in range(24)]
    labels = ["one" if i % 2 else "two" for i in range(24)]
    task = _task(epochs=3, mode="words", data={"cmvn": "none"}, hmm_states=2)
    task.fit((xs[:16], labels[:16]), val=(xs[16:], labels[16:]))
    frame = task.predict((xs[16:], labels[16:]))
    assert {"prediction", "p_one", "p_two", "reference"} <= set(frame.columns)
    report = task.evaluate((xs[16:], labels[16:]))
    assert set(report) == {"bilstm", "hmm", "dtw"}
    assert report["hmm"]["accuracy"] == 1.0 and report["dtw"]["accuracy"] == 1.0   # separable by the means
    task.save(tmp_path / "w")
    pd.testing.assert_frame_equal(Speech.load(tmp_path / "w").predict((xs[16:], None)), frame.drop(columns="reference"))
    with pytest.raises(ValueError, match="not seen in training"):
        task.evaluate((xs[:2], ["three", "one"]))
    with pytest.raises(ValueError, match="transcribe needs a ctc model"):
        task.transcribe((xs[:2], None))
    with pytest.raises(ValueError, match="3 features"):
        task.predict(([np.zeros((5, 4), dtype=np.float32)], None))


def test_input_mistakes_are_value_errors(corpus, tmp_path):
    train, _ = corpus
    with pytest.raises(ValueError, match="transcripts/labels are needed"):
        _task().fit([str(p) for p in read_utterances(str(train), SpeechDataConfig()).sources])
    with pytest.raises(ValueError, match="does not exist"):
        read_utterances(tmp_path / "nowhere.tsv", SpeechDataConfig())
    with pytest.raises(ValueError, match="2 utterances but 1"):
        read_utterances(([np.zeros((3, 2))] * 2, ["a"]), SpeechDataConfig())
    with pytest.raises(ValueError, match="proj_size"):
        SpeechModelConfig(hidden_size=8, proj_size=8)


def test_hmm_refits_a_class_whose_covariance_collapsed(monkeypatch):
    from lstmkit.tasks.speech.baselines import HMMClassifier

    floors, real = [], HMMClassifier._model

    def flaky(self):
        model = real(self)
        fit = model.fit

        def first_fit_fails(data, lengths):
            floors.append(model.min_covar)
            if len(floors) == 1:
                raise ValueError("'covars' must be symmetric, positive-definite")
            return fit(data, lengths)

        model.fit = first_fit_fails
        return model

    monkeypatch.setattr(HMMClassifier, "_model", flaky)
    rng = np.random.default_rng(0)
    xs = [rng.normal(size=(12, 2)) + 3 * (i % 2) for i in range(8)]
    hmm = HMMClassifier(states=2, covariance="full").fit(xs, np.arange(8) % 2)
    assert floors[:3] == [1e-3, 1e-2, 1e-3]          # class 0 retried with a 10x floor, class 1 fitted at once
    assert list(hmm.predict(xs)) == [0, 1] * 4
