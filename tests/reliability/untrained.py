"""Saved models built without training (random weights), for error and alignment probes.

Training costs seconds per model; these tests only need a loadable model directory.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch


def classifier(path: Path, texts=("good film", "bad film", "fine plot", "dull plot"),
               labels=("pos", "neg", "pos", "neg")) -> Path:
    from lstmkit.tasks.classify import ClassifierConfig, TextClassifier
    from lstmkit.tasks.classify.data import TextEncoder
    from lstmkit.tasks.classify.model import ClassifierNet

    torch.manual_seed(0)
    cfg = ClassifierConfig(embed_dim=4, hidden=4, attn_size=4)
    clf = TextClassifier(cfg)
    clf.encoder = TextEncoder.build(cfg, list(texts), list(labels))
    clf.net = ClassifierNet(cfg, len(clf.encoder.vocab), len(clf.encoder.labels))
    clf.save(path)
    return path


def translator(path: Path, sentences=("a b c", "b c d", "c d e")) -> Path:
    from lstmkit.tasks.translate import Seq2Seq, Seq2SeqConfig, TranslationPipeline
    from lstmkit.tasks.translate.api import _tokenizer
    from lstmkit.text import Vocab

    torch.manual_seed(0)
    cfg = Seq2SeqConfig(embed_size=4, hidden_size=4, min_freq=1, max_target_len=4)
    tok = _tokenizer(cfg, sentences)
    vocab = Vocab.build((tok.tokenize(s) for s in sentences), min_freq=1)
    TranslationPipeline(Seq2Seq(len(vocab), len(vocab), cfg), tok, tok, vocab, vocab, cfg).save(path)
    return path


def forecaster(path: Path, freq: str | None) -> Path:
    """A forecaster for one series 'series_0' with lookback 6, horizon 2, trained on dates
    (``freq``) or on integer steps (``freq=None``)."""
    from lstmkit.tasks.forecast import Forecast, default_config
    from lstmkit.tasks.forecast.scaling import fit_scaler

    torch.manual_seed(0)
    fc = Forecast(default_config(2, 1, lookback=6))
    fc.nets = fc._new_nets()
    y = np.arange(20, dtype=np.float64)
    fc.scalers = {"series_0": fit_scaler("none", y, np.zeros((20, 0)), "series_0")}
    fc.freq, fc.int_step = freq, 1
    fc.save(path)
    return path


def edit_config(path: Path, change) -> None:
    """Apply ``change(dict)`` to a saved model's config.json (a user editing the file)."""
    file = Path(path) / "config.json"
    data = json.loads(file.read_text())
    change(data)
    file.write_text(json.dumps(data))


def detector(path: Path, **extras) -> Path:
    """A prediction detector (window 8, one channel, hidden size 4) with ``extras`` overriding
    its saved statistics (``std=[0.0]``: what a hand-edited config.json may hold)."""
    from lstmkit.tasks.anomaly import Detect, DetectConfig, DetectModelConfig
    from lstmkit.tasks.anomaly.models import PredictorNet

    torch.manual_seed(0)
    det = Detect(DetectConfig(model=DetectModelConfig(hidden_size=4)))
    det.net = PredictorNet(1, 4, 1)
    det.window = 8
    det.mean, det.std, det.err_mu, det.err_sigma = (np.zeros(1), np.ones(1), np.zeros(1), np.ones(1))
    det.save(path)
    if extras:
        edit_config(path, lambda c: c["extras"].update(extras))
    return path
