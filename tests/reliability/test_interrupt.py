"""Ctrl-C ends any command with ``lstmkit: interrupted`` and exit status 130, also mid-training.

Lightning (2.x) catches ``KeyboardInterrupt`` itself and calls ``sys.exit(1)`` after a
"graceful shutdown"; the CLI must still end with 130 and its one line, and write no output.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pandas as pd

from lstmkit import cli


def _series_csv(path):
    t = np.arange(60)
    pd.DataFrame({"ds": t, "y": np.sin(t / 3.0) + 0.01 * t}).to_csv(path, index=False)


def test_sigint_while_lightning_trains_prints_one_line_and_exits_130(tmp_path):
    _series_csv(tmp_path / "train.csv")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("LSTMKIT_DEBUG", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "lstmkit.cli", "forecast", "fit", "--data", "train.csv", "--horizon", "3",
         "--lookback", "6", "--hidden-size", "4", "--epochs", "100000", "--progress", "--out", "model"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    err: list[str] = []
    reader = threading.Thread(target=lambda: err.extend(iter(lambda: proc.stderr.read(1).decode(), "")))
    reader.start()
    deadline = time.monotonic() + 120
    # the epoch bar counts finished epochs: at 2 or more, Lightning's fit loop is running
    while not re.search(r"\b([2-9]|\d{2,})/100000\b", "".join(err)):
        assert proc.poll() is None and time.monotonic() < deadline, "".join(err)[-2000:]
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    reader.join(timeout=10)
    stderr = "".join(err)
    assert proc.returncode == 130, stderr[-2000:]
    assert stderr.rstrip().endswith("lstmkit: interrupted"), stderr[-2000:]
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert not (tmp_path / "model").exists()


def _parser_running(func):
    parser = argparse.ArgumentParser(prog="lstmkit")
    parser.set_defaults(func=func)
    return lambda: parser


def _interrupt(_args):
    raise KeyboardInterrupt


def test_keyboard_interrupt_in_process_is_130(monkeypatch, capsys):
    """The same line when the interrupt arrives as KeyboardInterrupt (e.g. outside the main thread)."""
    monkeypatch.setattr(cli, "build_parser", _parser_running(_interrupt))
    monkeypatch.delenv("LSTMKIT_DEBUG", raising=False)
    assert cli.main([]) == 130
    assert capsys.readouterr().err.strip() == "lstmkit: interrupted"


def test_sigint_handler_is_restored_after_main(monkeypatch):
    monkeypatch.setattr(cli, "build_parser", _parser_running(lambda args: 0))
    before = signal.getsignal(signal.SIGINT)
    assert cli.main([]) == 0
    assert signal.getsignal(signal.SIGINT) is before
