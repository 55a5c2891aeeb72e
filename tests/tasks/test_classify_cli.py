"""``lstmkit classify fit | predict | evaluate`` end to end in a subprocess, and its error messages."""

import csv
import json

import pytest

from lstmkit.testing import run_cli as run
from lstmkit.testing import run_cli_in_process as run_in_process

TEXTS = ["a great film", "great acting and a fine story", "fine and great", "i loved it",
         "a bad film", "awful acting and a dull story", "dull and bad", "i hated it"]
LABELS = ["pos"] * 4 + ["neg"] * 4


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("classify_cli")
    with open(d / "train.tsv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter="\t")
        w.writerow(["review", "sentiment"])
        for t, lab in zip(TEXTS * 2, LABELS * 2):
            w.writerow([t, lab])
    (d / "new.tsv").write_text("review\ngreat great film\nawful dull film\n", encoding="utf-8")
    (d / "test.tsv").write_text("review\tsentiment\ngreat film\tpos\ndull film\tneg\n", encoding="utf-8")
    (d / "cfg.yaml").write_text("data:\n  text_col: review\n  label_col: sentiment\n"
                                "model:\n  hidden_size: 8\n  embed_size: 8\n"
                                "train:\n  max_epochs: 3\n  progress: false\n")
    return d


def test_fit_predict_evaluate(workdir, capsys, monkeypatch):
    r = run("classify", "fit", "--config", "cfg.yaml", "--data", "train.tsv", "--out", "model",
            "--pooling", "attention", "--metrics-out", "fit.json", cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert "tfidf" in r.stdout and "majority" in r.stdout and "lstm" in r.stdout
    metrics = json.loads((workdir / "fit.json").read_text())
    assert set(metrics) >= {"lstm", "tfidf", "majority"}
    assert (workdir / "model" / "config.json").is_file()

    r = run_in_process("classify", "predict", "--model", "model", "--data", "new.tsv", "--text-col", "review",
            "--out", "pred.csv", "--attention", cwd=workdir, capsys=capsys, monkeypatch=monkeypatch)
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(open(workdir / "pred.csv", encoding="utf-8")))
    assert [row["review"] for row in rows] == ["great great film", "awful dull film"]
    for row in rows:
        assert row["prediction"] in ("pos", "neg")
        assert abs(float(row["p_neg"]) + float(row["p_pos"]) - 1) < 1e-4
        assert len(json.loads(row["attention"])) == len(json.loads(row["tokens"])) == 3

    r = run_in_process("classify", "evaluate", "--model", "model", "--data", "test.tsv", "--text-col", "review",
            "--label-col", "sentiment", "--train-data", "train.tsv", "--metrics-out", "ev.json", cwd=workdir, capsys=capsys, monkeypatch=monkeypatch)
    assert r.returncode == 0, r.stderr
    ev = json.loads((workdir / "ev.json").read_text())
    assert 0 <= ev["lstm"]["accuracy"] <= 1 and "macro_f1" in ev["tfidf"]

    # bad input: unseen label, missing column; nothing written
    (workdir / "odd.tsv").write_text("review\tsentiment\ngood\tpos\nmeh\tneutral\n", encoding="utf-8")
    r = run_in_process("classify", "evaluate", "--model", "model", "--data", "odd.tsv", "--text-col", "review",
            "--label-col", "sentiment", "--metrics-out", "odd.json", cwd=workdir, capsys=capsys, monkeypatch=monkeypatch)
    assert r.returncode == 2
    assert "odd.tsv:3: label 'neutral' was not seen in training" in r.stderr
    assert not (workdir / "odd.json").exists()
    # the model remembers its columns (review); another name must exist in the file
    r = run_in_process("classify", "predict", "--model", "model", "--data", "new.tsv", "--text-col", "text",
                       "--out", "p2.csv", cwd=workdir, capsys=capsys, monkeypatch=monkeypatch)
    assert r.returncode == 2 and "new.tsv:1: no column 'text' in the header" in r.stderr
    assert not (workdir / "p2.csv").exists()
    r = run_in_process("classify", "predict", "--model", "nowhere", "--data", "new.tsv", "--out", "p3.csv", cwd=workdir, capsys=capsys, monkeypatch=monkeypatch)
    assert r.returncode == 2 and "nowhere" in r.stderr


def test_fit_with_pretrained_vectors(workdir, capsys, monkeypatch):
    (workdir / "vec.txt").write_text("2 8\ngreat " + " ".join(["0.5"] * 8) + "\ndull " + " ".join(["-1"] * 8)
                                     + "\n", encoding="utf-8")
    r = run_in_process("classify", "fit", "--config", "cfg.yaml", "--data", "train.tsv", "--out", "vmodel",
                       "--vectors", "vec.txt", "--no-baselines", "--metrics-out", "vfit.json", cwd=workdir,
                       capsys=capsys, monkeypatch=monkeypatch)
    assert r.returncode == 0, r.stderr
    assert "vectors: 2 of" in r.stdout
    assert json.loads((workdir / "vfit.json").read_text())["vectors"]["found"] == 2
    r = run_in_process("classify", "fit", "--config", "cfg.yaml", "--data", "train.tsv", "--out", "bad",
                       "--vectors", "vec.txt", "--embed-size", "16", "--no-baselines", cwd=workdir,
                       capsys=capsys, monkeypatch=monkeypatch)
    assert r.returncode == 2 and "vectors have 8 dimensions but the embedding has 16" in r.stderr
    assert not (workdir / "bad").exists()


def test_every_knob_is_a_flag_and_old_spellings_still_work(workdir, capsys, monkeypatch):
    """--word-dropout style knobs (embed dropout, subword n-gram range, max tokens, monitor) reach the run."""
    r = run_in_process("classify", "fit", "--config", "cfg.yaml", "--data", "train.tsv", "--out", "x",
                       "--embed-dropout", "0.2", "--subword-buckets", "64", "--subword-min-n", "3",
                       "--subword-max-n", "5", "--max-tokens", "50", "--monitor", "val_acc",
                       "--monitor-mode", "max", "--hidden", "6", "--print-config", cwd=workdir,
                       capsys=capsys, monkeypatch=monkeypatch)
    assert r.returncode == 0, r.stderr
    import yaml

    run = yaml.safe_load(r.stdout)
    assert run["model"]["embed_dropout"] == 0.2 and run["model"]["hidden_size"] == 6
    assert (run["model"]["subword_min_n"], run["model"]["subword_max_n"]) == (3, 5)
    assert run["data"]["max_tokens"] == 50 and run["data"]["text_col"] == "review"
    assert run["train"]["monitor"] == "val_acc" and run["train"]["monitor_mode"] == "max"
    assert "--hidden is deprecated" in r.stderr and "--hidden-size" in r.stderr
    assert not (workdir / "x").exists()
