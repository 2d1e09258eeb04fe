"""CSV for spreadsheets, every export through one writer: a text cell that a spreadsheet
would run as a formula (it begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return) is written with a leading ``'``, so Excel or WPS shows what a technician or a
customer typed instead of executing it (a ``=HYPERLINK(...)`` in a name, a DDE command).
Numbers stay numbers: only text is ever a formula someone typed.

    writer = SafeWriter(out)          # as csv.writer
    writer.writerows(rows)
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, TextIO

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The cell as a spreadsheet may open it: formula-like text prefixed with ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class SafeWriter:
    """``csv.writer`` whose every text cell goes through ``safe_cell``."""

    def __init__(self, out: TextIO) -> None:
        self._writer = csv.writer(out)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
