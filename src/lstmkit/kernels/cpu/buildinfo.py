"""What the fused CPU kernels are built from, and the key that names a build.

Shared by ``setup.py`` (which builds the extension when the package is
installed) and ``_loader`` (which loads it, or builds it on demand as a
fallback). ``setup.py`` loads this file by path before lstmkit is installed, so
it imports nothing from lstmkit and nothing beyond the standard library and
torch.

``source_key()`` hashes everything the binary's behaviour depends on: the
sources and headers, the compiler flags, the torch version and the CPU's
instruction-set flags (the flags include ``-march=native``). A module built
at install time carries its key (``_C.build_key``); the loader accepts it only
when the key matches, so an edited source, an upgraded torch or another
machine never loads a stale binary. ``toolchain()`` names the compiler and the
ninja that an on-demand build would use; the on-demand cache directory is keyed
on both keys, so a build never depends on ninja's log from another ninja.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
SOURCES = ("bindings.cpp", "lstm.cpp", "gru_rnn.cpp")
HEADERS = ("common.h", "gemm.h", "team.h")
# -ffast-math lets GCC vectorise exp/tanh through glibc's libmvec;
# -fno-associative-math keeps every sum in source order (bitwise determinism,
# float64 agreement with the reference). It is never passed to the linker, so
# the process's floating-point mode (denormals) is left alone. -fopenmp makes
# at::parallel_for (an inline template) really split the large GEMMs across
# torch's threads; without it that header runs serially. It links libgomp.so.1,
# the soname torch itself loads, so one OpenMP runtime serves both.
CFLAGS = ("-O3", "-march=native", "-ffast-math", "-fno-associative-math", "-fopenmp")
LDFLAGS = ("-lm", "-fopenmp")
KEY_MACRO = "LSTMKIT_BUILD_KEY"  # the define that stamps a build with its source key


def cpu_flags() -> str:
    """The CPU's instruction-set flags (the line of /proc/cpuinfo), or the machine name."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return line
    except OSError:
        return platform.processor() or platform.machine()
    return platform.processor() or platform.machine()


def source_key(cflags: tuple[str, ...] = CFLAGS) -> str:
    """A 16-hex-digit hash of the sources, the flags, torch's version and the CPU flags."""
    digest = hashlib.sha256()
    for name in (*SOURCES, *HEADERS):
        digest.update(name.encode())
        digest.update((HERE / name).read_bytes())
    digest.update(" ".join(cflags).encode())
    digest.update(torch.__version__.encode())
    digest.update(cpu_flags().encode())
    return digest.hexdigest()[:16]


def compiler() -> str | None:
    """The C++ compiler torch's build would use (``$CXX`` or ``c++``), or None."""
    return shutil.which(os.environ.get("CXX", "c++"))


def ninja() -> str | None:
    """The ninja a build uses: the one installed beside this Python (the ``ninja``
    wheel of the venv) when there is one, else the first on PATH. Preferring the
    venv's makes the choice independent of whether the venv's bin is on PATH."""
    beside = Path(sys.executable).parent / "ninja"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("ninja")


def _first_line(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError) as err:
        return f"unavailable: {err}"
    lines = (out.stdout or out.stderr).strip().splitlines()
    return lines[0] if lines else f"exit {out.returncode}"


def toolchain() -> str:
    """The compiler and the ninja an on-demand build would use, with their versions."""
    cxx, nj = compiler(), ninja()
    parts = [f"cxx={cxx}: {_first_line([cxx, '--version']) if cxx else 'none'}",
             f"ninja={nj}: {_first_line([nj, '--version']) if nj else 'none'}"]
    return "; ".join(parts)


def cache_key(cflags: tuple[str, ...] = CFLAGS) -> str:
    """The on-demand build's directory key: the source key plus the toolchain."""
    digest = hashlib.sha256()
    digest.update(source_key(cflags).encode())
    digest.update(toolchain().encode())
    return digest.hexdigest()[:16]
