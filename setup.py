"""Build the fused CPU kernels when lstmkit is installed (the metadata is in pyproject.toml).

A PEP 517 build against the torch already installed, as torch extension
packages do: ``torch.utils.cpp_extension`` compiles
``src/lstmkit/kernels/cpu/*.cpp`` into ``lstmkit.kernels.cpu._C``, stamped with
the source key of ``buildinfo.py`` so that the loader never takes a stale
build. Install with ``--no-build-isolation`` after installing torch (the
Makefile does), so the build uses that torch and never pulls another.

The kernels are optional: without torch at build time, or without a C++
compiler, the package installs without them, the build says why, and
``backend="auto"`` uses torch's own kernels (see docs/performance.md).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from setuptools import setup

CPU = Path("src/lstmkit/kernels/cpu")


def _buildinfo():
    """``buildinfo.py`` loaded by path (lstmkit itself is not installed yet)."""
    spec = importlib.util.spec_from_file_location("lstmkit_buildinfo", Path(__file__).parent / CPU / "buildinfo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _say(message: str) -> None:
    print(f"lstmkit: {message}", file=sys.stderr, flush=True)


def kernels() -> dict:
    try:
        from torch.utils.cpp_extension import BuildExtension, CppExtension
    except ImportError as err:
        _say(f"torch is not importable at build time ({err}): the fused 'cpu' kernels are not "
             "built now; install torch first and build with --no-build-isolation")
        return {}
    info = _buildinfo()
    extension = CppExtension(
        "lstmkit.kernels.cpu._C",
        sources=[str(CPU / name) for name in info.SOURCES],
        extra_compile_args=[*info.CFLAGS, f"-D{info.KEY_MACRO}={info.source_key()}"],
        extra_link_args=list(info.LDFLAGS),
    )

    class OptionalKernels(BuildExtension):
        """Build the kernels if the toolchain allows; never fail the install over them."""

        def build_extension(self, ext) -> None:
            _say("building the fused 'cpu' kernels (about a minute) ...")
            try:
                super().build_extension(ext)
            except Exception as err:  # a compiler error of any kind: the core package still works
                _say(f"the fused 'cpu' kernels were not built ({type(err).__name__}: {err}); "
                     "'auto' will use torch's kernels; see docs/performance.md")

    return {"ext_modules": [extension], "cmdclass": {"build_ext": OptionalKernels}}


setup(**kernels())
