"""The view of every task with a sequence model: tiny models (one epoch), their adapters and the CLI."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lstmkit.cli import main
from lstmkit.inspect import view
from lstmkit.tasks import TASKS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reliability"))
from tiny_tasks import RESUMABLE  # noqa: E402

DATA = {"classify": "train.tsv", "tag": "train.conll", "translate": "train.en", "generate": "train.txt",
        "forecast": "train.csv", "detect": "normal.csv", "video": "clips.npy", "speech": "train.tsv"}
EXTRA = {"classify": ["--pooling", "attention"]}  # attention pooling: the view shows its weights


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """task -> (model dir, data) for the CLI-trained tasks, built on first use."""
    built: dict[str, tuple[Path, Path]] = {}

    def get(name: str) -> tuple[Path, Path]:
        if name not in built:
            d = tmp_path_factory.mktemp(name)
            args = RESUMABLE[name](d) + EXTRA.get(name, [])
            assert main(args + ["--out", str(d / "model"), "--epochs", "1", "--no-progress"]) == 0
            built[name] = (d / "model", d / DATA[name])
        return built[name]

    return get


def check_shapes(v) -> None:
    meta = v.payload["meta"]
    assert v.sequences >= 1
    for s in v.payload["sequences"]:
        n = len(s["tokens"])
        assert n >= 1
        for key in meta["layers"]:
            for name, rows in s["traces"][key].items():
                assert len(rows) == n and all(len(r) == meta["units"][key][name] for r in rows)
        if s["notes"] is not None:
            assert len(s["notes"]) == n


def test_every_registered_task_has_a_view_test():
    untested = set(TASKS) - set(DATA) - {"seqclass", "music"}
    assert not untested, f"add a view test for {sorted(untested)} here (and its adapter: docs/inspect.md)"


def test_classify_view_shows_tokens_prediction_and_pooling_attention(models):
    model, data = models("classify")
    v = view(model, data, max_sequences=3)
    check_shapes(v)
    s = v.payload["sequences"][0]
    assert s["tokens"] == ["a", "great", "film"]
    assert s["output"].split(" ")[0] in ("pos", "neg")
    assert len(s["attention"]["weights"][0]) == 3 and sum(s["attention"]["weights"][0]) == pytest.approx(1, abs=1e-3)
    assert set(v.payload["meta"]["layers"]) == {"l0", "l0_reverse"}
    assert v.sequences == 3


def test_tag_view_has_a_tag_per_token(models):
    model, data = models("tag")
    v = view(model, data, max_sequences=2)
    check_shapes(v)
    s = v.payload["sequences"][0]
    assert s["tokens"] == ["Ali", "Ankara", "'ya", "gitti", "."]
    assert all(n.startswith("tag ") and "(gold " in n for n in s["notes"])
    assert s["output"].split() == [n.split()[1] for n in s["notes"]]


def test_translate_view_has_the_attention_matrix(models):
    model, data = models("translate")
    v = view(model, data, max_sequences=2)
    check_shapes(v)
    s = v.payload["sequences"][0]
    assert [t.strip() for t in s["tokens"]] == ["the", "house", "is", "red"]
    a = s["attention"]
    assert len(a["weights"]) == len(a["target"]) >= 1
    assert all(len(row) == 4 and sum(row) == pytest.approx(1, abs=1e-3) for row in a["weights"])


def test_generate_view_steps_through_the_characters(models):
    model, data = models("generate")
    v = view(model, data, max_sequences=1, max_steps=10)
    check_shapes(v)
    s = v.payload["sequences"][0]
    assert s["tokens"] == list("In\u2423the\u2423beg")
    assert all(n.startswith("next: ") for n in s["notes"])


def test_forecast_view_aligns_the_encoder_under_the_last_steps(models):
    model, data = models("forecast")
    v = view(model, data)
    check_shapes(v)
    assert [s["title"] for s in v.payload["sequences"]] == ["series 'a'", "series 'b'"]
    s = v.payload["sequences"][0]
    ser = s["series"]
    history = sum(1 for y in ser["channels"]["y"] if y is not None)
    assert history == 48 and len(ser["x"]) == 48 + 4                      # + the horizon
    assert len(s["tokens"]) == 8 and ser["trace_start"] == 48 - 8         # lookback 8, under the last 8 steps
    assert s["tokens"] == ser["x"][40:48]
    assert ser["overlay"]["forecast"][:47] == [None] * 47 and None not in ser["overlay"]["forecast"][47:]
    low, high = ser["band"]["low"][48:], ser["band"]["high"][48:]
    assert all(lo <= hi for lo, hi in zip(low, high))


def test_detect_view_traces_are_the_states_behind_each_score(models):
    from lstmkit.tasks import Detect

    model, data = models("detect")
    v = view(model, data, max_steps=30)
    check_shapes(v)
    s = v.payload["sequences"][0]
    ser = s["series"]
    task = Detect.load(model)
    window = task.window
    assert ser["trace_start"] == window - 1 and len(ser["x"]) == 30 and len(s["tokens"]) == 30 - window + 1
    assert len(ser["lines"]["score"]) == 30
    # step j's trace is the LSTM's last step on the window ending at j: check one window by hand
    import pandas as pd

    x = pd.read_csv(data)["y"].to_numpy()[:, None]
    j = window + 3
    standard = (x[j - window + 1:j + 1] - task.mean) / task.std
    assert task.config.model.level == "local"         # the net reads each window minus its own mean
    z = torch.tensor((standard - standard.mean(axis=0))[None], dtype=torch.float32)
    task.net.eval()
    with torch.no_grad():
        out, _ = task.net.lstm(z)
    got = torch.tensor(s["traces"]["l0"]["h"][j - (window - 1)])
    torch.testing.assert_close(got, out[0, -1], atol=1e-4, rtol=0)


def test_seqclass_view_shows_channels_and_a_running_probability(tmp_path):
    from lstmkit.tasks.seqclass import (
        SeqClass,
        SeqClassConfig,
        SeqClassDataConfig,
        SeqClassModelConfig,
    )

    rng = np.random.default_rng(0)
    xs = [np.stack([s * np.linspace(0, 1, n) + rng.normal(0, 0.1, n), rng.normal(0, 1, n)])
          for s, n in zip([1.0, -1.0] * 6, rng.integers(6, 12, 12))]
    ys = np.array(["up", "down"] * 6)
    mc = SeqClassModelConfig(model="lstm", hidden_size=6, bidirectional=False, pooling="mean")
    task = SeqClass(SeqClassConfig(model=mc, data=SeqClassDataConfig(batch_size=4)),
                    SeqClass.default_train(max_epochs=1, progress=False, warmup_steps=0))
    task.fit((xs, ys))
    task.save(tmp_path / "model")
    v = view(tmp_path / "model", (xs[:3], ys[:3]))
    check_shapes(v)
    s = v.payload["sequences"][0]
    assert len(s["tokens"]) == xs[0].shape[1]
    assert list(s["series"]["channels"]) == ["channel 0", "channel 1"]
    (name, running), = s["series"]["lines"].items()
    assert name.startswith("p(") and len(running) == len(s["tokens"])
    assert s["output"].split(" ")[0] in ("up", "down") and s["output"].endswith("label up")
    final = task.predict_proba((xs[:1], ys[:1]))[0].max()
    assert running[-1] == pytest.approx(final, abs=1e-4)  # the last step is the prediction


@pytest.mark.parametrize("kind", ["nade", "voices"])
def test_music_view_names_the_frames(kind, tmp_path):
    from lstmkit.tasks.music import Music, MusicConfig, MusicDataConfig, MusicModelConfig
    from lstmkit.tasks.music.encoding import HOLD, pitch_token
    from lstmkit.train import TrainConfig

    if kind == "nade":
        pieces = [[[48, 64, 67, 72], [53, 65, 69], [], [55, 62, 67, 71]] * 2 for _ in range(3)]
    else:
        rows = [[pitch_token(p - i)] + [HOLD] * 3 for i in (0, 4, 9, 24) for p in (72,)]
        pieces = [np.array([r * 2 for r in rows], dtype=np.int64) for _ in range(3)]
    model = MusicModelConfig(kind=kind, hidden_size=8, nade_size=4, embed_size=8)
    task = Music(MusicConfig(model, MusicDataConfig(low=45, high=80, batch_size=2)),
                 TrainConfig(max_epochs=1, progress=False, checkpoint=False)).fit(pieces)
    v = view(task, pieces, max_sequences=2)
    check_shapes(v)
    s = v.payload["sequences"][0]
    if kind == "nade":
        assert s["tokens"][:3] == ["C3.E4.G4.C5", "F3.F4.A4", "rest"]
    else:
        assert s["tokens"][:5] == ["S:C5", "A:G#4", "T:D#4", "B:C3", "S:hold"]
    assert all(n.startswith("log p ") for n in s["notes"])
    if kind == "nade":  # a MIDI file, as `lstmkit inspect --data piece.mid` reads it
        midi = task.write(pieces[0], tmp_path / "piece.mid")
        from_file = view(task, midi)
        check_shapes(from_file)
        assert from_file.payload["sequences"][0]["tokens"][:2] == ["C3.E4.G4.C5", "F3.F4.A4"]


def test_video_nextframe_view_joins_encoder_and_forecaster_and_shows_the_error(models):
    from lstmkit.tasks import Video
    from lstmkit.tasks.video.models import to_patches

    model, data = models("video")                                     # 8 clips of 6 frames; 3 given, 3 predicted
    v = view(model, data, max_sequences=2)
    check_shapes(v)
    s = v.payload["sequences"][0]
    assert s["tokens"] == ["in 1", "in 2", "in 3", "out 4", "out 5", "out 6"]
    assert v.payload["meta"]["layers"] == ["l0"] and v.payload["meta"]["units"]["l0"]["h"] == 4  # channels
    task = Video.load(model)
    clip = torch.from_numpy(np.load(data)[:1, :, None])                # (1, T, C, H, W)
    net = task.net.eval()
    with torch.no_grad():                                              # the channels' spatial means, by hand
        x = to_patches(clip[:, :3], 2)
        enc_out, state = net.encoder(x)
        fc_out, _ = net.forecaster(x[:, -1:], state)
    h = torch.tensor(s["traces"]["l0"]["h"])
    torch.testing.assert_close(h[2], enc_out[0, -1].mean((1, 2)), atol=1e-4, rtol=0)
    torch.testing.assert_close(h[3], fc_out[0, 0].mean((1, 2)), atol=1e-4, rtol=0)
    lines = s["series"]["lines"]
    err = lines["squared error per frame (convlstm)"]
    assert err[:3] == [None] * 3
    want = task.predict(data)
    assert err[3:] == pytest.approx(want[want["clip"] == "clip0"]["mse"].tolist(), rel=1e-4)
    assert lines["squared error per frame (copy last)"][3:] == pytest.approx([16.0, 16.0, 16.0])  # 2 bars of 8 px
    assert s["series"]["overlay"]["predicted mean intensity"][:2] == [None, None]


@pytest.mark.parametrize("model", ["lrcn", "convlstm"])
def test_video_action_view_steps_through_the_frames(model, tmp_path):
    from lstmkit.tasks.video import Video, VideoConfig, VideoDataConfig, VideoModelConfig
    from lstmkit.tasks.video.models import to_patches

    clips = np.zeros((8, 5, 1, 8, 8), dtype=np.float32)
    for i in range(8):
        for t in range(5):
            col = (i + t) % 8 if i % 2 else (i - t) % 8
            clips[i, t, 0, :, col] = 1.0                               # a bar moving right (odd) or left
    labels = np.array(["left", "right"] * 4)
    mc = VideoModelConfig(objective="action", model=model, patch=2, hidden_channels=3, num_layers=1,
                          hidden_size=5, cnn_channels=4)
    task = Video(VideoConfig(mc, VideoDataConfig(batch_size=4, val_fraction=0.0)),
                 Video.default_train(max_epochs=1, progress=False, warmup_steps=0)).fit((clips, labels))
    v = view(task, (clips[:3], labels[:3]), max_sequences=3)
    check_shapes(v)
    assert v.sequences == 3
    s = v.payload["sequences"][1]
    assert s["tokens"] == [f"frame {t}" for t in range(1, 6)]
    assert v.payload["meta"]["units"]["l0"]["h"] == (5 if model == "lrcn" else 3)
    proba = task.predict_proba(clips[1:2])[0]
    k = int(proba.argmax())
    assert s["output"].startswith(task.classes[k]) and s["output"].endswith("label right")
    (name, running), = s["series"]["lines"].items()
    assert name.startswith(f"p({task.classes[k]})") and len(running) == 5
    assert running[-1] == pytest.approx(proba[k], abs=1e-4)           # the last frame's value is the prediction
    assert s["series"]["channels"]["mean |change|"][0] is None
    x = torch.from_numpy(clips[1:2])
    net = task.net.eval()
    with torch.no_grad():
        if model == "lrcn":
            out, _ = net.lstm(net.cnn(x.flatten(0, 1)).unflatten(0, (1, 5)))
            want = out[0]
        else:
            out, _ = net.convlstm(to_patches(x, 2))
            want = out[0].mean((2, 3))                                 # each channel averaged over space
    torch.testing.assert_close(torch.tensor(s["traces"]["l0"]["h"]), want, atol=1e-4, rtol=0)
    if model == "lrcn":  # the command line takes the task's generator specs as --data
        task.save(tmp_path / "model")
        out = tmp_path / "report.html"
        argv = ["inspect", str(tmp_path / "model"), "--data", "actions:2:8:5:test", "--out", str(out)]
        assert main(argv) == 0 and 'id="lk-data"' in out.read_text(encoding="utf-8")
        assert main(argv[:3] + ["nowhere:2", "--out", str(out)]) == 2  # not a generator: a missing file


def test_speech_greedy_emissions_mark_new_non_blank_ids():
    from lstmkit.inspect.adapters.speech import greedy_emissions
    from lstmkit.tasks.speech.decode import greedy

    path = [0, 2, 2, 0, 2, 3, 3, 0, 1]
    assert greedy_emissions(path) == [None, 2, None, None, 2, 3, None, None, 1]
    lp = np.log(np.eye(4)[path] * 0.9 + 0.025)                          # a path whose argmax is ``path``
    assert [e for e in greedy_emissions(path) if e is not None] == greedy(lp)


def test_speech_view_labels_the_steps_where_the_greedy_path_emits(models):
    pytest.importorskip("soundfile", reason="the speech task needs the speech extra")
    from lstmkit.tasks.speech import Speech
    from lstmkit.tasks.speech.data import pad, read_utterances

    model, data = models("speech")                                     # bidirectional CTC, stack 2, 10 ms hop
    v = view(model, data, max_sequences=2)
    check_shapes(v)
    assert v.sequences == 2 and set(v.payload["meta"]["layers"]) == {"l0", "l0_reverse"}
    task = Speech.load(model)
    features = task.front(read_utterances(data, task.config.data).sources[0])
    s = v.payload["sequences"][0]
    assert len(s["tokens"]) == -(-len(features) // 2)                   # one step per 2 stacked frames
    spelled = "".join(t for t in s["tokens"] if t != "\u00b7").replace("\u2423", " ")
    assert spelled == task.transcribe(data, decoder="greedy")[0]
    assert s["notes"][0].startswith("frames 1-2 (0.00-0.02 s); best ")
    assert s["output"].endswith("; reference a")
    blank = s["series"]["lines"]["p(blank)"]
    assert len(blank) == len(s["tokens"])
    assert all(p <= 0.5 + 1e-6 for p, t in zip(blank, s["tokens"]) if t != "\u00b7")  # a char beat blank there
    net = task.net.eval()
    x, lengths = pad([features])
    with torch.no_grad():
        out, _ = net.lstm(x.reshape(1, -1, 2 * x.shape[2]), lengths=(lengths + 1) // 2)
    torch.testing.assert_close(torch.tensor(s["traces"]["l0"]["h"]), out[0, :, :8], atol=1e-4, rtol=0)


def test_speech_words_view_shows_the_running_word_probability():
    from lstmkit.tasks.speech import Speech
    from lstmkit.tasks.speech.config import SpeechConfig, SpeechDataConfig, SpeechModelConfig

    rng = np.random.default_rng(0)
    sizes = rng.integers(6, 11, 10)
    items = [rng.normal(s, 1.0, (int(n), 5)).astype(np.float32) for s, n in zip([1.0, -1.0] * 5, sizes)]
    labels = ["up", "down"] * 5
    mc = SpeechModelConfig(mode="words", hidden_size=6, num_layers=1, bidirectional=False, stack=1)
    task = Speech(SpeechConfig(model=mc, data=SpeechDataConfig(batch_size=4, cmvn="none")),
                  Speech.default_train(max_epochs=1, progress=False)).fit((items, labels))
    v = view(task, (items[:3], labels[:3]))
    check_shapes(v)
    s = v.payload["sequences"][1]
    assert s["tokens"] == [str(t) for t in range(1, len(items[1]) + 1)]
    proba = task.predict((items[1:2], labels[1:2]))
    word = proba["prediction"][0]
    assert s["output"].startswith(word) and s["output"].endswith("; reference down")
    (name, running), = s["series"]["lines"].items()
    assert name == f"p({word}) if it ended here"
    assert running[-1] == pytest.approx(float(proba[f"p_{word}"][0]), abs=1e-4)  # mean pooling over all steps
    assert s["notes"][0].startswith("frame 1; p(")


# ---------------------------------------------------------------------- the command line
def test_cli_writes_the_page(models, tmp_path, capsys):
    model, data = models("tag")
    out = tmp_path / "report.html"
    assert main(["inspect", str(model), "--data", str(data), "--out", str(out), "--max-sequences", "2"]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!doctype html>") and 'id="lk-data"' in text
    assert "2 sequence(s)" in capsys.readouterr().out


def _one_line_error(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("lstmkit: error: ") and "Traceback" not in err
    return err


def test_cli_errors_are_one_line(models, tmp_path, capsys):
    model, data = models("classify")
    out = str(tmp_path / "r.html")
    err = _one_line_error(capsys, ["inspect", str(tmp_path / "nope"), "--data", str(data), "--out", out])
    assert "does not exist" in err
    err = _one_line_error(capsys, ["inspect", str(model), "--data", str(tmp_path / "none.csv"), "--out", out])
    assert "none.csv' does not exist" in err
    odd = tmp_path / "odd"
    shutil.copytree(model, odd)
    config = json.loads((odd / "config.json").read_text())
    config["task"] = "telepathy"
    (odd / "config.json").write_text(json.dumps(config))
    err = _one_line_error(capsys, ["inspect", str(odd), "--data", str(data), "--out", out])
    assert "unknown task 'telepathy'" in err
    series = tmp_path / "series.csv"
    series.write_text("unique_id,ds,y\na,0,1.0\na,1,2.0\n", encoding="utf-8")
    _one_line_error(capsys, ["inspect", str(model), "--data", str(series), "--out", out])  # no text column
    err = _one_line_error(capsys, ["inspect", str(model), "--data", str(data), "--out", out, "--max-steps", "0"])
    assert "max_steps" in err
    assert not (tmp_path / "r.html").exists()


def test_cli_serve_prints_a_localhost_url_and_stops_on_ctrl_c(models, tmp_path, capsys, monkeypatch):
    from http.server import ThreadingHTTPServer

    seen = {}

    def serve_forever(self, poll_interval=0.5):
        seen["address"] = self.server_address
        raise KeyboardInterrupt  # what Ctrl-C does to a serving command

    monkeypatch.setattr(ThreadingHTTPServer, "serve_forever", serve_forever)
    model, data = models("tag")
    out = tmp_path / "served.html"
    assert main(["inspect", str(model), "--data", str(data), "--out", str(out), "--serve"]) == 130
    captured = capsys.readouterr()
    assert seen["address"][0] == "127.0.0.1"
    assert f"serving http://127.0.0.1:{seen['address'][1]}/" in captured.out
    assert captured.err.strip() == "lstmkit: interrupted"
    assert out.is_file()
