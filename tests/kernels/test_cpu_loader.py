"""The cpu backend's build-on-first-use loader: importing never compiles, and a
missing compiler is reported (one warning) so that "auto" falls back."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from lstmkit.kernels import registry
from lstmkit.kernels.cpu import _loader
from lstmkit.kernels.spec import CellSpec, LayerSpec


def test_import_does_not_build():
    code = (
        "import lstmkit, lstmkit.kernels.cpu as cpu\n"
        "from lstmkit.kernels.cpu import _loader\n"
        "assert _loader._state == {}, _loader._state\n"
        "print('clean')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "clean"


def test_missing_compiler_warns_once_and_auto_falls_back(monkeypatch):
    monkeypatch.setattr(_loader, "_state", {})
    monkeypatch.setattr(_loader, "compiler", lambda: None)
    with pytest.warns(RuntimeWarning, match="no C\\+\\+ compiler"):
        assert _loader.load() is None
    assert "compiler" in _loader.reason()  # no second warning: the result is cached
    spec = LayerSpec(CellSpec("LSTM", 4, peephole=True), input_size=3)
    x = torch.zeros(2, 1, 3)
    assert "compiler" in registry.get("cpu").unsupported(spec, x, False)
    assert registry.resolve("auto", spec, x, False).name == "reference"
    with pytest.raises(ValueError, match="compiler"):
        registry.resolve("cpu", spec, x, False)


def test_build_key_tracks_sources_and_flags(monkeypatch):
    key = _loader.build_key()
    assert len(key) == 16 and key == _loader.build_key()
    monkeypatch.setattr(_loader, "CFLAGS", (*_loader.CFLAGS, "-DLSTMKIT_TEST"))
    assert _loader.build_key() != key
    monkeypatch.setenv("LSTMKIT_CACHE_DIR", "/tmp/lstmkit-cache-test")
    assert str(_loader.cache_dir()).startswith("/tmp/lstmkit-cache-test/cpu-")
