"""The ``lstmkit`` command line: argument parsing only.

Every subcommand lives in ``lstmkit.commands.<name>`` (listed in
:data:`COMMANDS`) and registers its parser(s) with ``register(subparsers)``,
setting ``func(args) -> int``.

Errors: a mistake in what the user passed in ends in one line
``lstmkit: error: ...`` on stderr and exit status 2, never a traceback:

* ``ValueError`` (the library's input checks, :class:`~lstmkit.train.ModelLoadError`,
  ``UnicodeDecodeError``) and ``csv.Error`` / YAML errors;
* ``OSError`` and its kinds (``FileNotFoundError``, ``IsADirectoryError``,
  ``FileExistsError``, ``PermissionError``, ``EBUSY``, ...), with the file name;
* ``MemoryError`` and allocator failures (``RuntimeError`` "can't allocate memory",
  ``torch.OutOfMemoryError``), with what was being allocated.

``TypeError`` is *not* among them: the library turns type problems in user input
into ``ValueError`` at its boundary, so a ``TypeError`` here is a bug and keeps its
traceback. A missing optional dependency is one line too (``lstmkit: error: ...
pip install 'lstmkit[train]'``, see :mod:`lstmkit._extras`). ``--debug`` (anywhere on the command line) or ``LSTMKIT_DEBUG=1`` shows
the traceback of every error. ``--threads N`` (before the command) sets torch's CPU
threads; without it a busy machine gets fewer (:mod:`lstmkit.commands._threads`; a note
says so on a terminal). Ctrl-C (SIGINT) prints ``lstmkit: interrupted`` and
exits 130, also while Lightning trains: Lightning catches ``KeyboardInterrupt``
itself (2.x: a "graceful shutdown" then ``sys.exit(1)``), so during :func:`main`
SIGINT raises :class:`Interrupted`, which Lightning tears down and re-raises.
"""

from __future__ import annotations

import argparse
import csv
import errno
import importlib
import os
import signal
import sys
import threading
from collections.abc import Sequence

from lstmkit import __version__
from lstmkit._extras import MissingExtra, missing_message

COMMANDS = ("demo", "generate", "translate", "forecast", "classify", "tag", "detect", "music", "seqclass",
            "speech", "video", "inspect", "bench", "export")

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand of :data:`COMMANDS` registered."""
    parser = argparse.ArgumentParser(
        prog="lstmkit",
        description="The LSTM family, exactly and fast, and the pipelines that put it to work.",
    )
    parser.add_argument("--version", action="version", version=f"lstmkit {__version__}")
    parser.add_argument(DEBUG_FLAG, action="store_true",
                        help="show the full traceback of any error (also LSTMKIT_DEBUG=1)")
    parser.add_argument("--threads", dest="cli_threads", metavar="N", default=None,
                        help="CPU threads for torch (default: torch's count, fewer when the machine is busy; "
                             "also LSTMKIT_THREADS=N)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"lstmkit.commands.{name}").register(subparsers)
    return parser


EXIT_INTERRUPTED = 130
DEBUG_FLAG = "--debug"


class Interrupted(BaseException):
    """SIGINT during :func:`main` (not a ``KeyboardInterrupt``, which Lightning turns into ``exit(1)``)."""


def _error(message: object) -> int:
    text = " ".join(str(message).split()) or "unknown error"
    print(f"lstmkit: error: {text}", file=sys.stderr)
    return EXIT_USAGE


def _os_message(exc: OSError) -> str:
    """``strerror: 'file'`` (both files for a rename), else the exception's own text."""
    what = exc.strerror or (errno.errorcode.get(exc.errno or 0) if exc.errno else None)
    if what and exc.filename is not None:
        files = f"'{os.fsdecode(exc.filename)}'"
        if exc.filename2 is not None:
            files += f" -> '{os.fsdecode(exc.filename2)}'"
        return f"{what}: {files}"
    return str(exc) or type(exc).__name__


def _is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and ("can't allocate memory" in text or "out of memory" in text)


def _user_error_message(exc: BaseException) -> str | None:
    """The one-line message for an error in the user's input, or None for a bug."""
    if isinstance(exc, UnicodeDecodeError):
        return f"input is not valid {exc.encoding} (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"
    if isinstance(exc, ValueError):  # the library's checks; ModelLoadError is a ValueError
        return str(exc)
    if isinstance(exc, OSError):
        return _os_message(exc)
    if _is_out_of_memory(exc):
        detail = " ".join(str(exc).split())
        return f"out of memory: {detail}" if detail else "out of memory"
    if isinstance(exc, csv.Error):
        return f"malformed CSV: {exc}"
    yaml = sys.modules.get("yaml")
    if yaml is not None and isinstance(exc, yaml.YAMLError):
        return f"not valid YAML: {exc}"
    return None


def _raise_interrupted(signum, frame) -> None:
    signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C: KeyboardInterrupt
    raise Interrupted()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    head = argv[: argv.index("--")] if "--" in argv else argv
    debug = DEBUG_FLAG in head or os.environ.get("LSTMKIT_DEBUG", "") not in ("", "0")
    if DEBUG_FLAG in head:
        argv.remove(DEBUG_FLAG)
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, _raise_interrupted) if in_main_thread else None
    try:
        return _run(argv, debug)
    finally:
        if in_main_thread:  # None: the old handler was not set from Python; restore the default
            signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)


def _run(argv: list[str], debug: bool) -> int:
    try:
        from lstmkit.commands._common import apply_yaml_defaults

        parser = build_parser()
        apply_yaml_defaults(parser, argv)
        args = parser.parse_args(argv)
        func = getattr(args, "func", None)
        if func is None:  # a command group given without its subcommand
            parser.parse_args([*argv, "--help"])
            return EXIT_USAGE
        if getattr(args, "command", None) != "bench":   # the benchmark sets its own thread counts
            from lstmkit.commands import _threads

            note = _threads.apply(getattr(args, "cli_threads", None))
            if note and sys.stderr.isatty():      # a hint for a person, not for logs or scripts
                print(note, file=sys.stderr)
        status = func(args)
    except MissingExtra as exc:
        return _error(exc)
    except ModuleNotFoundError as exc:  # an optional dependency: one line naming the extra
        hint = missing_message(exc.name or "", "the command line")
        if hint is None:
            raise
        return _error(hint)
    except (KeyboardInterrupt, Interrupted):
        if debug:
            raise
        print("lstmkit: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        message = _user_error_message(exc)
        if message is None or debug:
            raise
        return _error(message)
    return int(status or 0)


if __name__ == "__main__":
    sys.exit(main())
