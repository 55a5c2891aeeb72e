"""The examples run end to end (with a tiny training budget)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quickstart_runs():
    out = subprocess.run([sys.executable, str(ROOT / "examples/quickstart.py")], check=True,
                         capture_output=True, text=True, timeout=120).stdout
    diff = float(out.split("max |lstmkit - torch| = ")[1].split()[0])
    assert diff < 1e-5 and "padding is zero: True" in out


def test_inspect_gates_runs(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "examples/inspect_gates.py"), "--steps", "3",
                          "--out", str(tmp_path)], check=True, capture_output=True, text=True,
                         timeout=120).stdout
    assert "tracks depth with correlation" in out
    assert (tmp_path / "gates.png").exists() and (tmp_path / "saturation.png").exists()
