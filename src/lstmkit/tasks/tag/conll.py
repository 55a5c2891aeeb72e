"""CoNLL reading and writing moved to :mod:`lstmkit.text.conll` (the text/data layer, so data
loaders do not import from tasks); this module re-exports it for existing imports."""

from lstmkit.text.conll import (
    CONLLU_COLUMNS,
    FORMATS,
    Sentence,
    detect_format,
    read_conll,
    write_conll,
)

__all__ = ["Sentence", "read_conll", "write_conll", "CONLLU_COLUMNS", "detect_format", "FORMATS"]
