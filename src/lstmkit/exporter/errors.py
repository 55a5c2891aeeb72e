"""The errors of an export, both ``ValueError`` so the command line prints one line."""

from __future__ import annotations


class ExportError(ValueError):
    """This module, option or input cannot be exported (the message says why)."""


class ExportMismatch(ExportError):
    """The exported program disagrees with PyTorch beyond the tolerance (nothing is written)."""
