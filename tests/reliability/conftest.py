"""Make the helper scripts of this folder (``untrained``, ``tiny_tasks``, the subprocess scripts) and the
training tests' ``train_helpers`` importable: pytest runs with --import-mode=importlib, which does not
put test folders on sys.path."""

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

# the TinyRegression module and its data live with the training tests
TRAIN = str(Path(__file__).resolve().parent.parent / "train")
if TRAIN not in sys.path:
    sys.path.insert(0, TRAIN)
