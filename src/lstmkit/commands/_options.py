"""Command-line options generated from a task's config dataclasses, YAML configs, --print-config.

A subcommand built with :func:`command` gets

* one flag per field of every config section (``model``, ``data``, ``train``):
  ``--hidden-size``, ``--season-length``, ``--epochs`` ...; the help text is the
  field's ``knob(help=...)`` (:data:`TRAIN_HELP` for :class:`TrainConfig`) with
  its default printed once;
* its own options (``--data``, ``--out``, ``--val-data`` ...) declared with
  :meth:`Command.option`;
* ``--config FILE.yaml``: a mapping with the sections as nested mappings
  (``model: {hidden_size: 64}``) and the command's options at the top level
  (``val-data: val.csv``). Flat keys naming a section field (``hidden-size: 64``,
  the 0.1 layout) are read too. The input file of ``--data`` cannot be a
  top-level key (``data:`` is the data section): give it on the command line;
* ``--print-config``: print the effective configuration as YAML (loadable with
  ``--config``) and exit;
* deprecated spellings from an alias table, which still work and print a
  one-line notice.

Precedence: the dataclass default < the task's default (``TRAIN_DEFAULTS``) <
the YAML file < the command line. Before the command runs, the sections are
built into the task's config and a :class:`~lstmkit.train.TrainConfig`
(``args.config_obj``, ``args.train_config``); every value is validated by the
dataclasses, so a bad value is a one-line error naming the field.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lstmkit.tasks import configs
from lstmkit.tasks.flags import TRAIN_CHOICES, TRAIN_FLAGS, TRAIN_HELP, command_line  # noqa: F401 (re-exported)
from lstmkit.tasks.flags import show as _show
from lstmkit.tasks.flags import train_meta as _train_meta

SPEC_KEY = "_options_spec"



class CommandError(ValueError):
    """A bad command line or YAML config (printed as one ``lstmkit: error:`` line)."""


@dataclass
class Option:
    """A command option outside the config sections (``--data``, ``--out``, ...)."""

    flag: str
    dest: str
    help: str
    default: Any = None
    type: configs.FieldType = field(default_factory=lambda: configs.FieldType(str, optional=True))
    choices: tuple[Any, ...] | None = None
    required: bool = False


@dataclass
class Spec:
    """What :func:`resolve` needs: the sections, their defaults, the options."""

    config_cls: type | None
    train_defaults: dict[str, Any] | None
    options: list[Option] = field(default_factory=list)
    fields: dict[str, tuple[str, str]] = field(default_factory=dict)  # flag -> (section, field name)

    def section_types(self) -> dict[str, type]:
        out = {}
        if self.config_cls is not None:
            out = {f.name: configs.hints(self.config_cls)[f.name]
                   for f in dataclasses.fields(self.config_cls)
                   if configs.is_section(configs.hints(self.config_cls)[f.name])}
        if self.train_defaults is not None:
            from lstmkit.train.config import TrainConfig

            out["train"] = TrainConfig
        return out



class _Deprecated(argparse.Action):
    """An old spelling: stores like the new one, prints a one-line notice."""

    def __init__(self, option_strings, dest, new: str, inner: str = "store", **kwargs):
        self.new, self.inner = new, inner
        if inner == "bool":
            kwargs["nargs"] = 0
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"lstmkit: warning: {option_string} is deprecated and will be removed in the next "
              f"release; use {self.new}", file=sys.stderr)
        if self.inner == "bool":
            values = not str(option_string).startswith("--no-")
        setattr(namespace, self.dest, values)


class Command:
    """Builds one subcommand (see the module docstring)."""

    def __init__(self, subparsers: Any, name: str, *, help: str, func: Callable[[argparse.Namespace], int],
                 description: str | None = None, config: type | None = None,
                 train_defaults: Mapping[str, Any] | None = None) -> None:
        self.parser = subparsers.add_parser(name, help=help, description=description or help)
        self.spec = Spec(config, dict(train_defaults) if train_defaults is not None else None)
        self._flags: dict[str, argparse.Action] = {}
        self.parser.add_argument("--config", metavar="FILE.yaml", default=None,
                                 help="YAML file of options: model/data/train sections and this "
                                      "command's options (the command line overrides it)")
        self.parser.add_argument("--print-config", action="store_true",
                                 help="print the effective configuration as YAML and exit")
        self.parser.set_defaults(func=lambda args: _run(self.spec, func, args), **{SPEC_KEY: self.spec})
        for section, cls in self.spec.section_types().items():
            self._add_section(section, cls)

    def option(self, flag: str, *, help: str, default: Any = None, type: type = str, many: bool = False,
               choices: tuple[Any, ...] | None = None, required: bool = False,
               show_default: bool = True) -> Command:
        """Add a command option (not part of a config section); ``show_default=False`` when
        ``help`` already says how it defaults (or that it is needed)."""
        dest = flag.lstrip("-").replace("-", "_")
        ft = configs.FieldType(type, optional=default is None, many=many)
        self.spec.options.append(Option(flag, dest, help, default, ft, choices, required))
        shown = "required" if required else f"default: {_show(default)}"
        self._add(flag, dest, f"{help} ({shown})" if show_default or required else help, ft, choices,
                  group=None)
        return self

    def aliases(self, table: Mapping[str, str]) -> Command:
        """Old spellings -> new flags; the old ones still work and print a deprecation notice."""
        for old, new in table.items():
            action = self._flags[new]
            kind = "bool" if isinstance(action, argparse.BooleanOptionalAction) else "store"
            self.parser.add_argument(old, dest=action.dest, action=_Deprecated, new=new, inner=kind,
                                     nargs=None if kind == "bool" else action.nargs,
                                     default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        return self

    def _add_section(self, section: str, cls: type) -> None:
        group = self.parser.add_argument_group(section)
        defaults = dataclasses.asdict(cls())
        if section == "train":
            defaults.update(self.spec.train_defaults or {})
        for f in dataclasses.fields(cls):
            if section == "train":
                flag, text, choices = _train_meta(f)
            else:
                flag, text, choices = configs.field_flag(f), configs.field_help(f), f.metadata.get("choices")
            if f"--{flag}" in self._flags:
                raise ValueError(f"--{flag} is both {self.spec.fields[f'--{flag}']} and {section}.{f.name}")
            self.spec.fields[f"--{flag}"] = (section, f.name)
            ft = configs.field_type(cls, f.name)
            self._add(f"--{flag}", f"{section}.{f.name}", f"{text} (default: {_show(defaults[f.name])})",
                      ft, choices, group)

    def _add(self, flag: str, dest: str, text: str, ft: configs.FieldType, choices, group) -> None:
        target = group if group is not None else self.parser
        kwargs: dict[str, Any] = {"dest": dest, "default": argparse.SUPPRESS, "help": text}
        if ft.base is bool and not ft.many:
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["nargs"] = "*" if ft.many else None
            if choices:
                kwargs["metavar"] = "{" + ",".join(map(str, choices)) + "}"
            else:
                kwargs["metavar"] = flag.lstrip("-").replace("-", "_").upper()
        self._flags[flag] = target.add_argument(flag, **kwargs)


def command(subparsers: Any, name: str, **kwargs: Any) -> Command:
    """Start a subcommand (see :class:`Command`)."""
    return Command(subparsers, name, **kwargs)


# --------------------------------------------------------------------------- resolving
def load_yaml(path: str) -> dict[str, Any]:
    """Read a YAML mapping; a missing file, bad YAML or a non-mapping is a CommandError."""
    from pathlib import Path

    import yaml

    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"--config: no such file '{file}'")
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CommandError(f"--config '{file}' is not valid YAML: {' '.join(str(exc).split())}") from None
    except UnicodeDecodeError as exc:
        raise CommandError(f"--config '{file}' is not valid UTF-8 (byte 0x{exc.object[exc.start]:02x} at "
                           f"offset {exc.start}); re-encode it as UTF-8") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise CommandError(f"--config '{file}': expected a mapping, got {type(data).__name__}")
    return data


def _split_yaml(spec: Spec, data: Mapping[str, Any], where: str) -> tuple[dict, dict]:
    """YAML -> ({section: {field: value}}, {option dest: value})."""
    sections = spec.section_types()
    by_option = {}
    for opt in spec.options:
        for spelling in (opt.dest, opt.flag.lstrip("-")):
            by_option[spelling] = opt
    values: dict[str, dict[str, Any]] = {name: {} for name in sections}
    options: dict[str, Any] = {}
    for key, value in data.items():
        name = str(key).replace("-", "_")
        if name in sections and isinstance(value, Mapping):
            index = configs.key_index(sections[name])
            if name == "train":
                index.update({flag.replace("-", "_"): f for f in dataclasses.fields(sections[name])
                              for flag in [_train_meta(f)[0]]})
            for k, v in value.items():
                f = index.get(str(k)) or index.get(str(k).replace("-", "_"))
                if f is None:
                    valid = ", ".join(f.name for f in dataclasses.fields(sections[name]))
                    raise CommandError(f"{where}: unknown key '{k}' in section '{name}'; valid: {valid}")
                values[name][f.name] = v
        elif name in by_option or name.replace("_", "-") in by_option:
            options[(by_option.get(name) or by_option[name.replace("_", "-")]).dest] = value
        elif f"--{name.replace('_', '-')}" in spec.fields:
            section, fname = spec.fields[f"--{name.replace('_', '-')}"]
            values[section][fname] = value
        else:
            valid = sorted([*sections, *(o.flag.lstrip("-") for o in spec.options if o.dest not in sections)])
            raise CommandError(f"{where}: unknown key '{key}'; valid top-level keys: {', '.join(valid)}")
    return values, options


def resolve(spec: Spec, args: argparse.Namespace) -> dict[str, Any]:
    """Merge defaults, YAML and command line; set ``args.config_obj``, ``args.train_config`` and options.

    Returns the effective configuration as a YAML-ready dict.
    """
    yaml_values, yaml_options = ({}, {})
    if getattr(args, "config", None):
        yaml_values, yaml_options = _split_yaml(spec, load_yaml(args.config), f"--config '{args.config}'")
    sections = spec.section_types()
    merged: dict[str, dict[str, Any]] = {}
    for name in sections:
        given = {fname: getattr(args, f"{name}.{fname}") for fname in
                 (f.name for f in dataclasses.fields(sections[name])) if hasattr(args, f"{name}.{fname}")}
        base = dict(spec.train_defaults or {}) if name == "train" else {}
        merged[name] = {**base, **yaml_values.get(name, {}), **given}
    effective: dict[str, Any] = {}
    args.config_obj = args.train_config = None
    if spec.config_cls is not None:
        task_sections = {k: v for k, v in merged.items() if k != "train"}
        args.config_obj = configs.from_dict(spec.config_cls, task_sections)
        effective.update(configs.to_dict(args.config_obj))
    if "train" in sections:
        args.train_config = configs.from_dict(sections["train"], merged["train"], "train")
        effective["train"] = args.train_config.to_dict()
    for opt in spec.options:
        raw = getattr(args, opt.dest) if hasattr(args, opt.dest) else yaml_options.get(opt.dest, opt.default)
        value = configs.coerce(raw, opt.type, opt.flag, opt.choices)
        setattr(args, opt.dest, value)
        if value is not None and opt.dest not in sections:
            effective[opt.flag.lstrip("-")] = list(value) if isinstance(value, tuple) else value
    return effective


def _run(spec: Spec, func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    effective = resolve(spec, args)
    if args.print_config:
        import yaml

        sys.stdout.write(yaml.safe_dump(effective, sort_keys=False))
        return 0
    missing = [opt.flag for opt in spec.options if opt.required and getattr(args, opt.dest) is None]
    if missing:
        raise CommandError(f"the following arguments are required: {', '.join(missing)} "
                           "(on the command line or in --config)")
    return func(args)
