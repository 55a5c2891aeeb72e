"""Typed, nested, frozen configs: declared once, read from Python, JSON, YAML and the CLI.

A task's config is a frozen dataclass whose fields are *sections* (``model``,
``data``), each itself a frozen dataclass of plain fields. A plain field is
declared with :func:`knob`, which records the help text a user reads in
``--help`` (and, optionally, the allowed ``choices`` and a CLI ``flag`` name
when it differs from the field name). Supported field types::

    int, float, str, bool, X | None, tuple[X, ...]   (X one of int, float, str)

:func:`to_dict` gives JSON/YAML-ready nested dicts (tuples become lists);
:func:`from_dict` is its inverse, checking every key and converting values
the way the command line would (``"none"`` -> ``None`` for optional fields, a
scalar -> a 1-tuple for tuple fields, an integral float -> int). Unknown keys
and values of the wrong type raise ``ValueError`` naming the key.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Model:
...     hidden_size: int = knob(32, help="LSTM hidden units")
...     quantiles: tuple[float, ...] = knob((0.5,), help="quantile levels")
>>> from_dict(Model, {"hidden-size": 8, "quantiles": 0.9})
Model(hidden_size=8, quantiles=(0.9,))
>>> to_dict(Model())
{'hidden_size': 32, 'quantiles': [0.5]}
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass
from functools import cache
from typing import Any

_SCALARS = (int, float, str, bool)
_NONE_WORDS = ("none", "null", "off", "")


def knob(default: Any = MISSING, *, help: str, choices: Sequence[Any] | None = None,
         flag: str | None = None, default_factory: Any = MISSING, legacy: Mapping[Any, Any] | None = None) -> Any:
    """A dataclass field with a user-facing ``help`` text (and optional ``choices``, CLI ``flag``).

    ``legacy`` maps former values (of any type, e.g. the booleans of a knob that became a
    mode string) to current ones; `from_dict` translates them, so old YAML and saved
    configs still load.
    """
    metadata = {"help": help, "choices": tuple(choices) if choices is not None else None, "flag": flag,
                "legacy": dict(legacy) if legacy else None}
    if isinstance(default, (list, tuple)):  # immutable default for tuple fields
        value = tuple(default)
        return dataclasses.field(default=value, metadata=metadata)
    return dataclasses.field(default=default, default_factory=default_factory, metadata=metadata)


@dataclass(frozen=True)
class FieldType:
    """The parsed type of a plain field: scalar ``base``, ``optional`` (``| None``), ``many`` (tuple)."""

    base: type
    optional: bool = False
    many: bool = False

    def describe(self) -> str:
        name = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}[self.base]
        if self.many:
            name = f"a list of {name.split(' ', 1)[1]}s"
        return f"{name} or none" if self.optional else name


@cache
def hints(cls: type) -> dict[str, Any]:
    """The resolved annotations of a dataclass (string annotations evaluated)."""
    return typing.get_type_hints(cls)


def is_section(tp: Any) -> bool:
    """True for a dataclass type (a config section)."""
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def field_type(cls: type, name: str) -> FieldType:
    """Parse the annotation of field ``name`` of ``cls`` (see the module docstring)."""
    tp = hints(cls)[name]
    optional = False
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) != 1:
            raise TypeError(f"{cls.__name__}.{name}: unsupported type {tp!r}")
        optional, tp = True, rest[0]
        args = typing.get_args(tp)
    many = False
    if typing.get_origin(tp) is tuple:
        if len(args) != 2 or args[1] is not Ellipsis:
            raise TypeError(f"{cls.__name__}.{name}: only tuple[X, ...] is supported, got {tp!r}")
        many, tp = True, args[0]
    if tp not in _SCALARS:
        raise TypeError(f"{cls.__name__}.{name}: unsupported type {tp!r}")
    return FieldType(tp, optional, many)


def field_help(f: dataclasses.Field) -> str:
    """The help text declared with :func:`knob` (empty when the field has none)."""
    return str(f.metadata.get("help") or "")


def field_flag(f: dataclasses.Field) -> str:
    """The CLI/YAML spelling of a field: its ``flag`` metadata or the field name, with dashes."""
    return (f.metadata.get("flag") or f.name).replace("_", "-")


def _scalar(value: Any, base: type, where: str) -> Any:
    if base is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "1", "0"):
            return value.lower() in ("true", "yes", "1")
        raise ValueError(f"{where}: expected true or false, got {value!r}")
    if base is int:
        if isinstance(value, bool):
            raise ValueError(f"{where}: expected an integer, got {value!r}")
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
        raise ValueError(f"{where}: expected an integer, got {value!r}")
    if base is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise ValueError(f"{where}: expected a number, got {value!r}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # YAML reads `precision: 32` as a number
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected a string, got {value!r}")
    return value


def coerce(value: Any, ft: FieldType, where: str, choices: Sequence[Any] | None = None) -> Any:
    """Convert a JSON/YAML/command-line value to the field's type (see the module docstring)."""
    if value is None or (ft.optional and isinstance(value, str) and value.lower() in _NONE_WORDS):
        if ft.optional:
            return None
        raise ValueError(f"{where}: expected {ft.describe()}, got none")
    if ft.many:
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        out = tuple(_scalar(v, ft.base, where) for v in items)
    elif isinstance(value, (list, tuple, Mapping)):
        raise ValueError(f"{where}: expected {ft.describe()}, got {value!r}")
    else:
        out = _scalar(value, ft.base, where)
    if choices:
        for item in out if ft.many else (out,):
            if item not in choices:
                raise ValueError(f"{where}: {item!r} is not one of {', '.join(map(str, choices))}")
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def to_dict(config: Any) -> dict[str, Any]:
    """A nested dict of plain JSON/YAML values (tuples become lists)."""
    return _plain(dataclasses.asdict(config))


def key_index(cls: type) -> dict[str, dataclasses.Field]:
    """Every accepted spelling of each field of ``cls`` (name, flag; dashes or underscores)."""
    index: dict[str, dataclasses.Field] = {}
    for f in dataclasses.fields(cls):
        for spelling in (f.name, field_flag(f)):
            index[spelling] = index[spelling.replace("-", "_")] = index[spelling.replace("_", "-")] = f
    return index


def from_dict(cls: type, raw: Mapping[str, Any], where: str = "") -> Any:
    """Build ``cls`` (nested sections included) from a mapping; see the module docstring.

    Errors name the key by its path from the top (``model.hidden_size``).
    """
    label = where or cls.__name__
    if not isinstance(raw, Mapping):
        raise ValueError(f"{label}: expected a mapping of field: value, got {type(raw).__name__}")
    index = key_index(cls)
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        f = index.get(str(key))
        if f is None:
            valid = ", ".join(f.name for f in dataclasses.fields(cls))
            raise ValueError(f"{label}: unknown key '{key}'; valid keys: {valid}")
        tp = hints(cls)[f.name]
        path = f"{where}.{f.name}" if where else f.name
        if is_section(tp):
            kwargs[f.name] = value if isinstance(value, tp) else from_dict(tp, value, path)
        else:
            for old, new in (f.metadata.get("legacy") or {}).items():
                if type(value) is type(old) and value == old:
                    value = new
            kwargs[f.name] = coerce(value, field_type(cls, f.name), path if where else f"{cls.__name__}.{f.name}",
                                    f.metadata.get("choices"))
    return cls(**kwargs)


def check_choices(config: Any) -> None:
    """Raise ValueError when a field declared with ``choices`` holds another value."""
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        choices = f.metadata.get("choices")
        if choices and value is not None:
            for item in value if isinstance(value, tuple) else (value,):
                if item not in choices:
                    raise ValueError(
                        f"{type(config).__name__}.{f.name}: {item!r} is not one of "
                        f"{', '.join(map(str, choices))}"
                    )
