"""``lstmkit translate fit | translate | evaluate`` end to end on tiny data.

The happy path runs in subprocesses; the error messages are checked through
``lstmkit.cli.main`` in-process (same code path, no start-up cost).
"""

import subprocess
import sys

from lstmkit.cli import main

EN = ["the house is red", "the dog is big", "a red dog", "the big house"] * 3
ES = ["la casa es roja", "el perro es grande", "un perro rojo", "la casa grande"] * 3


def _run(*args):
    return subprocess.run([sys.executable, "-m", "lstmkit.cli", "translate", *args],
                          capture_output=True, text=True, timeout=300, check=False)


def test_translate_cli_end_to_end(tmp_path, capsys):
    src, tgt, tsv = tmp_path / "train.en", tmp_path / "train.es", tmp_path / "pairs.tsv"
    src.write_text("\n".join(EN) + "\n", encoding="utf-8")
    tgt.write_text("\n".join(ES) + "\n", encoding="utf-8")
    tsv.write_text("".join(f"{a}\t{b}\n" for a, b in zip(EN[:4], ES[:4])), encoding="utf-8")
    model = tmp_path / "model"
    fit = _run("fit", "--source", str(src), "--target", str(tgt), "--val-pairs", str(tsv), "--out", str(model),
               "--epochs", "3", "--hidden-size", "16", "--embed-size", "8", "--min-freq", "1",
               "--attention", "general", "--no-progress")
    assert fit.returncode == 0, fit.stderr
    assert "val_loss" in fit.stdout

    out = tmp_path / "out.es"
    tr = _run("translate", str(model), "--input", str(src), "--output", str(out), "--beam", "3", "--max-length", "8")
    assert tr.returncode == 0, tr.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) == len(EN)

    png = tmp_path / "att.png"
    ev = _run("evaluate", str(model), "--pairs", str(tsv), "--beam", "2", "--max-length", "8",
              "--heatmap", str(png), "--heatmap-line", "2")
    assert ev.returncode == 0, ev.stderr
    assert "bleu" in ev.stdout and "copy source" in ev.stdout

    short = tmp_path / "short.es"
    short.write_text("la casa\n", encoding="utf-8")
    assert main(["translate", "fit", "--source", str(src), "--target", str(short), "--out", str(tmp_path / "never")]) == 2
    assert "expected the same number of lines, received 12" in capsys.readouterr().err
    empty = tmp_path / "empty.en"
    empty.write_text("", encoding="utf-8")
    assert main(["translate", "translate", str(model), "--input", str(empty), "--output", str(tmp_path / "none.es")]) == 2
    assert "the file is empty" in capsys.readouterr().err
    assert not (tmp_path / "none.es").exists() and not (tmp_path / "never").exists()
