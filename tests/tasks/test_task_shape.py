"""Every registered task walks through the same life cycle with the same calls.

    task = cls(config, train).fit(train_data, val=val_data)
    task.predict(data); task.evaluate(data); task.save(dir); cls.load(dir)

Each task contributes tiny data and a tiny config in :data:`CASES`; a task
registered in :data:`lstmkit.tasks.base.TASKS` without a case fails
``test_every_registered_task_has_a_case``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from lstmkit.tasks.base import TASKS, Task, task_class
from lstmkit.train import TrainConfig


@dataclass
class Case:
    """What a task needs for the walk: sections of a tiny config and data makers."""

    sections: dict[str, dict[str, Any]]
    train: Callable[[], Any]
    val: Callable[[], Any]
    test: Callable[[], Any]


def _series_frame(n: int, start: int = 0, n_series: int = 2) -> pd.DataFrame:
    parts = []
    for i in range(n_series):
        t = np.arange(start, start + n)
        y = 20 + 5 * i + 3 * np.sin(2 * np.pi * t / 6) + 0.05 * t
        parts.append(pd.DataFrame({"unique_id": f"s{i}", "ds": t, "y": y}))
    return pd.concat(parts, ignore_index=True)


def _detect_frame(n: int, seed: int, fault: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = np.sin(2 * np.pi * np.arange(n) / 12) + rng.normal(0, 0.05, n)
    label = np.zeros(n, dtype=int)
    if fault:
        y[100:106] += 3.0
        label[100:106] = 1
    return pd.DataFrame({"ds": np.arange(n), "y": y, "label": label})


def _seqclass_data(n: int, seed: int) -> tuple[list[np.ndarray], list[str]]:
    rng = np.random.default_rng(seed)
    xs = [rng.normal(size=(2, int(rng.integers(5, 11)))) + (i % 2) for i in range(n)]
    return xs, ["hi" if i % 2 else "lo" for i in range(n)]


POS = ["a great film", "great acting and a fine story", "fine and great", "what a great fine movie",
       "i loved it", "loved the great story", "a fine great cast", "great and loved"]
NEG = ["a bad film", "awful acting and a dull story", "dull and bad", "what a bad awful movie",
       "i hated it", "hated the dull story", "a dull bad cast", "bad and hated"]


def _reviews(n: int, offset: int = 0) -> pd.DataFrame:
    texts = [(POS if i % 2 == 0 else NEG)[(i // 2 + offset) % len(POS)] for i in range(n)]
    return pd.DataFrame({"text": texts, "label": ["pos" if i % 2 == 0 else "neg" for i in range(n)]})


WORDS = {"the": "DET", "a": "DET", "dog": "NOUN", "cat": "NOUN", "bird": "NOUN", "runs": "VERB",
         "sleeps": "VERB", "sings": "VERB", "big": "ADJ", "small": "ADJ"}


def _sentences(n: int, offset: int = 0) -> list[tuple[list[str], list[str]]]:
    det, adj, noun, verb = ["the", "a"], ["big", "small"], ["dog", "cat", "bird"], ["runs", "sleeps", "sings"]
    out = []
    for i in range(offset, offset + n):
        words = [det[i % 2], adj[i % 2], noun[i % 3], verb[(i // 2) % 3]] if i % 3 else \
            [det[i % 2], noun[i % 3], verb[i % 3]]
        out.append((words, [WORDS[w] for w in words]))
    return out


VERSES = ["in the beginning was the word", "and the word was with god", "the light shines in the dark",
          "and the dark has not overcome it", "there was a man sent from god", "he came as a witness"]


def _chorales(n: int, seed: int) -> list[list[list[int]]]:
    """Tiny four-voice chorales as frames (cadences in C with some variation)."""
    rng = np.random.default_rng(seed)
    chords = [[48, 64, 67, 72], [53, 65, 69, 72], [55, 62, 67, 71], [48, 64, 67, 72]]
    return [[sorted({p + int(rng.integers(0, 2)) * (j == 0) for j, p in enumerate(chords[t % 4])})
             for t in range(int(rng.integers(6, 10)))] for _ in range(n)]


def _speech_features(n: int, seed: int) -> tuple[list[np.ndarray], list[str]]:
    """Feature sequences spelling short words: 3 frames per letter, a letter a direction in 4-d."""
    rng = np.random.default_rng(seed)
    words = ["ab", "ba", "a", "b", "aab"]
    texts = [words[i % len(words)] for i in range(n)]
    return [np.repeat(np.eye(4)[[ord(c) - 96 for c in t]], 3, axis=0) + rng.normal(0, 0.1, (3 * len(t), 4))
            for t in texts], texts


CASES: dict[str, Case] = {
    "forecast": Case(
        sections={"model": {"horizon": 3, "lookback": 6, "hidden_size": 8, "head_hidden": 8, "members": 2,
                            "calibration_refit": "none"},  # one training pass: one line per epoch
                  "data": {"season_length": 6, "batch_size": 16}},
        train=lambda: _series_frame(40),
        val=lambda: _series_frame(6, start=40),
        test=lambda: _series_frame(46),
    ),
    "detect": Case(
        sections={"model": {"window": 12, "hidden_size": 8}, "data": {"max_train_windows": 100}},
        train=lambda: _detect_frame(150, seed=0),
        val=lambda: _detect_frame(60, seed=1),
        test=lambda: _detect_frame(160, seed=2, fault=True),
    ),
    "seqclass": Case(
        sections={"model": {"hidden_size": 6, "model": "lstm_fcn", "filters": [4], "kernels": [3]},
                  "data": {"batch_size": 8}},
        train=lambda: _seqclass_data(16, seed=0),
        val=lambda: _seqclass_data(6, seed=1),
        test=lambda: _seqclass_data(8, seed=2),
    ),
    "classify": Case(
        sections={"model": {"embed_size": 8, "hidden_size": 8, "pooling": "attention", "attn_size": 4},
                  "data": {"batch_size": 4}},
        train=lambda: _reviews(16),
        val=lambda: _reviews(6, offset=3),
        test=lambda: _reviews(8, offset=1),
    ),
    "tag": Case(
        sections={"model": {"embed_size": 8, "char_embed_size": 4, "char_hidden_size": 4, "hidden_size": 8,
                            "members": 2},
                  "data": {"batch_size": 4, "folds": 4}},
        train=lambda: _sentences(12),
        val=lambda: _sentences(4, offset=12),
        test=lambda: _sentences(6, offset=20),
    ),
    "generate": Case(
        sections={"model": {"embed_size": 8, "hidden_size": 8, "num_layers": 1},
                  "data": {"batch_size": 4, "bptt": 12, "ngram_order": 3}, "sample": {"max_length": 12}},
        train=lambda: VERSES * 3,
        val=lambda: VERSES[:2],
        test=lambda: ["the word was light", "and the man came"],
    ),
    "translate": Case(
        sections={"model": {"embed_size": 8, "hidden_size": 8}, "data": {"batch_size": 4, "min_freq": 1},
                  "decode": {"beam_size": 2, "max_length": 8}},
        train=lambda: (["ein haus", "eine katze", "das haus", "die katze"] * 3,
                       ["a house", "a cat", "the house", "the cat"] * 3),
        val=lambda: (["ein haus"], ["a house"]),
        test=lambda: pd.DataFrame({"source": ["das haus", "eine katze"], "target": ["the house", "a cat"]}),
    ),
    "speech": Case(
        sections={"model": {"hidden_size": 8, "num_layers": 1, "stack": 1},
                  "data": {"batch_size": 4, "cmvn": "none"}, "decode": {"beam_size": 2}},
        train=lambda: _speech_features(10, seed=0),
        val=lambda: _speech_features(4, seed=1),
        test=lambda: _speech_features(5, seed=2),
    ),
    "music": Case(
        sections={"model": {"kind": "nade", "hidden_size": 8, "nade_size": 4},
                  "data": {"low": 45, "high": 75, "batch_size": 2}},
        train=lambda: _chorales(4, seed=0),
        val=lambda: _chorales(2, seed=1),
        test=lambda: _chorales(2, seed=2),
    ),
}


def _video_clips(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    clips = np.zeros((n, 6, 8, 8), dtype=np.float32)
    for i in range(n):
        start = int(rng.integers(0, 8))
        for t in range(6):
            clips[i, t, :, (start + t) % 8] = 1.0  # a bar moving right
    return clips


CASES["video"] = Case(
    sections={"model": {"hidden_channels": 4, "num_layers": 1, "patch": 2},
              "data": {"input_frames": 3, "output_frames": 3, "batch_size": 4}},
    train=lambda: _video_clips(8, seed=0),
    val=lambda: _video_clips(4, seed=1),
    test=lambda: _video_clips(4, seed=2),
)


def test_every_registered_task_has_a_case():
    assert set(CASES) == set(TASKS)


def _task(name: str) -> Task:
    cls = task_class(name)
    config = cls.CONFIG.from_dict(CASES[name].sections) if hasattr(cls.CONFIG, "from_dict") else None
    train = cls.default_train(max_epochs=2, progress=False)
    return cls(config, train)


@pytest.mark.parametrize("name", sorted(CASES))
def test_task_walks_the_life_cycle(name, tmp_path, capsys):
    case = CASES[name]
    task = _task(name)
    cls = type(task)
    assert cls.NAME == name and cls.OUTPUT in ("frame", "text")
    assert task.fit(case.train(), val=case.val() if cls.SUPPORTS_VAL else None) is task

    # one progress line per epoch and member when there is no terminal
    err = capsys.readouterr().err
    epochs = [line for line in err.splitlines() if "epoch " in line]
    assert len(epochs) == 2 * task.members, err
    if task.members > 1:
        assert any(f"member {task.members}/{task.members}" in line for line in epochs)
    summary = task.fit_summary()
    assert len(summary) >= task.members and all("kept epoch" in line for line in summary[: task.members])

    test = case.test()
    predicted = task.predict(test)
    if cls.OUTPUT == "frame":
        assert isinstance(predicted, pd.DataFrame) and len(predicted) > 0
    report = task.evaluate(test)
    assert isinstance(report, dict) and len(report) >= 2, "the model and at least one baseline"
    for row in report.values():
        assert all(np.isfinite(v) for v in row.values() if isinstance(v, float))

    task.save(tmp_path / "model")
    header = json.loads((tmp_path / "model" / "config.json").read_text())
    assert {"model", "data", "train"} <= set(header["config"])
    assert header["config"]["train"]["max_epochs"] == 2
    run = yaml.safe_load((tmp_path / "model" / "run.yaml").read_text())
    assert run == header["config"]

    loaded = cls.load(tmp_path / "model")
    assert loaded.config == task.config and loaded.train_config == task.train_config
    again = loaded.predict(test)
    if cls.OUTPUT == "frame":
        pd.testing.assert_frame_equal(predicted, again)
    else:
        assert predicted == again
    assert loaded.evaluate(test) == report


@pytest.mark.parametrize("name", sorted(CASES))
def test_config_round_trips_through_its_record(name):
    task = _task(name)
    config, train = type(task).config_from_record(json.loads(json.dumps(task.config_record())))
    assert config == task.config and train == task.train_config


@pytest.mark.parametrize("name", sorted(CASES))
def test_lifecycle_errors_are_plain_value_errors(name, tmp_path):
    task = _task(name)
    with pytest.raises(ValueError, match="before fit"):
        task.predict(CASES[name].test())
    with pytest.raises(ValueError, match="before fit"):
        task.save(tmp_path / "m")
    with pytest.raises(TypeError, match="TrainConfig"):
        type(task)(None, {"max_epochs": 1})


def test_callbacks_and_tensorboard_logger_reach_lightning(tmp_path):
    import lightning as L
    from lightning.pytorch.loggers import TensorBoardLogger

    class Count(L.Callback):
        epochs = 0

        def on_train_epoch_end(self, trainer, pl_module):
            Count.epochs += 1

    case = CASES["detect"]
    task = _task("detect")
    task.fit(case.train(), callbacks=[Count()], logger=TensorBoardLogger(tmp_path / "tb", name="run"))
    assert Count.epochs == 2
    events = list((tmp_path / "tb").rglob("events.out.tfevents.*"))
    assert events, "TensorBoard wrote no event file"


def test_ensemble_members_get_their_own_run_dir_and_seed(tmp_path):
    case = CASES["forecast"]
    task = _task("forecast")
    task.train_config = task.train_config.replace(run_dir=str(tmp_path / "run"))
    task.fit(case.train())
    assert [r.config.seed for r in task.fit_results] == [0, 1]
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["member-1", "member-2"]
    assert all((tmp_path / "run" / m / "checkpoints" / "last.ckpt").is_file() for m in ("member-1", "member-2"))


def test_train_knobs_live_only_in_train_config():
    for name in TASKS:
        cls = task_class(name)
        for section in ("model", "data"):
            fields = getattr(cls.CONFIG(), section).__dataclass_fields__
            assert not {"epochs", "max_epochs", "lr", "seed", "progress"} & set(fields), (name, section)
        assert isinstance(cls.default_train(), TrainConfig)
