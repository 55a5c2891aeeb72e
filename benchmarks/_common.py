"""What every benchmark script shares: where its results go.

A full run writes ``benchmarks/results/NAME.json`` (committed); a ``--quick``
smoke run writes ``NAME.quick.json`` beside it (git-ignored), also when
``--out`` names a ``.json`` file, so that a smoke run can never overwrite
committed full-run results. Every script defines ``build_parser()`` and
``output_path(args)``; ``tests/benchmarks/test_output_paths.py`` checks them.
"""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
QUICK_SUFFIX = ".quick.json"


def result_path(name: str, out: str | Path | None, quick: bool) -> Path:
    """``out`` (default ``results/NAME.json``), renamed ``*.quick.json`` for a quick run."""
    path = Path(out) if out is not None else RESULTS / f"{name}.json"
    if quick and not path.name.endswith(QUICK_SUFFIX):
        stem = path.name[: -len(".json")] if path.name.endswith(".json") else path.name
        path = path.with_name(stem + QUICK_SUFFIX)
    return path
