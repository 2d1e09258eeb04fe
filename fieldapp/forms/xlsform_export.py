"""A FieldApp form definition written as an XLSForm (.xlsx), for a designer to edit in Excel.

    data = export_xlsform(definition)          # bytes of a workbook
    files = export_files(definition)           # the CSVs its pulldata() reads, by name
    import_xlsform(data, files=files).definition == definition

The workbook is an ordinary XLSForm (survey, choices and settings sheets, labels per language
as ``label::Chinese (zh)``) that pyxform accepts; what ODK has no word for is written in
FieldApp's own columns and lists (``xlsform_fieldapp.py``), so importing it gives back the
same definition. A designer edits labels, rules and choices in Excel and uploads the result
as the form's next version.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from fieldapp.forms.definition import METADATA_SOURCE
from fieldapp.forms.loader import load_definition
from fieldapp.forms.values import odk_text
from fieldapp.forms.xlsform_fieldapp import (
    HAZARD_LIST,
    PASS_FAIL_LIST,
    STANDARD_ANSWERS,
    TYPE_COLUMN,
    YES_NO_LIST,
)

LANGUAGE_NAMES = {"zh": "Chinese", "en": "English", "fr": "Français", "es": "Español",
                  "ar": "العربية", "ru": "Русский", "pt": "Português", "de": "Deutsch"}
TRANSLATED = ("label", "hint", "constraint_message")
# FieldApp type → XLSForm type, and the fieldapp_type that says which FieldApp type it was.
_PLAIN = {"text": "text", "integer": "integer", "decimal": "decimal", "date": "date",
          "time": "time", "datetime": "dateTime", "note": "note", "calculate": "calculate",
          "hidden": "hidden", "barcode": "barcode", "gps": "geopoint",
          "geotrace": "geotrace", "geoshape": "geoshape"}
_FIELDAPP_COLUMNS = ("unit", "previous", "source", "min_count", "max_count", "min_repeat",
                     "max_repeat", "photo_required_on_fail", "note_required_on_fail")

if TYPE_CHECKING:  # openpyxl is imported when a workbook is written: a fifth of a second
    from openpyxl import Workbook  # of every server start otherwise


def _languages(definition: Mapping[str, Any]) -> list[str]:
    """Every language the form writes, Chinese and English first."""
    found: set[str] = set()

    def texts(value: Any) -> Iterator[dict[str, Any]]:
        if isinstance(value, dict):
            yield value
            for inner in value.values():
                yield from texts(inner)
        elif isinstance(value, list):
            for inner in value:
                yield from texts(inner)

    for mapping in texts(definition):
        for key in ("label", "hint", "constraint_message", "title", "description"):
            if isinstance(mapping.get(key), dict):
                found.update(mapping[key])
    for spec in definition.get("hazard_levels", {}).values():
        found.update(k for k in spec if k in ("zh", "en"))
    for label in definition.get("answers", {}).values():
        found.update(label)
    return sorted(found, key=lambda code: ({"zh": 0, "en": 1}.get(code, 2), code))


def _metadata(item: dict[str, Any]) -> bool:
    """ODK's metadata question (start, deviceid…), written back as its own type."""
    return item["type"] == "hidden" and str(item.get("source", "")).startswith(METADATA_SOURCE)


def _column(base: str, code: str) -> str:
    return f"{base}::{LANGUAGE_NAMES.get(code, code)} ({code})"


def _flag(value: Any) -> str:
    return "yes" if value else "no"


class _Writer:
    def __init__(self, definition: Mapping[str, Any]) -> None:
        self.d = definition
        self.langs = _languages(definition)
        self.rows: list[dict[str, Any]] = []
        lists = definition.get("choice_lists", {})
        clash = [name for name in (YES_NO_LIST, PASS_FAIL_LIST, HAZARD_LIST) if name in lists]
        if clash:  # the import would take them for FieldApp's own
            raise ValueError(f"choice list names {clash} are FieldApp's own; rename them")

    def translated(self, row: dict[str, Any], base: str, texts: Any) -> None:
        for code, text in (texts or {}).items():
            row[_column(base, code)] = text

    def survey(self, items: list[dict[str, Any]]) -> None:
        for item in items:
            qtype = item["type"]
            if qtype in ("group", "repeat"):
                self.rows.append(self.row(item, f"begin {qtype}"))
                self.survey(item["items"])
                self.rows.append({"type": f"end {qtype}"})
            else:
                self.rows.append(self.row(item, self.type_of(item)))

    def type_of(self, item: dict[str, Any]) -> str:
        qtype = item["type"]
        if qtype in ("select_one", "select_multiple"):
            return f"{qtype} {item['choices']}"
        if _metadata(item):
            return str(item["source"])[len(METADATA_SOURCE):]
        return {"yes_no": f"select_one {YES_NO_LIST}",
                "pass_fail_na": f"select_one {PASS_FAIL_LIST}",
                "photo": "image", "signature": "image", "meter_reading": "decimal",
                "audio": "audio", "video": "video",
                }.get(qtype) or _PLAIN[qtype]

    def row(self, item: dict[str, Any], xls_type: str) -> dict[str, Any]:
        qtype = item["type"]
        row: dict[str, Any] = {"type": xls_type, "name": item["key"]}
        for base in TRANSLATED:
            self.translated(row, base, item.get(base))
        if qtype in ("meter_reading", "photo", "audio", "video"):
            row[TYPE_COLUMN] = qtype
        elif qtype == "select_one" and self._looks_built_in(item["choices"]):
            row[TYPE_COLUMN] = "select_one"
        appearance = item.get("appearance", "")
        if qtype == "signature":
            appearance = " ".join(filter(None, ["signature", appearance]))
        if appearance:
            row["appearance"] = appearance
        if "required" in item:
            required = item["required"]
            row["required"] = required if isinstance(required, str) else _flag(required)
        for column in ("relevant", "constraint", "calculation", "choice_filter",
                       "repeat_count"):
            if column in item:
                row[column] = item[column]
        if "default" in item:
            default = item["default"]
            row["default"] = (odk_text(default if isinstance(default, list) else [default])
                              if qtype in ("gps", "geotrace", "geoshape")
                              else " ".join(default) if isinstance(default, list)
                              else str(default))
        if "dynamic_default" in item:  # ODK writes both in one column: an expression is dynamic
            row["default"] = item["dynamic_default"]
        if "hazard_level_on_fail" in item:
            row["hazard_level"] = item["hazard_level_on_fail"]
            for flag in ("photo_required_on_fail", "note_required_on_fail"):
                row[flag] = _flag(item.get(flag))
        for column in ("unit", "previous", "source", "min_count", "max_count", "min_repeat",
                       "max_repeat"):
            if column in item and not (column == "source" and _metadata(item)):
                row[column] = item[column]
        return row

    def _looks_built_in(self, list_name: str) -> bool:
        """A select over exactly yes/no or pass/fail/na would import as FieldApp's own item."""
        values = {c["value"] for c in self.d.get("choice_lists", {}).get(list_name, [])}
        return values in ({"yes", "no"}, {"pass", "fail", "na"})

    def choices(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for name, entries in self.d.get("choice_lists", {}).items():
            for entry in entries:
                row = {"list_name": name, "name": entry["value"]}
                self.translated(row, "label", entry["label"])
                row.update({k: v for k, v in entry.items() if k not in ("value", "label")})
                out.append(row)
        used = {item["type"] for item in self._walk(self.d["items"])}
        answers = {**STANDARD_ANSWERS, **self.d.get("answers", {})}
        for list_name, values, kind in ((YES_NO_LIST, ("yes", "no"), "yes_no"),
                                        (PASS_FAIL_LIST, ("pass", "fail", "na"), "pass_fail_na")):
            if kind in used:
                for value in values:
                    row = {"list_name": list_name, "name": value}
                    self.translated(row, "label", answers[value])
                    out.append(row)
        for name, spec in self.d.get("hazard_levels", {}).items():
            row = {"list_name": HAZARD_LIST, "name": name, "deadline_days": spec["deadline_days"]}
            self.translated(row, "label", {k: v for k, v in spec.items() if k in ("zh", "en")})
            out.append(row)
        return out

    def _walk(self, items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for item in items:
            yield item
            yield from self._walk(item.get("items", []))

    def settings(self) -> dict[str, Any]:
        row: dict[str, Any] = {"form_id": self.d["code"], "version": self.d["version"]}
        self.translated(row, "form_title", self.d["title"])
        self.translated(row, "description", self.d.get("description"))
        if self.d.get("default_language"):  # as the language columns name it
            code = self.d["default_language"]
            row["default_language"] = f"{LANGUAGE_NAMES.get(code, code)} ({code})"
        return row

    def header(self, rows: list[dict[str, Any]], first: tuple[str, ...]) -> list[str]:
        """The columns in a designer's order: type and name, the texts language by language,
        the rules, then FieldApp's own; only those some row fills."""
        seen = list(dict.fromkeys(k for row in rows for k in row))
        ordered = [c for c in first if c in seen]
        for base in (*TRANSLATED, "form_title", "description"):
            ordered += [_column(base, code) for code in self.langs
                        if _column(base, code) in seen]
        ordered += [c for c in ("required", "relevant", "constraint", "calculation", "default",
                                "choice_filter", "repeat_count", "appearance", "hazard_level",
                                TYPE_COLUMN, *_FIELDAPP_COLUMNS) if c in seen]
        return ordered + [c for c in seen if c not in ordered]


def _sheet(book: Workbook, title: str, header: list[str], rows: list[dict[str, Any]]) -> None:
    from openpyxl import styles, utils

    sheet = book.create_sheet(title)
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(column) for column in header])
    for cell in sheet[1]:
        cell.font = styles.Font(bold=True)
    sheet.freeze_panes = "A2"
    for number, column in enumerate(header, start=1):  # wide enough to read the labels
        longest = max((len(str(r.get(column) or "")) for r in rows), default=0)
        sheet.column_dimensions[utils.get_column_letter(number)].width = min(
            60, max(10, len(column) + 2, longest + 2))


def export_files(definition: Mapping[str, Any]) -> dict[str, bytes]:
    """The CSV files the form reads with pulldata(), by file name, to upload with the
    workbook (UTF-8 with its mark, so Excel opens the Chinese in them right)."""
    files = {}
    for name, rows in definition.get("data", {}).items():
        out = io.StringIO()
        header = list(dict.fromkeys(k for row in rows for k in row))
        writer = csv.DictWriter(out, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        files[f"{name}.csv"] = out.getvalue().encode("utf-8-sig")
    return files


def export_xlsform(definition: Mapping[str, Any]) -> bytes:
    """The definition as an .xlsx XLSForm. A definition that does not load is refused
    (FormDefinitionError), and so is one whose own lists bear FieldApp's names (ValueError)."""
    load_definition(definition)
    writer = _Writer(definition)
    writer.survey(definition["items"])
    choices = writer.choices()
    settings = writer.settings()
    from openpyxl import Workbook

    book = Workbook()
    for blank in book.worksheets:  # the sheet a new workbook starts with
        book.remove(blank)
    _sheet(book, "survey", writer.header(writer.rows, ("type", "name")), writer.rows)
    if choices:
        _sheet(book, "choices", writer.header(choices, ("list_name", "name")), choices)
    _sheet(book, "settings", writer.header([settings], ("form_id", "version")), [settings])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
