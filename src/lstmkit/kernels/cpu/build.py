"""Make sure the fused CPU kernels are ready: ``python -m lstmkit.kernels.cpu.build``.

Normally ``pip install`` built them (``setup.py``) and this only says so. When
that build is missing or stale (sources edited, torch upgraded, no compiler at
install time), it builds them into the cache directory once (see ``_loader``),
so that training never waits for the compiler. It never fails: without a
compiler it says why and ``"auto"`` uses another backend.
"""

from __future__ import annotations

import sys
import time

from lstmkit.kernels.cpu import _loader


def main() -> int:
    start = time.perf_counter()
    module = _loader.load(build=True)
    if module is None:
        print(f"lstmkit: cpu kernels not built ({_loader.reason()}); 'auto' will use other backends")
    elif _loader.origin() == "installed":
        print(f"lstmkit: cpu kernels ready (built at install: {module.__file__})")
    else:
        print(f"lstmkit: cpu kernels ready in {_loader.origin()} ({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
