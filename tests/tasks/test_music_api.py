"""The Music task through its Python API: fit, sample, harmonise, evaluate, save / load, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit.tasks.music import Music, MusicConfig, MusicDataConfig, MusicModelConfig
from lstmkit.tasks.music.encoding import HOLD, REST, notes_to_tokens, pitch_token, tokens_to_notes
from lstmkit.tasks.music.files import read_parts, write_musicxml
from lstmkit.train import TrainConfig

TRAIN = TrainConfig(max_epochs=2, progress=False, checkpoint=False)


def _chorales(n, seed):
    rng = np.random.default_rng(seed)
    chords = [[48, 64, 67, 72], [53, 65, 69, 72], [55, 62, 67, 71], [48, 64, 67, 72]]
    return [[sorted({p + int(rng.integers(0, 2)) * (j == 0) for j, p in enumerate(chords[t % 4])})
             for t in range(int(rng.integers(6, 10)))] for _ in range(n)]


def _voices(n, seed):
    """Four-voice pieces as tokens (4, T): half notes, the lower voices a fixed interval below."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        tops = rng.choice([72, 74, 76, 77, 79], size=4)
        rows = []
        for interval in (0, 4, 9, 24):
            row = []
            for p in tops:
                row += [pitch_token(int(p) - interval)] + [HOLD] * 7
            rows.append(row)
        out.append(np.array(rows, dtype=np.int64))
    return out


def _task(kind, **data):
    model = MusicModelConfig(kind=kind, hidden_size=12, nade_size=4, embed_size=8)
    return Music(MusicConfig(model, MusicDataConfig(low=45, high=80, batch_size=2, **data)), TRAIN)


@pytest.mark.parametrize("kind", ["nade", "bernoulli"])
def test_frame_model_fit_sample_evaluate_save_load(kind, tmp_path):
    task = _task(kind, transpose=2).fit(_chorales(4, 0), val=_chorales(2, 1))
    report = task.evaluate(_chorales(2, 2))
    assert set(report) == {kind, "note_frequency", "ngram"}
    assert all(np.isfinite(row["nll_per_frame"]) and row["nll_per_frame"] > 0 for row in report.values())
    pieces = task.sample(length=6, n=2, seed=0)
    assert len(pieces) == 2 and all(len(p) == 6 for p in pieces)
    assert all(45 <= q <= 80 for p in pieces for f in p for q in f)
    assert task.sample(length=6, n=2, seed=0) == pieces  # the seed decides
    loaded = Music.load(task.save(tmp_path / "m"))
    assert loaded.evaluate(_chorales(2, 2)) == report
    assert loaded.sample(length=6, n=2, seed=0) == pieces
    for suffix in (".mid", ".musicxml", ".png"):
        assert task.write(pieces[0], tmp_path / f"s{suffix}").stat().st_size > 0


def test_harmonisation_keeps_the_soprano_and_the_baseline_reports(tmp_path):
    task = _task("voices", max_sixteenths=16, ngram_order=4).fit(_voices(6, 0), val=_voices(2, 1))
    melody = _voices(1, 5)[0][0]
    melody[8:16] = [REST] * 8  # a rest in the melody stays a rest
    for seed in (0, 1):
        (piece,) = task.sample(soprano=melody, seed=seed, temperature=1.5)
        assert piece.shape == (4, len(melody))
        assert piece[0].tolist() == melody.tolist()
    # from a file: the top part is the soprano
    path = write_musicxml([tokens_to_notes(melody)], tmp_path / "melody.musicxml")
    (piece,) = task.sample(soprano=path, seed=0)
    assert piece[0].tolist() == notes_to_tokens(read_parts(path)[0]).tolist()
    report = task.evaluate(_voices(2, 2))
    assert set(report) == {"voices", "ngram"}
    assert 0.0 <= report["voices"]["harmonization_accuracy"] <= 1.0
    assert report["ngram"]["harmonization_accuracy"] > 0.5  # the intervals are fixed: easy for counts
    table = task.predict(_voices(1, 3))
    assert list(table.columns) == ["piece", "sixteenth", "soprano", "alto", "tenor", "bass"]
    loaded = Music.load(task.save(tmp_path / "v"))
    assert loaded.evaluate(_voices(2, 2)) == report
    free = loaded.sample(length=2, seed=0)[0]
    assert free.shape == (4, 8)


def test_bad_input_is_one_line(tmp_path):
    task = _task("nade").fit(_chorales(2, 0))
    with pytest.raises(ValueError, match="pitch 100 in frame 0 is outside the model's range 45..80"):
        task.evaluate([[[100]]])
    with pytest.raises(ValueError, match="empty"):
        task.evaluate([[]])
    with pytest.raises(ValueError, match="needs a voices model"):
        task.sample(soprano=[])
    with pytest.raises(ValueError, match="no voice parts"):
        _task("voices").fit("jsb")
    with pytest.raises(ValueError, match="before fit"):
        _task("nade").sample()
    three = write_musicxml([tokens_to_notes(v) for v in _voices(1, 0)[0][:3]], tmp_path / "three.musicxml")
    with pytest.raises(ValueError, match="expected a four-part score"):
        _task("voices").fit(three)


def test_input_dropout_and_zoneout_are_checked_and_saved(tmp_path):
    for name in ("input_dropout", "zoneout", "recurrent_dropout", "dropout"):
        with pytest.raises(ValueError, match=rf"MusicModelConfig\.{name}: expected a float in \[0, 1\)"):
            MusicModelConfig(**{name: 1.0})
        with pytest.raises(ValueError, match=rf"MusicModelConfig\.{name}"):
            MusicModelConfig(**{name: -0.1})
    model = MusicModelConfig(kind="bernoulli", hidden_size=12, input_dropout=0.25, zoneout=0.1,
                             recurrent_dropout=0.2)
    task = Music(MusicConfig(model, MusicDataConfig(low=45, high=80, batch_size=2)), TRAIN)
    task.fit(_chorales(3, 0))
    assert task.model.drop_in.p == 0.25 and task.model.lstm.spec.zoneout_c == 0.1
    assert task.model.lstm.spec.recurrent_dropout == 0.2
    loaded = Music.load(task.save(tmp_path / "m"))
    assert loaded.config.model.input_dropout == 0.25 and loaded.config.model.zoneout == 0.1
    assert loaded.config.model.recurrent_dropout == 0.2 and loaded.model.lstm.spec.recurrent_dropout == 0.2
    assert loaded.evaluate(_chorales(2, 2)) == task.evaluate(_chorales(2, 2))
    # a config saved before these fields existed still loads, with the current defaults (recurrent
    # dropout acts in training only, so the loaded model's outputs do not depend on it)
    old = MusicConfig.from_dict({"model": {"kind": "bernoulli", "hidden_size": 12}})
    assert old.model.input_dropout == 0.0 and old.model.zoneout == 0.0 and old.model.recurrent_dropout == 0.5


def test_batch_size_defaults_by_kind_and_an_explicit_one_wins():
    def loader_batch(kind, **data):
        task = Music(MusicConfig(MusicModelConfig(kind=kind), MusicDataConfig(low=45, high=80, **data)), TRAIN)
        return task._loader(_chorales(5, 0) if kind != "voices" else _voices(5, 0), train=True).batch_size

    assert (loader_batch("bernoulli"), loader_batch("nade"), loader_batch("voices")) == (2, 8, 8)
    assert loader_batch("bernoulli", batch_size=5) == 5 and loader_batch("nade", batch_size=3) == 3
    with pytest.raises(ValueError, match=r"MusicDataConfig\.batch_size: expected an int >= 1"):
        MusicDataConfig(batch_size=0)


@pytest.mark.parametrize("checkpoint", [False, True])  # best weights kept in memory / in a checkpoint file
def test_weight_averaging_keeps_the_average_of_the_best_epoch(tmp_path, checkpoint):
    model = MusicModelConfig(kind="bernoulli", hidden_size=12, ema_decay=0.9)
    train = TrainConfig(max_epochs=3, progress=False, checkpoint=checkpoint, lr=0.05)
    task = Music(MusicConfig(model, MusicDataConfig(low=45, high=80, batch_size=1)), train)
    task.fit(_chorales(4, 0), val=_chorales(2, 1))
    result = task.fit_results[-1]
    # validation scored the average; the kept (restored, averaged) weights give the best epoch's score
    assert task.nll(_chorales(2, 1))["nll_per_frame"] == pytest.approx(result.best_score, abs=1e-5)
    plain = Music(MusicConfig(MusicModelConfig(kind="bernoulli", hidden_size=12),
                              MusicDataConfig(low=45, high=80, batch_size=1)), train)
    plain.fit(_chorales(4, 0), val=_chorales(2, 1))
    assert plain.fit_results[-1].history[0]["val_loss"] != pytest.approx(result.history[0]["val_loss"])
    loaded = Music.load(task.save(tmp_path / "m"))
    assert loaded.config.model.ema_decay == 0.9
    assert loaded.evaluate(_chorales(2, 2)) == task.evaluate(_chorales(2, 2))
