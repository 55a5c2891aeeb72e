"""Resume is bit-identical for every task with ``--resume``, through the real command line.

For each task a tiny ``fit`` runs three times in fresh interpreters: once
uninterrupted; once killed with SIGKILL in the middle of an epoch after a
checkpoint exists (see ``kill_after_checkpoint.py``); once resumed from that
run with ``--resume last``. Every tensor of the resumed model must equal the
uninterrupted one exactly (``torch.equal``), which needs the task's own data
loader (bucket batch sampler, shuffling) to replay the same batches.
"""

from __future__ import annotations

import csv
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

HERE = Path(__file__).resolve().parent
EPOCHS = 4

TEXTS = ["a great film", "great acting and a fine story", "fine and great", "i loved it so much",
         "a bad film", "awful acting and a dull story", "dull and bad", "i hated it", "great", "bad bad"]
LABELS = ["pos"] * 4 + ["neg"] * 4 + ["pos", "neg"]
SENTS = [
    (["Ali", "Ankara", "'ya", "gitti", "."], ["B-PER", "B-LOC", "I-LOC", "O", "O"]),
    (["bugün", "Ali", "geldi"], ["O", "B-PER", "O"]),
    (["Mehmet", "Yılmaz", "Bursa", "'ya", "döndü", "dün"], ["B-PER", "I-PER", "B-LOC", "I-LOC", "O", "O"]),
    (["Ayşe", "geldi"], ["B-PER", "O"]),
] * 4
EN = ["the house is red", "the dog is big", "a red dog", "the big house", "a dog", "the red house is big"] * 3
ES = ["la casa es roja", "el perro es grande", "un perro rojo", "la casa grande", "un perro",
      "la casa roja es grande"] * 3
TEXT = "In the beginning God created the heavens and the earth.\nThe earth was formless and empty.\n" * 4


def _classify(d: Path) -> list[str]:
    with open(d / "train.tsv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter="\t")
        w.writerow(["text", "label"])
        for t, lab in zip(TEXTS * 3, LABELS * 3):
            w.writerow([t, lab])
    return ["classify", "fit", "--data", "train.tsv", "--hidden", "8", "--embed-dim", "8",
            "--batch-size", "4", "--no-baseline", "--dropout", "0.2"]


def _tag(d: Path) -> list[str]:
    lines = []
    for toks, tags in SENTS:
        lines += [f"{w} {t}" for w, t in zip(toks, tags)] + [""]
    (d / "train.conll").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ["tag", "fit", "--data", "train.conll", "--hidden", "8", "--word-dim", "8", "--char-dim", "4",
            "--char-hidden", "4", "--batch-size", "3", "--no-baselines"]


def _translate(d: Path) -> list[str]:
    (d / "train.en").write_text("\n".join(EN) + "\n", encoding="utf-8")
    (d / "train.es").write_text("\n".join(ES) + "\n", encoding="utf-8")
    return ["translate", "fit", "--source", "train.en", "--target", "train.es", "--hidden-size", "8",
            "--embed-size", "8", "--min-freq", "1", "--batch-size", "4"]


def _generate(d: Path) -> list[str]:
    (d / "train.txt").write_text(TEXT, encoding="utf-8")
    return ["generate", "fit", "--train", "train.txt", "--val", "train.txt", "--hidden-size", "8",
            "--embed-size", "8", "--num-layers", "1", "--batch-size", "4", "--bptt", "8"]


TASKS = {"classify": _classify, "tag": _tag, "translate": _translate, "generate": _generate}


def _cli(cwd: Path, *args: str, kill_after: int | None = None) -> subprocess.CompletedProcess:
    head = [sys.executable, "-m", "lstmkit.cli"] if kill_after is None else \
        [sys.executable, str(HERE / "kill_after_checkpoint.py"), str(kill_after)]
    return subprocess.run([*head, *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def _weights(model_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(str(model_dir / "model.safetensors"))


@pytest.mark.parametrize("task", sorted(TASKS))
def test_sigkill_then_resume_last_matches_uninterrupted(task, tmp_path):
    args = TASKS[task](tmp_path) + ["--epochs", str(EPOCHS), "--no-progress", "--seed", "3"]
    done = _cli(tmp_path, *args, "--out", "reference", "--run-dir", "run_reference")
    assert done.returncode == 0, done.stderr[-3000:]

    killed = _cli(tmp_path, *args, "--out", "resumed", "--run-dir", "run_resumed", kill_after=2)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert (tmp_path / "run_resumed" / "checkpoints" / "last.ckpt").is_file()
    assert not (tmp_path / "resumed").exists()

    resumed = _cli(tmp_path, *args, "--out", "resumed", "--run-dir", "run_resumed", "--resume", "last")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    reference, again = _weights(tmp_path / "reference"), _weights(tmp_path / "resumed")
    assert reference.keys() == again.keys()
    differ = sorted(name for name in reference if not torch.equal(reference[name], again[name]))
    assert not differ, f"{task}: tensors differ after resume: {differ}"
