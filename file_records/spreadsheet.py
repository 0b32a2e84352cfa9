"""Spreadsheet-safe CSV cells, for every CSV the product writes (exports, `query --format csv`,
the users file) and reads back (remediation plans).

A cell that a spreadsheet would run as a formula (first character ``= + - @``, TAB or CR) is
prefixed with a single quote (OWASP "CSV injection"). So that the prefix can be undone exactly
(:func:`unneutralise_cell`, used when a plan is read back), a cell that already starts with a quote
is prefixed too; a spreadsheet shows it unchanged.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Union

FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
_QUOTE = "'"


def neutralise_cell(value: Any) -> Any:
    """Prefix a string starting with ``= + - @`` TAB or CR (or a quote) with a single quote.

    Non-strings are returned unchanged (numbers cannot carry a formula).
    """
    if isinstance(value, str) and value and (value[0] in FORMULA_TRIGGERS or value[0] == _QUOTE):
        return _QUOTE + value
    return value


def unneutralise_cell(value: Any) -> Any:
    """Undo :func:`neutralise_cell` on a cell read back from one of our CSV exports."""
    if (
        isinstance(value, str)
        and len(value) >= 2
        and value[0] == _QUOTE
        and (value[1] in FORMULA_TRIGGERS or value[1] == _QUOTE)
    ):
        return value[1:]
    return value


def read_csv_rows(path: Union[str, Path]) -> tuple[list[str], list[dict[str, str]]]:
    """Read one of our CSV exports back: header and rows with neutralisation undone."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        try:
            header = [unneutralise_cell(h).strip() for h in next(reader)]
        except StopIteration:
            return [], []
        rows = []
        for raw in reader:
            if not any(cell.strip() for cell in raw):
                continue
            rows.append({h: unneutralise_cell(raw[i]) if i < len(raw) else "" for i, h in enumerate(header)})
    return header, rows
