"""Resume is bit-identical for every task with ``--resume``, through the real command line.

For each task a tiny ``fit`` runs three times in fresh interpreters: once
uninterrupted; once killed with SIGKILL in the middle of an epoch after a
checkpoint exists (see ``kill_after_checkpoint.py``); once resumed from that
run with ``--resume last``. Every tensor of the resumed model must equal the
uninterrupted one exactly (``torch.equal``), which needs the task's own data
loader (bucket batch sampler, a shuffling ``DataLoader`` with its own
generator) to replay the same batches.

All three processes run with one CPU thread: the guarantee is for the same
thread count (a different one may change the last bits of a sum, which is
why an earlier version of this test, whose killed run alone used one thread,
failed for tag and translate while their resume was exact).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

HERE = Path(__file__).resolve().parent
EPOCHS = 4

from tiny_tasks import RESUMABLE  # noqa: E402

ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _cli(cwd: Path, *args: str, kill_after: int | None = None) -> subprocess.CompletedProcess:
    head = [sys.executable, "-m", "lstmkit.cli"] if kill_after is None else \
        [sys.executable, str(HERE / "kill_after_checkpoint.py"), str(kill_after)]
    return subprocess.run([*head, *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, **ONE_THREAD})


def _weights(model_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(str(model_dir / "model.safetensors"))


@pytest.mark.parametrize("task", sorted(RESUMABLE))
def test_sigkill_then_resume_last_matches_uninterrupted(task, tmp_path):
    args = RESUMABLE[task](tmp_path) + ["--epochs", str(EPOCHS), "--no-progress", "--seed", "3"]
    done = _cli(tmp_path, *args, "--out", "reference", "--run-dir", "run_reference")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "deprecated" not in done.stderr, done.stderr[-3000:]  # tiny_tasks speaks the current CLI

    killed = _cli(tmp_path, *args, "--out", "resumed", "--run-dir", "run_resumed", kill_after=2)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    # one checkpoint folder per member and stage (forecast: an ensemble, calibration then refit)
    assert any((tmp_path / "run_resumed").rglob("last.ckpt"))
    assert not (tmp_path / "resumed").exists()

    resumed = _cli(tmp_path, *args, "--out", "resumed", "--run-dir", "run_resumed", "--resume", "last")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "thread" not in resumed.stderr  # no ResumeWarning: the thread counts match
    reference, again = _weights(tmp_path / "reference"), _weights(tmp_path / "resumed")
    assert reference.keys() == again.keys()
    differ = sorted(name for name in reference if not torch.equal(reference[name], again[name]))
    assert not differ, f"{task}: tensors differ after resume: {differ}"


def test_bucket_sampler_honours_set_epoch_called_after_the_iterator_exists():
    """Lightning creates the epoch's iterator, then calls ``set_epoch``: the order must follow it."""
    from torch.utils.data import DataLoader

    from lstmkit.text import BucketBatchSampler

    lengths = [1 + (7 * i) % 11 for i in range(40)]

    def epoch_order(epoch: int) -> list[list[int]]:
        sampler = BucketBatchSampler(lengths, 4, bucket_factor=2, seed=5)
        sampler.set_epoch(epoch)
        return list(sampler)

    assert epoch_order(0) != epoch_order(1)  # the test means something: epochs differ
    sampler = BucketBatchSampler(lengths, 4, bucket_factor=2, seed=5)  # a fresh one, as after a resume
    loader = DataLoader(range(40), batch_sampler=sampler, collate_fn=list)
    iterator = iter(loader)
    sampler.set_epoch(1)
    assert list(iterator) == epoch_order(1)
    assert list(loader) == epoch_order(2)  # then it advances by itself
