"""Build and load the C++ extension once, on first use, into a cache directory.

``torch.utils.cpp_extension.load`` compiles the sources with ninja the first
time (about a minute on two cores) and reuses the shared library afterwards.
The cache directory is keyed by a hash of the sources, the flags, the torch
version and the CPU's instruction-set flags, so an edit, an upgrade or another
machine never loads a stale or incompatible binary. It is
``$LSTMKIT_CACHE_DIR`` if set, else ``~/.cache/lstmkit``.

Nothing here runs at import time. When no C++ compiler is present, or the build
fails, ``load()`` returns None, ``reason()`` says why, and a single warning is
issued; the registry's ``"auto"`` then falls back to another backend.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import threading
import warnings
from pathlib import Path
from types import ModuleType

import torch

_HERE = Path(__file__).resolve().parent
SOURCES = ("bindings.cpp", "lstm.cpp", "gru_rnn.cpp")
HEADERS = ("common.h", "gemm.h")
# -ffast-math lets GCC vectorise exp/tanh through glibc's libmvec;
# -fno-associative-math keeps every sum in source order (bitwise determinism,
# float64 agreement with the reference). It is never passed to the linker, so
# the process's floating-point mode (denormals) is left alone. -fopenmp makes
# at::parallel_for (an inline template) really split the large GEMMs across
# torch's threads; without it that header runs serially. It links libgomp.so.1,
# the soname torch itself loads, so one OpenMP runtime serves both.
CFLAGS = ("-O3", "-march=native", "-ffast-math", "-fno-associative-math", "-fopenmp")

_lock = threading.Lock()
_state: dict[str, object] = {}


def _cpu_flags() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return line
    except OSError:
        pass
    return platform.processor() or platform.machine()


def build_key() -> str:
    """A short hash of everything the binary depends on."""
    digest = hashlib.sha256()
    for name in (*SOURCES, *HEADERS):
        digest.update((_HERE / name).read_bytes())
    digest.update(" ".join(CFLAGS).encode())
    digest.update(torch.__version__.encode())
    digest.update(_cpu_flags().encode())
    return digest.hexdigest()[:16]


def cache_dir() -> Path:
    root = os.environ.get("LSTMKIT_CACHE_DIR") or str(Path.home() / ".cache" / "lstmkit")
    return Path(root) / f"cpu-{build_key()}"


def compiler() -> str | None:
    """The C++ compiler torch would use, or None when there is none."""
    return shutil.which(os.environ.get("CXX", "c++"))


def _build() -> ModuleType:
    from torch.utils.cpp_extension import load as cpp_load

    build = cache_dir()
    build.mkdir(parents=True, exist_ok=True)
    return cpp_load(
        name=f"lstmkit_cpu_{build.name.split('-')[1]}",
        sources=[str(_HERE / name) for name in SOURCES],
        extra_cflags=list(CFLAGS),
        extra_ldflags=["-lm", "-fopenmp"],
        build_directory=str(build),
        verbose=False,
    )


def load() -> ModuleType | None:
    """The compiled extension (built on the first call), or None if it cannot be built."""
    if "module" in _state:
        return _state["module"]  # type: ignore[return-value]
    with _lock:
        if "module" in _state:
            return _state["module"]  # type: ignore[return-value]
        module: ModuleType | None = None
        why: str | None = None
        if compiler() is None:
            why = "no C++ compiler found (set CXX or install g++)"
        elif shutil.which("ninja") is None:
            why = "ninja is not installed (pip install ninja)"
        else:
            try:
                module = _build()
            except (RuntimeError, OSError, ImportError, SystemExit) as err:
                why = f"the C++ extension failed to build: {str(err).strip().splitlines()[-1:]}"
        if why is not None:
            warnings.warn(
                f"lstmkit: the 'cpu' backend is unavailable: {why}; 'auto' uses another backend",
                RuntimeWarning,
                stacklevel=3,
            )
        _state["module"] = module
        _state["reason"] = why
        return module


def reason() -> str | None:
    """Why the extension is unavailable (loading it if not yet tried), or None."""
    load()
    return _state["reason"]  # type: ignore[return-value]
