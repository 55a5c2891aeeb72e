"""Saved models: a directory with ``config.json`` and ``model.safetensors``.

Layout (``FORMAT_VERSION`` 1)::

    my-model/
      config.json        {"format_version": 1, "task": "forecast",
                          "lstmkit_version": "0.1.0", "config": {...},
                          "extras": {...}, "tensors": {"name": [shape], ...}}
      model.safetensors  the state_dict (safetensors: no pickle, no code runs on load)

``config`` is what the task needs to rebuild its model (its frozen
dataclasses as dicts); ``extras`` holds what it needs around the model
(scalers, vocabularies, column names), JSON only; ``tensors`` is a manifest
checked on load, so a truncated or swapped weights file is caught early.

The directory is written beside its destination under a temporary name and
renamed into place: a reader sees a complete model or none.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


class ModelLoadError(ValueError):
    """A saved-model directory is missing, corrupt or incompatible (one-line message)."""


@dataclass(frozen=True)
class SavedModel:
    """A loaded model directory: ``task``, ``config``, ``state_dict``, ``extras``, ``path``."""

    task: str
    config: dict[str, Any]
    state_dict: dict[str, torch.Tensor]
    extras: dict[str, Any]
    path: Path
    format_version: int = FORMAT_VERSION
    lstmkit_version: str = ""

    def load_into(self, module: torch.nn.Module) -> torch.nn.Module:
        """Load the weights into ``module`` (strict); a mismatch raises :class:`ModelLoadError`."""
        expected = module.state_dict()
        missing = sorted(set(expected) - set(self.state_dict))
        unexpected = sorted(set(self.state_dict) - set(expected))
        if missing or unexpected:
            raise ModelLoadError(
                f"'{self.path}' does not fit a {type(module).__name__}: "
                f"missing tensors {_short(missing)}, unexpected tensors {_short(unexpected)}"
            )
        for name, tensor in expected.items():
            if tuple(tensor.shape) != tuple(self.state_dict[name].shape):
                raise ModelLoadError(
                    f"'{self.path}' does not fit a {type(module).__name__}: tensor '{name}' has "
                    f"shape {list(self.state_dict[name].shape)}, the model expects {list(tensor.shape)}"
                )
        module.load_state_dict(self.state_dict, strict=True)
        return module


def _short(names: list[str], limit: int = 5) -> str:
    if len(names) <= limit:
        return str(names)
    return f"{names[:limit]} and {len(names) - limit} more"


def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, frozenset)):
        raise TypeError(f"sets are not JSON-serializable (order is lost), got {value!r}")
    if isinstance(value, torch.Tensor):
        raise TypeError("tensors belong in state_dict, not in config or extras")
    raise TypeError(f"{type(value).__name__} is not JSON-serializable")


def _as_dict(name: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{name}: expected a dict or a dataclass instance, got {type(value).__name__}")


def _lstmkit_version() -> str:
    from lstmkit import __version__

    return __version__


def save_model(
    path: str | os.PathLike,
    *,
    task: str,
    config: Mapping[str, Any] | Any,
    state_dict: Mapping[str, torch.Tensor],
    extras: Mapping[str, Any] | None = None,
) -> Path:
    """Write a saved-model directory at ``path`` atomically and return its path.

    ``config`` / ``extras``: dicts (or dataclass instances) of JSON values
    (NumPy arrays and scalars are converted to lists and numbers).
    ``state_dict``: name -> tensor. An existing saved model at ``path`` is
    replaced; any other existing file or non-empty directory is refused.
    """
    if not isinstance(task, str) or not task:
        raise ValueError(f"task: expected a non-empty string, got {task!r}")
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"state_dict: expected a mapping of name -> tensor, got {type(state_dict).__name__}")
    tensors: dict[str, torch.Tensor] = {}
    for name, tensor in state_dict.items():
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"state_dict[{name!r}]: expected a tensor, got {type(tensor).__name__}")
        # own, contiguous CPU storage: safetensors refuses shared or strided tensors
        tensors[name] = tensor.detach().to("cpu").contiguous().clone()
    header = {
        "format_version": FORMAT_VERSION,
        "task": task,
        "lstmkit_version": _lstmkit_version(),
        "config": _as_dict("config", config),
        "extras": _as_dict("extras", extras),
        "tensors": {name: list(t.shape) for name, t in tensors.items()},
    }
    try:
        text = json.dumps(header, indent=2, sort_keys=True, default=_json_default, allow_nan=True)
    except TypeError as exc:
        raise TypeError(f"save_model: config/extras must be JSON-serializable: {exc}") from None

    dest = Path(path)
    if dest.exists():
        if not dest.is_dir():
            raise ValueError(f"save_model: '{dest}' exists and is not a directory")
        if any(dest.iterdir()) and not (dest / CONFIG_FILE).is_file():
            raise ValueError(
                f"save_model: '{dest}' is a non-empty directory that is not a saved model; "
                "refusing to overwrite it"
            )
    dest.parent.mkdir(parents=True, exist_ok=True)
    from safetensors.torch import save_file

    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    try:
        save_file(tensors, str(tmp / WEIGHTS_FILE), metadata={"format": "pt"})
        with open(tmp / CONFIG_FILE, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        if dest.exists():
            old = dest.parent / f".{dest.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(dest, old)
            os.replace(tmp, dest)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def _read_header(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise ModelLoadError(f"no saved model at '{path}': the directory does not exist")
    if not path.is_dir():
        raise ModelLoadError(f"'{path}' is not a saved model: it is a file, expected a directory")
    config_file = path / CONFIG_FILE
    if not config_file.is_file():
        raise ModelLoadError(f"'{path}' is not a saved model: {CONFIG_FILE} is missing")
    try:
        header = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelLoadError(f"corrupt {CONFIG_FILE} in '{path}': {detail}") from None
    if not isinstance(header, dict):
        raise ModelLoadError(f"corrupt {CONFIG_FILE} in '{path}': expected a JSON object")
    for key, kind in (("format_version", int), ("task", str), ("config", dict), ("extras", dict)):
        if not isinstance(header.get(key), kind):
            raise ModelLoadError(
                f"corrupt {CONFIG_FILE} in '{path}': field '{key}' is missing or not a {kind.__name__}"
            )
    return header


def load_model(path: str | os.PathLike, task: str | None = None) -> SavedModel:
    """Read a saved-model directory; any problem raises :class:`ModelLoadError` (one line).

    ``task``: when given, the directory must hold a model of that task.
    """
    path = Path(path)
    header = _read_header(path)
    version = header["format_version"]
    if version > FORMAT_VERSION:
        raise ModelLoadError(
            f"'{path}' has format_version {version}, newer than the {FORMAT_VERSION} this lstmkit "
            f"{_lstmkit_version()} reads (saved by lstmkit {header.get('lstmkit_version', '?')}); "
            "upgrade lstmkit"
        )
    if version < 1:
        raise ModelLoadError(f"corrupt {CONFIG_FILE} in '{path}': format_version {version} is invalid")
    if task is not None and header["task"] != task:
        raise ModelLoadError(
            f"'{path}' holds a '{header['task']}' model, expected a '{task}' model"
        )
    weights = path / WEIGHTS_FILE
    if not weights.is_file():
        raise ModelLoadError(f"'{path}' is incomplete: {WEIGHTS_FILE} is missing")
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        state_dict = load_file(str(weights), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelLoadError(f"corrupt {WEIGHTS_FILE} in '{path}': {detail}") from None
    manifest = header.get("tensors")
    if isinstance(manifest, dict):
        missing = sorted(set(manifest) - set(state_dict))
        if missing:
            raise ModelLoadError(f"'{path}' is incomplete: {WEIGHTS_FILE} lacks tensors {_short(missing)}")
        for name, shape in manifest.items():
            if list(state_dict[name].shape) != list(shape):
                raise ModelLoadError(
                    f"corrupt {WEIGHTS_FILE} in '{path}': tensor '{name}' has shape "
                    f"{list(state_dict[name].shape)}, {CONFIG_FILE} says {shape}"
                )
    return SavedModel(
        task=header["task"],
        config=header["config"],
        state_dict=state_dict,
        extras=header["extras"],
        path=path,
        format_version=version,
        lstmkit_version=str(header.get("lstmkit_version", "")),
    )
