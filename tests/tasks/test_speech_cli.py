"""``lstmkit speech fit | transcribe | evaluate`` on tiny tone 'speech', and its one-line errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("soundfile", reason="the speech tests need the speech extra: pip install 'lstmkit[speech]'")
pytest.importorskip("lightning", reason="training needs the train extra")
import soundfile  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))  # the shared tone corpus beside this file
from speech_fixtures import TEXTS, write_corpus  # noqa: E402

from lstmkit.cli import main  # noqa: E402

FAST = ["--hidden-size", "8", "--num-layers", "1", "--epochs", "1", "--no-progress", "--warmup-steps", "0",
        "--batch-size", "4"]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    root = tmp_path_factory.mktemp("speech-cli")
    train = write_corpus(root)
    out = root / "asr"
    assert main(["speech", "fit", "--data", str(train), "--out", str(out), "--no-bidirectional",
                 "--cmvn", "global", *FAST]) == 0
    return root, out


def test_fit_writes_a_model_directory(model):
    root, out = model
    assert (out / "config.json").is_file() and (out / "run.yaml").is_file()
    header = json.loads((out / "config.json").read_text())
    assert header["config"]["model"]["bidirectional"] is False and header["config"]["train"]["max_epochs"] == 1


def test_transcribe_files_folders_and_streams(model, tmp_path, capsys):
    root, out = model
    wav = root / "wav" / "train-0.wav"
    capsys.readouterr()
    assert main(["speech", "transcribe", "--model", str(out), str(wav), str(root / "wav"),
                 "--out", str(tmp_path / "t.csv")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    frame = pd.read_csv(tmp_path / "t.csv", keep_default_na=False)
    assert len(frame) == 1 + len(TEXTS) * 2 and list(frame.columns) == ["id", "prediction"]
    assert lines[0].startswith("train-0.wav\t")
    assert main(["speech", "transcribe", "--model", str(out), str(wav), "--stream", "--chunk-ms", "100"]) == 0
    captured = capsys.readouterr()
    assert captured.err.count("train-0.wav") >= 3                   # one line per chunk
    streamed = captured.out.strip().split("\t", 1)
    assert streamed[0] == "train-0.wav" and (streamed[1:] or [""])[0] == frame["prediction"][0]


def test_evaluate_reports_the_baselines(model, tmp_path, capsys):
    root, out = model
    test = write_corpus(tmp_path, TEXTS[:4], repeat=1, name="test.tsv")
    assert main(["speech", "evaluate", "--model", str(out), "--data", str(test), "--baselines", "prior",
                 "--out", str(tmp_path / "report")]) == 0
    report = json.loads((tmp_path / "report" / "metrics.json").read_text())["report"]
    assert set(report) == {"lstm", "lstm_beam", "prior"} and report["prior"]["n"] == 4
    assert "prior" in capsys.readouterr().out


def _one_line_error(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lstmkit: error:") and message in err[0], err


def test_bad_audio_and_manifests_are_one_line_errors(model, tmp_path, capsys):
    root, out = model
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    text = tmp_path / "text.wav"
    text.write_text("not audio")
    silent = tmp_path / "silent.wav"
    soundfile.write(silent, np.zeros(0, dtype=np.float32), 16000)
    low = tmp_path / "low.wav"
    soundfile.write(low, np.zeros(50, dtype=np.float32), 1000)
    for path, message in ((tmp_path / "nowhere.wav", "does not exist"), (empty, "is empty"),
                          (text, "not readable audio"), (silent, "0-length"), (low, "sample rate 1000 Hz")):
        _one_line_error(capsys, ["speech", "transcribe", "--model", str(out), str(path)], message)
    manifest = tmp_path / "bad.tsv"
    manifest.write_text("path\ttranscript\nwav/missing.wav\ta b\n", encoding="utf-8")
    _one_line_error(capsys, ["speech", "fit", "--data", str(manifest), "--out", str(tmp_path / "m"), *FAST],
                    "line 2: audio file")
    _one_line_error(capsys, ["speech", "evaluate", "--model", str(tmp_path / "no-model"), "--data",
                             str(manifest)], "no-model")
    _one_line_error(capsys, ["speech", "fit", "--data", str(manifest), "--out", str(tmp_path / "m"),
                             "--proj-size", "9", *FAST], "proj_size")
