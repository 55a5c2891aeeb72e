"""World English Bible and Reina-Valera 1909 verses, read offline from Debian's SWORD modules.

The texts are public domain and ship in the Debian packages ``sword-text-web``
(module ``engWEB2015eb``, versification ``nrsva``) and ``sword-text-sparv``
(module ``spaRV1909eb``, versification ``kjv``); ``pysword`` reads them.
``scripts/install_data.sh`` installs all three. Nothing is downloaded.

Markup handling: ``<note>...</note>`` (translators' footnotes) are dropped,
every other tag is replaced by a space, whitespace is collapsed and the spaces
that this leaves before closing punctuation (and after opening quotes) are
removed, so ``<w>beginning</w>, God`` becomes ``beginning, God``. Entries
longer than 1000 characters are appendices, not verses (the WEB attaches its
glossary to Revelation 22:21), and are dropped.

Books are named by their OSIS abbreviation (``Gen``, ``Matt``, ``Rev``).
Hold-out splits are made of whole books (:func:`split_books`), so that no
verse of a test book is seen in training.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from lstmkit.io import atomic_write_json

SWORD_ROOTS = ("/usr/share/sword", "/usr/local/share/sword")
ENGLISH_MODULE = ("engWEB2015eb", "nrsva", "sword-text-web")
SPANISH_MODULE = ("spaRV1909eb", "kjv", "sword-text-sparv")

MAX_VERSE_CHARS = 1000  # longer "verses" are appendices (the WEB glossary after Rev 22:21)
_NOTE = re.compile(r"<note\b[^>]*>.*?</note>", re.DOTALL)
_SELF_CLOSING_NOTE = re.compile(r"<note\b[^>]*/>")
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_SPACE_BEFORE_CLOSE = re.compile(r" ([,.;:!?\)\]’”»])")
_SPACE_AFTER_OPEN = re.compile(r"([\(\[“‘«¿¡]) ")


class BibleDataError(RuntimeError):
    """A SWORD module or ``pysword`` is missing; the message says how to install it."""


@dataclass(frozen=True)
class Verse:
    """One verse: OSIS book abbreviation, chapter and verse numbers (1-based), clean text."""

    book: str
    chapter: int
    verse: int
    text: str


def clean_osis(raw: str) -> str:
    """Turn one verse of OSIS markup into plain text (see the module docstring)."""
    text = _NOTE.sub(" ", raw)
    text = _SELF_CLOSING_NOTE.sub(" ", text)
    text = _TAG.sub(" ", text)
    text = _SPACE.sub(" ", text).strip()
    text = _SPACE_BEFORE_CLOSE.sub(r"\1", text)
    text = _SPACE_AFTER_OPEN.sub(r"\1", text)
    return text


def _module_dir(module: str, package: str) -> Path:
    roots = [os.environ["SWORD_PATH"]] if os.environ.get("SWORD_PATH") else list(SWORD_ROOTS)
    for root in roots:
        path = Path(root) / "modules" / "texts" / "ztext" / module
        if path.is_dir():
            return path
    raise BibleDataError(
        f"SWORD module {module!r} not found under {roots}; install it with "
        f"`apt-get install {package}` (scripts/install_data.sh does this)"
    )


def _canon_books(versification: str) -> list[tuple[str, list[int]]]:
    try:
        from pysword.canons import canons
    except ImportError as exc:  # pragma: no cover - exercised only without pysword
        raise BibleDataError("pysword is not installed; `pip install pysword`") from exc
    canon = canons[versification]
    return [(entry[1], list(entry[3])) for part in ("ot", "nt") for entry in canon[part]]


def protestant_books() -> list[str]:
    """The 66 books of the KJV canon in order, as OSIS abbreviations."""
    return [name for name, _ in _canon_books("kjv")]


def _cache_file(module: str, path: Path) -> Path:
    root = Path(os.environ.get("LSTMKIT_CACHE", Path.home() / ".cache" / "lstmkit"))
    stamp = max(int(f.stat().st_mtime) for f in path.iterdir())
    return root / f"bible-{module}-{stamp}-v1.json"


def _read_module(spec: tuple[str, str, str], books: list[str] | None) -> list[Verse]:
    """All verses of the requested books, from a JSON cache of the whole module when present.

    Decompressing a whole module takes about 30 s, so the first full read writes
    a cache (atomically) under ``$LSTMKIT_CACHE`` (default ``~/.cache/lstmkit``).
    """
    module, versification, package = spec
    path = _module_dir(module, package)
    wanted = set(protestant_books() if books is None else books)
    unknown = wanted - set(protestant_books())
    if unknown:
        raise ValueError(
            f"books: expected OSIS abbreviations such as 'Gen' or 'Rev', received unknown {sorted(unknown)}"
        )
    cache = _cache_file(module, path)
    if cache.is_file():
        rows = json.loads(cache.read_text(encoding="utf-8"))
        return [Verse(*row) for row in rows if row[0] in wanted]
    if books is not None:
        return _read_books(path, versification, wanted)
    verses = _read_books(path, versification, wanted)
    atomic_write_json(cache, [[v.book, v.chapter, v.verse, v.text] for v in verses], ensure_ascii=False,
                      indent=None)
    return verses


def _read_books(path: Path, versification: str, wanted: set[str]) -> list[Verse]:
    from pysword.bible import SwordBible

    bible = SwordBible(str(path), "ztext", versification)
    verses: list[Verse] = []
    for name, chapter_lengths in _canon_books(versification):
        if name not in wanted:
            continue
        for chapter, n_verses in enumerate(chapter_lengths, start=1):
            texts = list(bible.get_iter(books=[name], chapters=[chapter], clean=False))
            if len(texts) != n_verses:
                # pysword skips empty slots; fall back to verse-by-verse addressing.
                texts = [
                    "".join(bible.get_iter(books=[name], chapters=[chapter], verses=[v], clean=False))
                    for v in range(1, n_verses + 1)
                ]
            for number, raw in enumerate(texts, start=1):
                text = clean_osis(raw)
                if 0 < len(text) <= MAX_VERSE_CHARS:
                    verses.append(Verse(name, chapter, number, text))
    return verses


def load_english(books: list[str] | None = None) -> list[Verse]:
    """World English Bible verses (``books`` = OSIS abbreviations, default the 66 books)."""
    return _read_module(ENGLISH_MODULE, books)


def load_spanish(books: list[str] | None = None) -> list[Verse]:
    """Reina-Valera 1909 verses (``books`` = OSIS abbreviations, default the 66 books)."""
    return _read_module(SPANISH_MODULE, books)


def load_parallel(
    books: list[str] | None = None, max_chars: int = MAX_VERSE_CHARS
) -> list[tuple[Verse, Verse]]:
    """English-Spanish verse pairs aligned by (book, chapter, verse).

    Verses missing on either side are skipped, and so are pairs with a side
    longer than ``max_chars``.
    """
    if max_chars < 1:
        raise ValueError(f"max_chars: expected a positive integer, received {max_chars!r}")
    english = {(v.book, v.chapter, v.verse): v for v in load_english(books)}
    pairs = []
    for es in load_spanish(books):
        en = english.get((es.book, es.chapter, es.verse))
        if en is None or len(en.text) > max_chars or len(es.text) > max_chars:
            continue
        pairs.append((en, es))
    return pairs


def split_books(
    items: list, test_books: list[str], key=lambda item: item.book
) -> tuple[list, list]:
    """Split verses (or pairs, with ``key``) into (train, test) by whole books."""
    test = set(test_books)
    unknown = test - set(protestant_books())
    if unknown:
        raise ValueError(f"test_books: expected OSIS abbreviations, received unknown {sorted(unknown)}")
    train = [item for item in items if key(item) not in test]
    held = [item for item in items if key(item) in test]
    return train, held
