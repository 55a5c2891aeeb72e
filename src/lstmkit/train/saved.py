"""Saved models: a directory with ``config.json`` and ``model.safetensors``.

Layout (``FORMAT_VERSION`` 1)::

    my-model/
      config.json        {"format_version": 1, "task": "forecast",
                          "lstmkit_version": "0.1.0", "config": {...},
                          "extras": {...}, "tensors": {"name": [shape], ...}}
      model.safetensors  the state_dict (safetensors: no pickle, no code runs on load)

``config`` is what the task needs to rebuild its model (its frozen
dataclasses as dicts); ``extras`` holds what it needs around the model
(scalers, vocabularies, column names), strict JSON only (no NaN/Infinity);
``tensors`` is a manifest checked on load, so a truncated or swapped weights
file is caught early; ``weights_sha256`` is the SHA-256 of
``model.safetensors``, checked on load, so a flipped bit is caught too
(models saved before it was added load without that check).

Loading checks, before anything is allocated: ``format_version`` is an
integer (not a bool) this lstmkit reads; ``config`` and ``extras`` are
objects; every integer whose key names a size (``*_size``, ``*_dim``, ``hidden``,
``*layers``, ``*vocab*``, ``*buckets``...) is within :data:`SIZE_BOUNDS`.
A key the task needs but the file lacks raises :class:`ModelLoadError` (the
sections are :class:`Section` dicts), never ``KeyError``.

The directory is written beside its destination under a temporary name and
swapped into place (see :mod:`lstmkit.train.model_dir`): a reader sees the
old model or the new, never a mix; only a complete saved model is ever
replaced.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lstmkit.io import file_mode
from lstmkit.train.model_dir import (
    CONFIG_FILE,
    WEIGHTS_FILE,
    check_model_target,  # noqa: F401  (re-exported: the pre-fit output checks)
    check_outputs,  # noqa: F401
    recover_for_reading,
    replace_model_dir,
)

FORMAT_VERSION = 1

#: (key pattern, largest accepted value) for integers in ``config`` / ``extras``;
#: the first pattern that matches a key applies.
SIZE_BOUNDS: tuple[tuple[str, int], ...] = (
    (r"(^|_)(num_)?layers$", 1024),
    (r"(vocab|buckets)", 1 << 24),
    (r"batch_size$", 1 << 24),
    (r"(_size|_dim|^dim|hidden|^size)$", 1 << 16),
)


class ModelLoadError(ValueError):
    """A saved-model directory is missing, corrupt or incompatible (one-line message)."""


class Section(dict):
    """A ``config`` / ``extras`` mapping of a loaded model: a missing key is a :class:`ModelLoadError`.

    Task ``load`` code indexes these sections (``saved.extras["vocab"]``); a
    ``config.json`` that lacks the key then reports which file and which key
    in one line instead of a ``KeyError``. Nested objects are sections too.
    """

    def __init__(self, values: Mapping[str, Any], where: str, path: Path) -> None:
        super().__init__({k: _section(v, f"{where}.{k}", path) for k, v in values.items()})
        self.where = where
        self.path = path

    def __missing__(self, key: Any) -> Any:
        raise ModelLoadError(f"corrupt {CONFIG_FILE} in '{self.path}': '{self.where}.{key}' is missing")

    def __reduce__(self) -> Any:  # pickles (and deep-copies) as a plain dict
        return (dict, (dict(self),))


def _section(value: Any, where: str, path: Path) -> Any:
    if isinstance(value, dict):
        return Section(value, where, path)
    if isinstance(value, list):
        return [_section(v, where, path) for v in value]
    return value


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


def _non_finite(value: Any, where: str) -> str | None:
    """The first place in a JSON-like ``value`` that holds a NaN or an infinity."""
    if isinstance(value, float) and not math.isfinite(value):
        return where
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _non_finite(item, f"{where}.{key}" if isinstance(value, dict) else f"{where}[{key}]")
        if found is not None:
            return found
    return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(path, file_mode())


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
    (NumPy arrays and scalars are converted to lists and numbers; NaN and
    infinities are refused). ``state_dict``: name -> tensor (no NaN). An
    existing *complete saved model* at ``path`` is replaced (crash-safe, see
    :mod:`lstmkit.train.model_dir`); any other file or non-empty directory is
    refused, as is a concurrent save to the same path (one-line ``ValueError``).
    Files get ``0644`` and the directory ``0755`` under the usual umask.
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
        if tensors[name].is_floating_point() and bool(torch.isnan(tensors[name]).any()):
            raise ValueError(f"save_model: tensor '{name}' holds NaN values; refusing to save a broken model")
    header = {
        "format_version": FORMAT_VERSION,
        "task": task,
        "lstmkit_version": _lstmkit_version(),
        "config": _as_dict("config", config),
        "extras": _as_dict("extras", extras),
        "tensors": {name: list(t.shape) for name, t in tensors.items()},
    }
    try:
        plain = json.loads(json.dumps(header, default=_json_default, allow_nan=True))
    except TypeError as exc:
        raise TypeError(f"save_model: config/extras must be JSON-serializable: {exc}") from None
    bad = _non_finite(plain, "header")
    if bad is not None:
        raise ValueError(f"save_model: {bad.removeprefix('header.')} is not a finite number; "
                         "a saved model holds strict JSON (no NaN or Infinity)")

    from safetensors.torch import save as safetensors_bytes

    with replace_model_dir(path) as tmp:
        _write_synced(tmp / WEIGHTS_FILE, safetensors_bytes(tensors, metadata={"format": "pt"}))
        plain["weights_sha256"] = _sha256(tmp / WEIGHTS_FILE)
        text = json.dumps(plain, indent=2, sort_keys=True, allow_nan=False)
        _write_synced(tmp / CONFIG_FILE, (text + "\n").encode("utf-8"))
    return Path(path)


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
        if not isinstance(header.get(key), kind) or isinstance(header.get(key), bool):
            raise ModelLoadError(
                f"corrupt {CONFIG_FILE} in '{path}': field '{key}' is missing or not a {kind.__name__}"
            )
    _check_sizes(header["config"], "config", path)
    _check_sizes(header["extras"], "extras", path)
    return header


def _check_sizes(value: Any, where: str, path: Path) -> None:
    """Refuse size-like integers (see :data:`SIZE_BOUNDS`) that are negative or absurdly large."""
    if isinstance(value, list):
        for item in value:
            _check_sizes(item, where, path)
        return
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        if isinstance(item, (dict, list)):
            _check_sizes(item, f"{where}.{key}", path)
            continue
        if not isinstance(item, int) or isinstance(item, bool):
            continue
        for pattern, limit in SIZE_BOUNDS:
            if re.search(pattern, str(key)):
                if not 0 <= item <= limit:
                    raise ModelLoadError(
                        f"corrupt {CONFIG_FILE} in '{path}': '{where}.{key}' is {item}, "
                        f"outside the sane range 0..{limit}"
                    )
                break


def load_model(path: str | os.PathLike, task: str | None = None) -> SavedModel:
    """Read a saved-model directory; any problem raises :class:`ModelLoadError` (one line).

    ``task``: when given, the directory must hold a model of that task.
    """
    path = Path(path)
    recover_for_reading(Path(os.path.abspath(path)), path)
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
    expected = header.get("weights_sha256")
    if expected is not None and (not isinstance(expected, str) or _sha256(weights) != expected):
        raise ModelLoadError(
            f"corrupt {WEIGHTS_FILE} in '{path}': its SHA-256 does not match the one in {CONFIG_FILE} "
            "(the file was damaged or changed after saving)"
        )
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
        config=Section(header["config"], "config", path),
        state_dict=state_dict,
        extras=Section(header["extras"], "extras", path),
        path=path,
        format_version=version,
        lstmkit_version=str(header.get("lstmkit_version", "")),
    )
