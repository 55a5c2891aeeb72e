"""No code runs from a checkpoint, and a bad ``--resume`` file is one line, not a traceback.

The attack (issue 10): a ``--resume`` checkpoint that passes torch's safe
loader but whose checkpoint-callback state points ``best_model_path`` at a
pickle; the engine used to reload that file with ``weights_only=False`` when
it restored the best weights, running the pickle's code.
"""

from __future__ import annotations

import builtins
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from tiny_tasks import TASKS
from train_helpers import fresh_model, make_data

from lstmkit.train import TrainConfig, fit
from lstmkit.train.checkpoint import CheckpointError

SRC = Path(__file__).resolve().parents[2] / "src"


class Payload:
    """Unpickling it writes ``marker``: the stand-in for arbitrary code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return builtins.exec, (f"open({str(self.marker)!r}, 'w').write('code ran')",)


def _config(run_dir: Path, **changes) -> TrainConfig:
    return TrainConfig(max_epochs=2, lr=1e-2, progress=False, run_dir=str(run_dir)).replace(**changes)


def _craft(source: Path, out: Path, run_dir: Path, evil: Path) -> Path:
    """A copy of checkpoint ``source`` whose ModelCheckpoint state claims ``run_dir``'s folder
    and names ``evil`` as the best checkpoint (with an unbeatable score)."""
    state = torch.load(source, weights_only=True)
    folder = str((run_dir / "checkpoints").resolve())
    keys = [k for k in state["callbacks"] if k.startswith("ModelCheckpoint")]
    assert keys, "the source checkpoint has no ModelCheckpoint state to tamper with"
    for key in keys:
        cb = state["callbacks"][key]
        cb.update(dirpath=folder, best_model_path=str(evil), best_model_score=torch.tensor(-1e30),
                  best_k_models={str(evil): torch.tensor(-1e30)}, kth_best_model_path=str(evil))
    torch.save(state, out)
    torch.load(out, weights_only=True)  # it passes torch's (and Lightning's) safe loader
    return out


@pytest.fixture(scope="module")
def source_checkpoint(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("source_run")
    train, val = make_data()
    fit(fresh_model(), train, val, _config(run))
    return run / "checkpoints" / "last.ckpt"


@pytest.mark.parametrize("where", ["outside", "inside"])
def test_malicious_best_checkpoint_never_runs(where, source_checkpoint, tmp_path):
    marker = tmp_path / "PWNED"
    run_dir = tmp_path / "run"
    folder = run_dir / "checkpoints"
    folder.mkdir(parents=True)
    # outside: anywhere on disk; inside: dropped into this run's own checkpoint folder
    evil = (tmp_path / "evil.ckpt") if where == "outside" else (folder / "evil.ckpt")
    torch.save({"state_dict": Payload(marker)}, evil)
    crafted = _craft(source_checkpoint, tmp_path / "crafted.ckpt", run_dir, evil)
    train, val = make_data()
    with pytest.raises(CheckpointError) as info:
        fit(fresh_model(), train, val, _config(run_dir, max_epochs=3, resume=str(crafted)))
    assert not marker.exists(), "code in a checkpoint ran"
    assert "\n" not in str(info.value)


def test_no_unsafe_torch_load_in_the_package():
    offenders = []
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path}:{m.start()}" for m in re.finditer(r"weights_only\s*=\s*False", text)]
        offenders += [f"{path}: pickle.load" for _ in re.finditer(r"\bpickle\.loads?\(", text)]
    assert not offenders


def _garbage(path: Path) -> None:
    path.write_bytes(b"\x80\x04not a pickle at all" * 10)


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _not_a_checkpoint(path: Path) -> None:
    torch.save({"weights": torch.ones(2)}, path)


def _other_model(path: Path) -> None:
    state = torch.load(path.parent / "source.ckpt", weights_only=True)
    state["state_dict"] = {k: torch.zeros(*v.shape, 2) for k, v in state["state_dict"].items()}
    torch.save(state, path)


BAD = {"garbage": _garbage, "empty": _empty, "not_a_checkpoint": _not_a_checkpoint, "other_model": _other_model}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_resume_file_is_one_checkpoint_error(kind, source_checkpoint, tmp_path):
    (tmp_path / "source.ckpt").write_bytes(source_checkpoint.read_bytes())
    bad = tmp_path / "bad.ckpt"
    BAD[kind](bad)
    train, val = make_data()
    with pytest.raises(CheckpointError) as info:
        fit(fresh_model(), train, val, _config(tmp_path / "run", resume=str(bad)))
    assert "\n" not in str(info.value) and "bad.ckpt" in str(info.value)


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lstmkit.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, check=False)


def test_cli_fit_resume_refuses_malicious_and_garbage_checkpoints(tmp_path):
    args = TASKS["classify"](tmp_path) + ["--epochs", "1", "--no-progress"]
    first = _cli(tmp_path, *args, "--out", "m1", "--run-dir", "run1")
    assert first.returncode == 0, first.stderr[-2000:]
    marker = tmp_path / "PWNED"
    evil = tmp_path / "evil.ckpt"
    torch.save({"state_dict": Payload(marker)}, evil)
    crafted = _craft(tmp_path / "run1" / "checkpoints" / "last.ckpt", tmp_path / "crafted.ckpt",
                     tmp_path / "run2", evil)
    hostile = _cli(tmp_path, *args, "--epochs", "2", "--out", "m2", "--run-dir", "run2", "--resume", str(crafted))
    assert not marker.exists(), "code in a checkpoint ran"
    assert hostile.returncode == 2, hostile.stderr[-2000:]
    assert hostile.stderr.count("\n") == 1 and hostile.stderr.startswith("lstmkit: error:")

    _garbage(tmp_path / "junk.ckpt")
    junk = _cli(tmp_path, *args, "--out", "m3", "--run-dir", "run3", "--resume", "junk.ckpt")
    assert junk.returncode == 2 and junk.stderr.count("\n") == 1, junk.stderr[-2000:]
    assert "junk.ckpt" in junk.stderr and "Traceback" not in junk.stderr
