"""``lstmkit tag fit | predict | evaluate`` end to end in a subprocess, and its error messages."""

import json

import pytest

from lstmkit.testing import run_cli as run
from lstmkit.testing import run_cli_in_process as run_in_process

SENTS = [
    (["Ali", "Ankara", "'ya", "gitti", "."], ["B-PER", "B-LOC", "I-LOC", "O", "O"]),
    (["Ayşe", "İzmir", "'de", "kaldı", "."], ["B-PER", "B-LOC", "I-LOC", "O", "O"]),
    (["bugün", "Ali", "geldi"], ["O", "B-PER", "O"]),
    (["Mehmet", "Yılmaz", "Bursa", "'ya", "döndü"], ["B-PER", "I-PER", "B-LOC", "I-LOC", "O"]),
] * 3


def conllu(sentences, with_tags=True):
    out = []
    for k, (toks, tags) in enumerate(sentences):
        out.append(f"# sent_id = {k}")
        for i, (w, t) in enumerate(zip(toks, tags), start=1):
            out.append("\t".join([str(i), w, "_", "_", t if with_tags else "_", "_", "0", "dep", "_", "_"]))
        out.append("")
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("tag_cli")
    (d / "train.conllu").write_text(conllu(SENTS), encoding="utf-8")
    (d / "new.conllu").write_text(conllu(SENTS[:2], with_tags=False), encoding="utf-8")
    (d / "test.conll").write_text("Ali B-PER\ngeldi O\n\nAyşe B-PER\nİzmir B-LOC\n'de I-LOC\n",
                                  encoding="utf-8")
    return d


def test_fit_predict_evaluate(workdir, capsys, monkeypatch):
    r = run("tag", "fit", "--data", "train.conllu", "--column", "xpos", "--out", "model", "--epochs", "2",
            "--hidden", "8", "--word-dim", "8", "--char-dim", "4", "--char-hidden", "4", "--no-progress",
            "--subword-buckets", "64",
            "--metrics-out", "fit.json", cwd=workdir)
    assert r.returncode == 0, r.stderr
    fit = json.loads((workdir / "fit.json").read_text())
    assert set(fit["models"]) == {"bilstm_crf", "most_frequent_tag", "feature_tagger"}
    assert fit["train_tokens_per_s"] > 0

    r = run_in_process("tag", "predict", "--model", "model", "--data", "new.conllu", "--column", "xpos",
            "--out", "tagged.conllu", cwd=workdir, capsys=capsys, monkeypatch=monkeypatch)
    assert r.returncode == 0, r.stderr
    lines = (workdir / "tagged.conllu").read_text(encoding="utf-8").splitlines()
    token_lines = [ln.split("\t") for ln in lines if ln and not ln.startswith("#")]
    assert len(token_lines) == len(SENTS[0][0]) + len(SENTS[1][0])
    assert all(parts[4] in {"B-PER", "I-PER", "B-LOC", "I-LOC", "O"} for parts in token_lines)
    assert lines[0] == "# sent_id = 0"

    r = run_in_process("tag", "evaluate", "--model", "model", "--data", "test.conll", "--train-data", "train.conllu",
            "--column", "xpos", "--metrics-out", "ev.json", cwd=workdir, capsys=capsys, monkeypatch=monkeypatch)
    assert r.returncode == 0, r.stderr
    ev = json.loads((workdir / "ev.json").read_text())
    assert 0 <= ev["bilstm_crf"]["span_f1"] <= 1 and "feature_tagger" in ev

    (workdir / "odd.conll").write_text("Ali B-PER\n\nAnkara B-CITY\n", encoding="utf-8")
    r = run_in_process("tag", "evaluate", "--model", "model", "--data", "odd.conll", cwd=workdir, capsys=capsys, monkeypatch=monkeypatch)
    assert r.returncode == 2 and "odd.conll:3: sentence tag 'B-CITY' was not seen in training" in r.stderr
    (workdir / "bad.conllu").write_text("1\tAli\t_\n", encoding="utf-8")
    r = run_in_process("tag", "predict", "--model", "model", "--data", "bad.conllu", "--out", "o.conllu", cwd=workdir, capsys=capsys, monkeypatch=monkeypatch)
    assert r.returncode == 2
    assert "bad.conllu:1: expected 10 tab-separated CoNLL-U columns, got 3" in r.stderr
    assert not (workdir / "o.conllu").exists()


def test_fit_members_saves_an_ensemble_that_predict_and_evaluate_load(workdir, capsys, monkeypatch):
    common = ("--column", "xpos", "--epochs", "1", "--hidden", "8", "--word-dim", "8", "--char-dim", "4",
              "--char-hidden", "4", "--no-progress", "--no-baselines")
    r = run_in_process("tag", "fit", "--data", "train.conllu", "--out", "ens", "--members", "2",
                       "--metrics-out", "ens_fit.json", *common, cwd=workdir, capsys=capsys, monkeypatch=monkeypatch)
    assert r.returncode == 0, r.stderr
    fit = json.loads((workdir / "ens_fit.json").read_text())
    assert set(fit["models"]) == {"bilstm_crf_x2", "member 0 (seed 0)", "member 1 (seed 1)"}
    saved = json.loads((workdir / "ens" / "config.json").read_text())
    assert saved["config"]["model"]["members"] == 2 and len(saved["extras"]["encoders"]) == 2
    r = run_in_process("tag", "predict", "--model", "ens", "--data", "new.conllu", "--column", "xpos",
                       "--out", "ens_tagged.conllu", cwd=workdir, capsys=capsys, monkeypatch=monkeypatch)
    assert r.returncode == 0, r.stderr
    from lstmkit.tasks.tag import load_tagger, read_conll

    tagged = read_conll(workdir / "ens_tagged.conllu", "conllu", "xpos")
    assert [s.tags for s in tagged] == load_tagger(workdir / "ens").predict([s.tokens for s in tagged])
    r = run_in_process("tag", "evaluate", "--model", "ens", "--data", "test.conll", "--metrics-out", "ens_ev.json",
                       cwd=workdir, capsys=capsys, monkeypatch=monkeypatch)
    assert r.returncode == 0, r.stderr
    assert 0 <= json.loads((workdir / "ens_ev.json").read_text())["bilstm_crf_x2"]["accuracy"] <= 1
    r = run_in_process("tag", "fit", "--data", "train.conllu", "--out", "never", "--members", "0", *common,
                       cwd=workdir, capsys=capsys, monkeypatch=monkeypatch)
    assert r.returncode == 2 and "members must be an integer >= 1, received 0" in r.stderr
    assert not (workdir / "never").exists()


def test_fit_with_a_lexicon(workdir, capsys, monkeypatch):
    (workdir / "lex.aff").write_text("SET UTF-8\nFLAG num\n\nSFX 1 N 1\nSFX 1 0 ya .\n", encoding="utf-8")
    (workdir / "lex.dic").write_text("2\nAnkara/1\nBursa/1\n", encoding="utf-8")
    common = ("--column", "xpos", "--epochs", "1", "--hidden", "8", "--word-dim", "8", "--char-dim", "4",
              "--char-hidden", "4", "--no-progress", "--no-baselines")
    r = run_in_process("tag", "fit", "--data", "train.conllu", "--out", "lexm", "--lexicon", "lex.dic",
                       "--lexicon-dim", "4", *common, cwd=workdir, capsys=capsys, monkeypatch=monkeypatch)
    assert r.returncode == 0, r.stderr
    saved = json.loads((workdir / "lexm" / "config.json").read_text())
    assert saved["config"]["model"]["lexicon"] == "lex.dic"  # as given; the encoder keeps the absolute path
    assert saved["extras"]["encoders"][0]["lexicon"] == str((workdir / "lex.dic").resolve())
    monkeypatch.chdir(workdir.parent)  # the saved model still finds its lexicon
    from lstmkit.tasks.tag import Tagger

    assert len(Tagger.load(workdir / "lexm").predict([["Ankara", "'ya"]])[0]) == 2
    monkeypatch.chdir(workdir)
    r = run_in_process("tag", "fit", "--data", "train.conllu", "--out", "nolex", "--lexicon", "missing.dic",
                       *common, cwd=workdir, capsys=capsys, monkeypatch=monkeypatch)
    assert r.returncode == 2 and "Hunspell lexicon file not found: " in r.stderr and "missing.dic" in r.stderr
    assert not (workdir / "nolex").exists()


def test_fit_with_pretrained_vectors(workdir, capsys, monkeypatch):
    (workdir / "vec.txt").write_text("ali " + " ".join(["0.5"] * 8) + "\n", encoding="utf-8")
    common = ("--column", "xpos", "--epochs", "1", "--hidden", "8", "--word-dim", "8", "--char-dim", "4",
              "--char-hidden", "4", "--no-progress", "--no-baselines")
    r = run_in_process("tag", "fit", "--data", "train.conllu", "--out", "vecm", "--vectors", "vec.txt",
                       "--metrics-out", "vec.json", *common, cwd=workdir, capsys=capsys, monkeypatch=monkeypatch)
    assert r.returncode == 0, r.stderr
    assert "vectors: 1 of" in r.stdout
    assert json.loads((workdir / "vec.json").read_text())["vectors"]["found"] == 1
