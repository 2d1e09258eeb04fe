"""Reading an .xlsx workbook for the XLSForm import: each sheet's rows keyed by its header."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, BinaryIO

from fieldapp.errors import InvalidInput

EMPTY_RUN = 60  # empty rows in a row that end a sheet's content (pyxform's rule)


class XLSFormError(InvalidInput):
    """A file that is not an XLSForm at all (no survey sheet, no type column, not .xlsx)."""

    def __init__(self, problem: str) -> None:
        super().__init__("bad_xlsform", problem, problem=problem)


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value).strip()


class Sheet:
    def __init__(self, name: str, rows: list[tuple[Any, ...]]) -> None:
        self.name = name
        self.header = [cell_text(h).lower() for h in rows[0]] if rows else []
        self.rows = rows[1:]

    def records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        for number, row in enumerate(self.rows, start=2):
            record = {h: row[i] for i, h in enumerate(self.header) if h and i < len(row)}
            if any(cell_text(value) for value in record.values()):
                yield number, record


def _content(ws: Any) -> list[tuple[Any, ...]]:
    """A sheet's rows up to its last filled one, as wide as its header: a sheet's declared
    size (a million rows once something touched row 1,000,000) says nothing of its content,
    and reading to it took a minute. As pyxform reads: after ``EMPTY_RUN`` empty rows in a
    row the content has ended; empty rows inside it are kept, so row numbers stay Excel's."""
    rows = ws.iter_rows(values_only=True)
    header = list(next(rows, ()))
    while header and not cell_text(header[-1]):
        header.pop()
    kept: list[tuple[Any, ...]] = [tuple(header)]
    empty = 0
    for row in ws.iter_rows(min_row=2, max_col=max(len(header), 1), values_only=True):
        if any(cell_text(v) for v in row):
            kept.extend([()] * empty)
            kept.append(row)
            empty = 0
        elif (empty := empty + 1) > EMPTY_RUN:
            break
    return kept if header else []


def read_sheets(source: Path | str | bytes | BinaryIO) -> dict[str, Sheet]:
    # Imported here, not at the top: only the office imports forms, the tablet never does.
    from openpyxl import load_workbook

    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a file that is not .xlsx
        raise XLSFormError(f"not a readable .xlsx file: {exc}") from exc
    try:
        sheets = {ws.title.strip().lower(): Sheet(ws.title, _content(ws))
                  for ws in workbook.worksheets}
    finally:
        workbook.close()
    if "survey" not in sheets:
        raise XLSFormError("no 'survey' sheet")
    return sheets
