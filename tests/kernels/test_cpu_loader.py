"""The cpu backend's loader: importing never compiles; "auto" never builds and says
so once; an on-demand build happens once per cache directory (others wait on its
lock) and is never redone because PATH names another ninja."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from lstmkit.kernels import registry
from lstmkit.kernels.cpu import _loader, buildinfo
from lstmkit.kernels.spec import CellSpec, LayerSpec

SRC = str(Path(_loader.__file__).resolve().parents[3])


def _fresh(monkeypatch, tmp_path):
    """A loader that has looked for nothing yet and sees no installed build."""
    monkeypatch.setattr(_loader, "_state", {})
    monkeypatch.setattr(_loader, "_installed", lambda: None)
    monkeypatch.setenv("LSTMKIT_CACHE_DIR", str(tmp_path / "cache"))
    cpu = registry.get("cpu")
    monkeypatch.setattr(cpu, "_warned", False)
    return cpu


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


def test_auto_never_builds_and_warns_once(monkeypatch, tmp_path):
    cpu = _fresh(monkeypatch, tmp_path)
    monkeypatch.setattr(_loader, "_compile", lambda d: pytest.fail("auto must not compile"))
    spec = LayerSpec(CellSpec("LSTM", 4), input_size=3)
    x = torch.zeros(2, 1, 3)
    with pytest.warns(RuntimeWarning, match="not ready.*python -m lstmkit.kernels.cpu.build"):
        assert registry.resolve("auto", spec, x, False, needs_grad=True).name == "native"
    with warnings_as_errors():  # said once
        assert registry.resolve("auto", spec, x, False, needs_grad=True).name == "native"
    assert "not built" in cpu.unsupported(spec, x, False)


class warnings_as_errors:
    def __enter__(self):
        import warnings

        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("error")

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


def test_missing_compiler_auto_falls_back_and_a_named_backend_says_why(monkeypatch, tmp_path):
    _fresh(monkeypatch, tmp_path)
    monkeypatch.setattr(_loader, "compiler", lambda: None)
    spec = LayerSpec(CellSpec("LSTM", 4, peephole=True), input_size=3)
    x = torch.zeros(2, 1, 3)
    with pytest.warns(RuntimeWarning, match="no C\\+\\+ compiler"):
        assert registry.resolve("auto", spec, x, False).name == "reference"
    assert "compiler" in _loader.reason()
    with pytest.raises(ValueError, match="compiler"):
        registry.resolve("cpu", spec, x, False)


def test_build_key_tracks_sources_flags_and_toolchain(monkeypatch, tmp_path):
    key = _loader.build_key()
    assert len(key) == 16 and key == _loader.build_key()
    assert buildinfo.source_key((*buildinfo.CFLAGS, "-DLSTMKIT_TEST")) != key
    monkeypatch.setenv("LSTMKIT_CACHE_DIR", "/tmp/lstmkit-cache-test")
    before = _loader.cache_dir()
    assert str(before).startswith("/tmp/lstmkit-cache-test/cpu-")
    other = tmp_path / "ninja"  # another ninja version: another cache directory
    other.write_text("#!/bin/sh\necho 0.0.1-test\n")
    other.chmod(0o755)
    monkeypatch.setattr(buildinfo, "ninja", lambda: str(other))
    assert _loader.cache_dir() != before


def test_cache_key_does_not_depend_on_path(monkeypatch):
    """Running with or without the venv's bin on PATH picks the same ninja, so the same build."""
    keys = set()
    for path in (os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
                 "/usr/local/bin:/usr/bin:/bin"):
        monkeypatch.setenv("PATH", path)
        keys.add(buildinfo.cache_key())
    assert len(keys) == 1


_DRIVER = textwrap.dedent("""
    import sys, time, importlib.util
    from pathlib import Path
    from lstmkit.kernels.cpu import _loader

    def fake_compile(directory):  # stands in for ninja: slow, and leaves a library behind
        print("COMPILING", flush=True)
        time.sleep(2)
        library = directory / (_loader._module_name(directory) + ".py")
        library.write_text("build_key = 'fake'\\n")
        spec = importlib.util.spec_from_file_location(library.stem, library)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    _loader._compile = fake_compile
    _loader._installed = lambda: None
    module = _loader.load(build=True)
    print("LOADED", module.build_key, _loader.origin(), flush=True)
""")


def test_one_build_per_cache_others_wait_and_path_never_rebuilds(tmp_path):
    env = {**os.environ, "LSTMKIT_CACHE_DIR": str(tmp_path), "PYTHONPATH": SRC}
    cmd = [sys.executable, "-c", _DRIVER]
    racing = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for _ in range(2)]
    outs = [p.communicate(timeout=180) for p in racing]
    assert all(p.returncode == 0 for p in racing), [o[1] for o in outs]
    stdout = "".join(o[0] for o in outs)
    stderr = "".join(o[1] for o in outs)
    assert stdout.count("COMPILING") == 1 and stdout.count("LOADED fake") == 2
    assert "building the fused 'cpu' kernels" in stderr and "built in" in stderr
    # another PATH (the venv's bin first, or not at all): the finished build is loaded as it is
    for path in (os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
                 "/usr/local/bin:/usr/bin:/bin"):
        again = subprocess.run(cmd, env={**env, "PATH": path}, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr
        assert "COMPILING" not in again.stdout and "LOADED fake" in again.stdout
        assert again.stderr == ""  # nothing printed when nothing is built


def test_a_stale_torch_build_baton_does_not_block_the_next_build(monkeypatch, tmp_path):
    """torch's JIT build leaves its `lock` baton behind when it is killed; the next build, which
    holds lstmkit's own flock, must not wait on it forever."""
    from types import SimpleNamespace

    directory = tmp_path / "cache" / "cpu-test"
    directory.mkdir(parents=True)
    (directory / "lock").write_text("")  # what a SIGKILLed torch build leaves
    seen = {}

    def fake_compile(d):
        seen["baton"] = (d / "lock").exists()
        return SimpleNamespace(__file__=str(d / "fake.so"))

    monkeypatch.setattr(_loader, "_compile", fake_compile)
    monkeypatch.setattr(_loader, "_import_built", lambda d: None)
    _loader._build(directory)
    assert seen == {"baton": False}
