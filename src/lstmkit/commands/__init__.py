"""Subcommands of the ``lstmkit`` command line, one module each.

Each module listed in :data:`lstmkit.cli.COMMANDS` exposes
``register(subparsers)``; shared helpers (``--config`` YAML, training
options, the end summary) live in :mod:`lstmkit.commands._common`.
"""
