"""Shared test settings: one thread per test worker (the machine has 2 cores), and
Triton's interpreter where there is no GPU.

``TRITON_INTERPRET`` must be set before Triton is first imported (Triton defines
its own ``tl`` functions when it is imported), so it is set here, before any
test module loads. It only lets the "triton" backend's kernels run on CPU
tensors where ``LSTMKIT_TRITON_CPU=1`` is also set, which
tests/kernels/test_triton.py does for its own tests only.
"""

import importlib.util
import os
import sys
from pathlib import Path

import pytest
import torch

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

torch.set_num_threads(1)
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")


@pytest.fixture
def one_thread():
    """torch at one thread for the test, whatever an earlier test in this worker set, then restored."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def benchmark_script():
    """``load(name)``: the script benchmarks/NAME.py as a fresh module (module name ``bench_NAME``),
    with benchmarks/ on sys.path only while it imports (for its ``_common``-style helpers)."""
    def load(name: str):
        sys.path.insert(0, str(BENCHMARKS))
        try:
            spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCHMARKS / f"{name}.py")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        finally:
            sys.path.remove(str(BENCHMARKS))
        return module

    return load
