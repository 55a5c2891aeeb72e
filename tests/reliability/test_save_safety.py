"""``--out`` never deletes what lstmkit does not own; replacing a model is crash-safe and exclusive.

Covers: ownership of the output directory (refused before any training),
every output path checked up front (``--out .``, a file for a folder, a
folder for a file), a crash at any instant of a replace, concurrent saves to
one path, two fits in one run directory, and stale temporaries of killed runs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from tiny_tasks import TASKS
from train_helpers import fresh_model, make_data

from lstmkit.cli import main
from lstmkit.io import BusyError, atomic_write_text
from lstmkit.train import TrainConfig, fit, load_model, save_model

HERE = Path(__file__).resolve().parent


def _save(path: Path, value: float) -> Path:
    return save_model(path, task="t", config={"value": value}, state_dict={"w": torch.full((4,), value)})


def _value(path: Path) -> float:
    return float(load_model(path).state_dict["w"][0])


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _child(*args: str, **kw) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE.parents[1] / "src"), str(HERE.parent / "train"),
                                                          os.environ.get("PYTHONPATH", "")]))
    return subprocess.Popen([sys.executable, str(HERE / "save_child.py"), *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _one_line_error(capsys, argv: list[str]) -> str:
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("lstmkit: error:") and err.count("\n") == 1, err
    return err


# --------------------------------------------------------------------------- ownership
def test_fit_refuses_a_project_folder_with_a_config_json_before_training(tmp_path, capsys):
    project = tmp_path / "proj"
    (project / "src").mkdir(parents=True)
    (project / "src" / "main.py").write_text("print('precious')\n")
    (project / "config.json").write_text("{}")
    started = time.monotonic()
    err = _one_line_error(capsys, TASKS["classify"](tmp_path) + ["--epochs", "1", "--out", str(project)])
    assert "not an lstmkit saved model" in err
    assert (project / "src" / "main.py").read_text() == "print('precious')\n"
    assert time.monotonic() - started < 20  # refused up front, not after a fit


@pytest.mark.parametrize("content", [
    {"format_version": True, "task": "t"},  # a bool is not a format version
    {"format_version": 1},  # no task
    "not json",
])
def test_save_model_replaces_only_complete_saved_models(tmp_path, content):
    target = _save(tmp_path / "m", 1.0)
    text = content if isinstance(content, str) else json.dumps(content)
    (target / "config.json").write_text(text)
    with pytest.raises(ValueError, match="not an lstmkit saved model"):
        _save(target, 2.0)
    assert (target / "config.json").read_text() == text


def test_save_model_refuses_a_saved_model_with_extra_files(tmp_path):
    target = _save(tmp_path / "m", 1.0)
    (target / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="also holds 'notes.txt'"):
        _save(target, 2.0)
    assert (target / "notes.txt").read_text() == "mine" and _value(target) == 1.0


def test_save_model_replaces_a_saved_model_and_an_empty_directory(tmp_path):
    assert _value(_save(_save(tmp_path / "m", 1.0), 2.0)) == 2.0
    (tmp_path / "empty").mkdir()
    assert _value(_save(tmp_path / "empty", 3.0)) == 3.0
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("case", ["dot", "file_out", "dir_metrics", "parent_is_file"])
def test_fit_checks_every_output_path_before_training(case, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = TASKS["classify"](tmp_path) + ["--epochs", "1"]
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir").mkdir()
    extra = {"dot": ["--out", "."], "file_out": ["--out", "afile"],
             "dir_metrics": ["--out", "model", "--metrics-out", "adir"],
             "parent_is_file": ["--out", "afile/model"]}[case]
    before = sorted(p.name for p in tmp_path.iterdir())
    _one_line_error(capsys, args + extra)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written, nothing removed


# --------------------------------------------------------------------------- crash safety
@pytest.mark.parametrize("exchange", ["--exchange", "--no-exchange"])
@pytest.mark.parametrize("die_at", [1, 2])
def test_a_crash_during_replace_never_loses_the_model(tmp_path, exchange, die_at):
    target = _save(tmp_path / "m", 1.0)
    child = _child("save", str(target), "2.0", exchange, "--die-at-rename", str(die_at))
    child.communicate(timeout=120)
    # whatever instant the crash hit, the path yields the old model or the new one
    assert _value(target) in (1.0, 2.0)
    _save(target, 3.0)  # and the next save cleans up after the crash
    assert _value(target) == 3.0
    assert _leftovers(tmp_path) == []


def test_replace_without_exchange_leaves_nothing_behind(tmp_path, monkeypatch):
    from lstmkit.train import model_dir

    monkeypatch.setattr(model_dir, "EXCHANGE_AVAILABLE", False)
    assert _value(_save(_save(tmp_path / "m", 1.0), 2.0)) == 2.0
    assert _leftovers(tmp_path) == []


# --------------------------------------------------------------------------- concurrency
def test_concurrent_saves_to_one_path_one_wins_the_other_fails_cleanly(tmp_path):
    target = tmp_path / "m"
    holder = _child("save", str(target), "7.0", "--hold", "3")
    assert holder.stdout.readline().strip() == "locked"
    with pytest.raises(BusyError, match="in use by another lstmkit process") as info:
        _save(target, 8.0)
    assert "\n" not in str(info.value)
    assert holder.wait(timeout=120) == 0, holder.stderr.read()
    assert _value(target) == 7.0
    assert _leftovers(tmp_path) == []


def test_second_fit_into_one_run_dir_is_refused_and_a_killed_lock_is_taken_over(tmp_path):
    run_dir = tmp_path / "run"
    holder = _child("fit", str(run_dir))
    deadline = time.monotonic() + 120
    while not (run_dir / ".lock").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    train, val = make_data()
    config = TrainConfig(max_epochs=1, progress=False, run_dir=str(run_dir), resume="last")
    with pytest.raises(BusyError, match="run directory .* is in use"):
        fit(fresh_model(), train, val, config)
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=60)
    assert (run_dir / ".lock").exists()  # left behind by the killed fit ...
    fit(fresh_model(), train, val, config)  # ... and taken over
    assert not (run_dir / ".lock").exists()


# --------------------------------------------------------------------------- stale temporaries
def test_stale_temporaries_of_killed_runs_are_removed(tmp_path):
    dead = 2 ** 22 + 12345  # above the default pid_max: no such process
    run_dir = tmp_path / "run"
    (run_dir / "checkpoints").mkdir(parents=True)
    stale = [run_dir / "checkpoints" / ".last.ckpt.k3j2h1.tmp", run_dir / "checkpoints" / f".last.ckpt.{dead}-0badc0de.tmp"]
    for path in stale:
        path.write_bytes(b"half a checkpoint")
    train, val = make_data()
    fit(fresh_model(), train, val, TrainConfig(max_epochs=1, progress=False, run_dir=str(run_dir)))
    assert not any(p.exists() for p in stale)

    (tmp_path / f".m.{dead}-0badc0de.tmp").mkdir()  # a model directory half-written by a dead process
    (tmp_path / f".out.txt.{dead}-0badc0de.tmp").write_text("half")
    _save(tmp_path / "m", 1.0)
    atomic_write_text(tmp_path / "out.txt", "whole")
    assert _leftovers(tmp_path) == []
