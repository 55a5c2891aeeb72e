"""Build the fused CPU kernels ahead of first use: ``python -m lstmkit.kernels.cpu.build``.

``make install`` runs it, so that training never waits for the compiler. It
never fails the install: without a compiler it says why and ``"auto"`` uses
another backend.
"""

from __future__ import annotations

import sys
import time

from lstmkit.kernels.cpu import _loader


def main() -> int:
    start = time.perf_counter()
    module = _loader.load()
    if module is None:
        print(f"lstmkit: cpu kernels not built ({_loader.reason()}); 'auto' will use other backends")
    else:
        print(f"lstmkit: cpu kernels ready in {_loader.cache_dir()} ({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
