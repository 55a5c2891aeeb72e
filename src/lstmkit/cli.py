"""The ``lstmkit`` command line: argument parsing only.

Every subcommand lives in ``lstmkit.commands.<name>`` (listed in
:data:`COMMANDS`) and registers its parser(s) with ``register(subparsers)``,
setting ``func(args) -> int``. Errors in the user's input that the library
reports (``ValueError``, ``TypeError``, ``FileNotFoundError``,
:class:`~lstmkit.train.ModelLoadError`) are printed as one line
``lstmkit: error: ...`` and the exit status is 2; so is a missing optional
dependency (``lstmkit: error: ... pip install 'lstmkit[train]'``, see
:mod:`lstmkit._extras`); anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from lstmkit import __version__
from lstmkit._extras import MissingExtra, missing_message

COMMANDS = ("demo", "generate", "translate", "forecast", "classify", "tag", "detect", "bench")

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand of :data:`COMMANDS` registered."""
    parser = argparse.ArgumentParser(
        prog="lstmkit",
        description="The LSTM family, exactly and fast, and the pipelines that put it to work.",
    )
    parser.add_argument("--version", action="version", version=f"lstmkit {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"lstmkit.commands.{name}").register(subparsers)
    return parser


def _error(message: object) -> int:
    text = " ".join(str(message).split()) or "unknown error"
    print(f"lstmkit: error: {text}", file=sys.stderr)
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        from lstmkit.commands._common import apply_yaml_defaults

        parser = build_parser()
        apply_yaml_defaults(parser, argv)
        args = parser.parse_args(argv)
        func = getattr(args, "func", None)
        if func is None:  # a command group given without its subcommand
            parser.parse_args([*argv, "--help"])
            return EXIT_USAGE
        status = func(args)
    except MissingExtra as exc:
        return _error(exc)
    except ModuleNotFoundError as exc:  # an optional dependency: one line naming the extra
        hint = missing_message(exc.name or "", "the command line")
        if hint is None:
            raise
        return _error(hint)
    except FileNotFoundError as exc:
        return _error(exc.strerror and exc.filename and f"{exc.strerror}: '{exc.filename}'" or exc)
    except (ValueError, TypeError) as exc:  # lstmkit.train.ModelLoadError is a ValueError
        return _error(exc)
    except KeyboardInterrupt:
        print("lstmkit: interrupted", file=sys.stderr)
        return 130
    return int(status or 0)


if __name__ == "__main__":
    sys.exit(main())
