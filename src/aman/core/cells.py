"""Cells of the files a spreadsheet opens (CSV and XLSX: manifests, ledgers, permit lists,
an import's rejected rows). Names, notes and reasons come from people and operators, and a
spreadsheet runs a cell that starts with =, +, -, @ (or a tab or a carriage return before
one) as a formula (“CSV injection”): such a cell is written with an apostrophe in front,
which spreadsheets read as “this is text”. The registry's import reads such a cell back
without it (`unquoted`), so a rejected row corrected and uploaded again reads as it was."""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(text: str) -> str:
    """`text` as a cell a spreadsheet will not run."""
    return "'" + text if text.startswith(FORMULA_START) else text


def unquoted(text: str) -> str:
    """A cell written by `formula_safe`, as it was."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_START) else text
