"""Reading an .xlsx workbook for the XLSForm import with pyxform, ODK's reference reader:
each sheet's rows keyed by its header, and the workbook checked whole by pyxform."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, BinaryIO

from fieldapp.errors import InvalidInput

_MIDNIGHT = re.compile(r"\d{4}-\d{2}-\d{2} 00:00:00")  # how pyxform writes a date cell


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
    """One sheet's rows as pyxform read them: each a dict of header → text (headers in lower
    case, as the importer looks them up), numbered as Excel numbers them."""

    def __init__(self, name: str, header: list[str], rows: list[dict[str, Any]]) -> None:
        self.name = name
        self.header = [h.lower() for h in header]
        self.rows = [{k.lower(): _text(v) for k, v in row.items()} for row in rows]

    def records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        for number, record in enumerate(self.rows, start=2):
            if any(cell_text(value) for value in record.values()):
                yield number, record


def _text(value: Any) -> Any:
    """pyxform's text for a cell, with a day (a date cell) as the day alone and typographic
    quotes as plain ones, as pyxform cleans text before it reads an expression."""
    if isinstance(value, str):
        if _MIDNIGHT.fullmatch(value):
            return value[:10]
        from pyxform.parsing.sheet_headers import (  # type: ignore[import-untyped]
            clean_text_values,
        )

        return clean_text_values(value)
    return value


OLE2 = bytes.fromhex("d0cf11e0a1b11ae1")


def read_sheets(source: Path | str | bytes | BinaryIO) -> dict[str, Sheet]:
    """The workbook's sheets as pyxform's reader gives them (the one ODK's tools use: a
    sheet read to its content, however large its declared size; a duplicated column header
    refused), then checked whole by pyxform's XLSForm → JSON step: what pyxform refuses is
    refused here with its reason."""
    # Imported here, not at the top: only the office imports forms, the tablet never does.
    from pyxform.errors import PyXFormError  # type: ignore[import-untyped]
    from pyxform.xls2json import workbook_to_json  # type: ignore[import-untyped]
    from pyxform.xls2json_backends import get_xlsform  # type: ignore[import-untyped]

    if isinstance(source, bytes | bytearray):
        source = io.BytesIO(source)
    elif isinstance(source, str):
        source = Path(source)
    raw = source.read_bytes() if isinstance(source, Path) else source.read()
    # Many published forms are still Excel 97-2003 (.xls): told by the OLE2 signature, not
    # by the name, and read by pyxform's own .xls reader.
    kind = ".xls" if raw.startswith(OLE2) else ".xlsx"
    try:
        data = get_xlsform(io.BytesIO(raw), file_type=kind)
    except PyXFormError as exc:  # a duplicated header, or not a workbook at all
        unreadable = "not recognized as a supported type" in str(exc)
        raise XLSFormError(f"not a readable {kind} file" if unreadable
                           else f"pyxform refuses this XLSForm: {exc}") from exc
    except (OSError, ValueError, KeyError) as exc:
        raise XLSFormError(f"not a readable {kind} file: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - xlrd fails a damaged .xls with struct.error,
        # IndexError, AssertionError…: whatever it raises, the file cannot be read
        if kind != ".xls":
            raise
        raise XLSFormError(f"not a readable .xls file ({type(exc).__name__})") from exc
    if data.survey is None:
        raise XLSFormError("no 'survey' sheet")
    try:
        workbook_to_json(data, form_name="data", default_language="default", warnings=[])
    except PyXFormError as exc:
        raise XLSFormError(f"pyxform refuses this XLSForm: {exc}") from exc
    sheets = {}
    for name in ("survey", "choices", "settings", "external_choices"):
        rows = getattr(data, name)
        if rows is not None:
            header = [h for h in (getattr(data, f"{name}_header") or [{}])[0]]
            sheets[name] = Sheet(name, header, list(rows))
    return sheets
