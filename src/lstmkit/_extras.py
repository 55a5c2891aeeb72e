"""Optional dependencies: which extra provides which module, and one-line errors.

``pip install lstmkit`` gives the core (layers, cells, kernels, inspect); each
pipeline needs an extra (``train``; ``text`` and ``data`` for some readers).
Code at a task's or the command line's import boundary calls
``require("train", feature="lstmkit.tasks.classify")``, which raises
``MissingExtra`` (an ImportError) with one line that says what to install,
instead of a ModuleNotFoundError from deep inside an import; the command line
turns any ModuleNotFoundError of an extra's module into that line (exit 2).

``EXTRAS`` names the import names of each extra's packages; ``DIST_NAMES``
maps the import names that differ from the distribution names on PyPI. A test
(tests/test_packaging.py) checks both against pyproject.toml and every import
under src/.
"""

from __future__ import annotations

import importlib.util

# extra -> the top-level import names of its packages (pyproject.toml lists the distributions)
EXTRAS: dict[str, tuple[str, ...]] = {
    "train": ("lightning", "torchmetrics", "safetensors", "yaml", "pandas", "matplotlib",
              "statsmodels", "sklearn", "scipy", "statsforecast"),
    "text": ("tokenizers", "sacrebleu", "spylls", "seqeval"),
    "data": ("aeon", "music21", "mido", "pysword"),
    "rl": ("gymnasium", "popgym", "sb3_contrib"),
    "speech": ("soundfile", "jiwer", "hmmlearn", "pocketsphinx"),
    "video": ("skimage", "mnist1d"),
    "export": ("onnx", "onnxruntime", "onnxscript"),
    "gpu": ("triton",),
}
# import name -> distribution name, where they differ
DIST_NAMES: dict[str, str] = {"sklearn": "scikit-learn", "yaml": "pyyaml", "sb3_contrib": "sb3-contrib",
                           "skimage": "scikit-image"}


class MissingExtra(ImportError):
    """An optional dependency is not installed; the message says which extra to install."""


def install_hint(extra: str) -> str:
    return f"pip install 'lstmkit[{extra}]'"


def extra_of(module: str) -> str | None:
    """The extra that provides top-level module ``module`` (e.g. "lightning" -> "train")."""
    top = module.split(".")[0]
    for extra, modules in EXTRAS.items():
        if top in modules:
            return extra
    return None


def missing_message(module: str, feature: str | None = None) -> str | None:
    """One line for a missing module of an extra, or None when no extra provides it."""
    extra = extra_of(module)
    if extra is None:
        return None
    what = f"{feature} needs" if feature else "this needs"
    return f"{what} the '{extra}' extra ({DIST_NAMES.get(module, module)} is not installed): {install_hint(extra)}"


def require(extra: str, *modules: str, feature: str | None = None) -> None:
    """Raise ``MissingExtra`` unless ``modules`` (default: all of ``extra``'s) are installed.

    Looks the modules up without importing them (cheap enough for a package's
    ``__init__``)."""
    if extra not in EXTRAS:
        raise ValueError(f"extra: expected one of {sorted(EXTRAS)}, got {extra!r}")
    for module in modules or EXTRAS[extra]:
        if importlib.util.find_spec(module) is None:
            raise MissingExtra(missing_message(module, feature))
