"""Data-parallel training on 2 CPU processes (DDP, gloo), then prediction in the caller."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent


def test_ddp_two_cpu_processes_then_predict(tmp_path):
    out = tmp_path / "out.pt"
    done = subprocess.run(
        [sys.executable, str(HERE / "ddp_script.py"), str(tmp_path / "run"), str(tmp_path / "model"), str(out)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result = torch.load(out, weights_only=False)
    assert result["changed"], "the caller's module did not receive the trained weights"
    # 64 samples / 2 processes / batch 16 = 2 steps per epoch on each process
    assert result["epochs"] == 3 and result["step"] == 6
    assert len(result["history"]) == 3
    assert result["history"][-1]["val_loss"] < result["history"][0]["val_loss"]
    assert torch.isfinite(result["prediction"]).all()
    assert torch.equal(result["prediction"], result["reloaded"])
    assert Path(result["last"]).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "out.pt", "run"]
