"""Model directories in the 0.1 layout (flat config, no sections) still load into the new task classes."""

from __future__ import annotations

import pytest

from lstmkit.train import TrainConfig, save_model

FAST = TrainConfig(max_epochs=1, progress=False, checkpoint=False)
TEXTS = ["a great film", "a bad film", "great and fine", "dull and bad"] * 2
LABELS = ["pos", "neg", "pos", "neg"] * 2


def test_classify_01_directory_loads(tmp_path):
    from lstmkit.tasks.classify import ClassifierConfig, Classify, TextClassifier

    flat = ClassifierConfig(embed_dim=8, hidden=8, batch_size=4)
    clf = TextClassifier(flat, FAST)
    clf.fit(TEXTS, LABELS)
    # what lstmkit 0.1 wrote: the flat config, the train config among the extras
    save_model(tmp_path / "old", task="classify", config=flat.to_dict(), state_dict=clf.net.state_dict(),
               extras={"encoder": clf.encoder.to_dict(), "train_config": FAST.to_dict()})
    task = Classify.load(tmp_path / "old")
    assert task.config.model.embed_size == 8 and task.train_config == FAST
    assert task.predict_texts(TEXTS).probabilities == clf.predict(TEXTS).probabilities
    assert TextClassifier.load(tmp_path / "old").predict(TEXTS).labels == clf.predict(TEXTS).labels
    assert set(task.evaluate((TEXTS, LABELS))) == {"lstm", "majority"}


def test_translate_and_generate_01_directories_load(tmp_path):
    from lstmkit.tasks.generate import Generate, LanguageModelConfig, StreamConfig
    from lstmkit.tasks.generate import fit as lm_fit
    from lstmkit.tasks.translate import Seq2SeqConfig, Translate
    from lstmkit.tasks.translate import fit as mt_fit

    net = Seq2SeqConfig(embed_size=8, hidden_size=8, min_freq=1)
    mt = mt_fit(TEXTS, [t.upper() for t in TEXTS], net, FAST, batch_size=4)
    p = mt
    save_model(tmp_path / "mt", task="translate", config={"model": net.to_dict()}, state_dict=p.model.state_dict(),
               extras={"src_tokenizer": p.src_tokenizer.to_config(), "tgt_tokenizer": p.tgt_tokenizer.to_config(),
                       "src_vocab": p.src_vocab.to_dict(), "tgt_vocab": p.tgt_vocab.to_dict()})
    task = Translate.load(tmp_path / "mt")
    assert task.config.network() == net
    assert task.predict(TEXTS[:2]) == mt.translate(TEXTS[:2], task.config.decoding())

    lm_net, stream = LanguageModelConfig(embed_size=8, hidden_size=8, num_layers=1), StreamConfig(4, 8, 2)
    lm = lm_fit(TEXTS, lm_net, stream, FAST)
    save_model(tmp_path / "lm", task="generate", config={"model": lm_net.to_dict(), "stream": vars(stream).copy()},
               state_dict=lm.model.state_dict(),
               extras={"tokenizer": lm.tokenizer.to_config(), "vocab": lm.vocab.to_dict()})
    with pytest.warns(UserWarning, match="no token counts"):
        task = Generate.load(tmp_path / "lm")
    assert task.config.network() == lm_net and task.config.stream() == stream
    assert task.evaluate(TEXTS)["lstm"] == lm.evaluate(TEXTS)
