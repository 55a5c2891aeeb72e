"""Test helpers: comparing implementations of the same function, and running the CLI.

``TOL`` is the one table of tolerances per dtype used wherever two
implementations (torch.nn vs lstmkit, a fast backend vs the reference) are
compared. float64 differences beyond round-off mean a bug; float32 ones are
bounded by accumulation order over a sequence.
"""

from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace

import torch
from torch import Tensor

TOL: dict[torch.dtype, tuple[float, float]] = {  # dtype -> (atol, rtol)
    torch.float64: (1e-10, 1e-9),
    torch.float32: (2e-5, 1e-4),
}


def assert_close(actual: Tensor, expected: Tensor, msg: str = "") -> None:
    """torch.testing.assert_close with the tolerance of ``expected``'s dtype."""
    atol, rtol = TOL[expected.dtype]
    torch.testing.assert_close(actual, expected, atol=atol, rtol=rtol,
                               msg=(lambda m: f"{msg}: {m}") if msg else None)


def run_cli(*args, cwd: str | os.PathLike, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m lstmkit.cli ARGS`` in a fresh interpreter (the real console entry point)."""
    return subprocess.run([sys.executable, "-m", "lstmkit.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def run_cli_in_process(*args, cwd: str | os.PathLike, capsys, monkeypatch) -> SimpleNamespace:
    """The same entry point in this process (saves an interpreter start per call), with pytest's
    ``capsys`` and ``monkeypatch``; returns ``returncode``, ``stdout`` and ``stderr`` like :func:`run_cli`."""
    from lstmkit.cli import main

    monkeypatch.chdir(cwd)
    capsys.readouterr()
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return SimpleNamespace(returncode=code, stdout=out.out, stderr=out.err)
