"""Make the helper scripts of this folder importable and runnable (``--import-mode=importlib``)."""

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
