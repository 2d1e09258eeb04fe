"""Import an ODK XLSForm (.xlsx) into a FieldApp form definition, reporting what is lost.

    result = import_xlsform("gas_survey.xlsx")
    result.definition        # a FieldApp definition dict (loads with load_definition)
    result.problems          # every row that was not translated, with sheet, row and why

Sheets: ``survey`` (type, name, label, hint, required, relevant, constraint,
constraint_message, calculation, default, choice_filter, appearance; begin/end group and
repeat), ``choices`` (list_name, name, label, and any extra columns for choice filters) and
``settings`` (form_id, version, form_title, default_language). Labels may be plain or per
language (``label::Chinese (zh)``, ``label::English (en)``); FieldApp keeps zh and en.

A row that cannot be translated faithfully is left out (a group with everything in it), and
so is every question that depends on something left out, each with its own report line:
a form that silently loses a relevance rule would ask the wrong questions in a kitchen.
Select lists whose names are exactly yes/no or pass/fail/na become FieldApp's yes_no and
pass_fail_na, and an optional ``hazard_level`` column (general/serious/critical) gives
pass/fail items their hazard level, so utilities can add FieldApp's rules to their forms.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, BinaryIO

from fieldapp.errors import InvalidInput
from fieldapp.forms.expr import NAME_RE, SUPPORTED_FUNCTIONS
from fieldapp.forms.loader import FormDefinitionError, load_definition

SIMPLE_TYPES = {"text": "text", "string": "text", "integer": "integer", "int": "integer",
                "decimal": "decimal", "date": "date", "time": "time", "note": "note",
                "calculate": "calculate", "hidden": "hidden", "barcode": "barcode",
                "geopoint": "gps", "image": "photo"}
METADATA_TYPES = {"start", "end", "today", "deviceid", "username", "phonenumber", "simserial",
                  "subscriberid", "email", "audit", "start-geopoint", "imei"}
LANGUAGES = {"zh": "zh", "chinese": "zh", "中文": "zh", "汉语": "zh", "en": "en",
             "english": "en", "英文": "en"}
EXPRESSION_COLUMNS = ("relevant", "constraint", "calculation", "required", "choice_filter")
UNSUPPORTED_COLUMNS = ("repeat_count", "read_only", "parameters", "trigger")
STANDARD_LEVELS = {
    "general": {"zh": "一般隐患", "en": "General", "deadline_days": 30},
    "serious": {"zh": "较大隐患", "en": "Serious", "deadline_days": 7},
    "critical": {"zh": "重大隐患", "en": "Critical", "deadline_days": 1},
}
_YES = ("yes", "true", "true()", "1")
_NO = ("no", "false", "false()", "0")
_FUNCTION_CALL = re.compile(r"(?<![\w$.{-])([A-Za-z_][\w:.-]*)\s*\(")


class XLSFormError(InvalidInput):
    """A file that is not an XLSForm at all (no survey sheet, no type column, not .xlsx)."""

    def __init__(self, problem: str) -> None:
        super().__init__("bad_xlsform", problem, problem=problem)


@dataclass(frozen=True)
class ImportProblem:
    sheet: str
    row: int  # as Excel numbers it (the header is row 1)
    column: str | None
    message: str


@dataclass(frozen=True)
class ImportResult:
    definition: dict[str, Any]
    problems: tuple[ImportProblem, ...]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value).strip()


def _kind(type_text: str) -> str:
    """``begin_group``/``begin group`` → "begin group"; ``select_one my_list`` keeps the list."""
    words = type_text.split()
    if not words:
        return ""
    head = words[0].lower().replace("_", " ")
    if head in ("begin", "end", "select") and len(words) > 1:
        head, words = f"{head} {words[1].lower()}", words[1:]
    return " ".join([head, *words[1:]])


def _code_only(expression: str) -> str:
    """The expression without its string literals (a '/' or '(' inside quotes is text)."""
    return re.sub(r"'[^']*'|\"[^\"]*\"", "''", expression)


def _language(suffix: str) -> str | None:
    m = re.search(r"\(([^)]+)\)", suffix)
    for candidate in ((m.group(1),) if m else ()) + (suffix.split("(")[0],):
        code = candidate.strip().lower()
        if code in LANGUAGES or code.split("-")[0] in LANGUAGES:
            return LANGUAGES.get(code) or LANGUAGES[code.split("-")[0]]
    return None


def _guess_language(text: str, default: str | None) -> str:
    if default:
        return default
    return "zh" if re.search(r"[\u4e00-\u9fff]", text) else "en"


class _Sheet:
    def __init__(self, name: str, rows: list[tuple[Any, ...]]) -> None:
        self.name = name
        self.header = [_text(h).lower() for h in rows[0]] if rows else []
        self.rows = rows[1:]

    def records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        for number, row in enumerate(self.rows, start=2):
            record = {h: row[i] for i, h in enumerate(self.header) if h and i < len(row)}
            if any(_text(value) for value in record.values()):
                yield number, record


class _Importer:
    def __init__(self, sheets: dict[str, _Sheet]) -> None:
        self.sheets = sheets
        self.problems: list[ImportProblem] = []
        self.rows: dict[str, int] = {}  # question key → survey row
        self.lists: dict[str, list[dict[str, Any]]] = {}
        self.default_language: str | None = None
        self.uses_hazards = False

    def report(self, sheet: str, row: int, column: str | None, message: str) -> None:
        self.problems.append(ImportProblem(sheet, row, column, message))

    def localized(self, record: dict[str, Any], base: str) -> dict[str, str] | None:
        found: dict[str, str] = {}
        for column, value in record.items():
            text = _text(value)
            if not text:
                continue
            if column == base:
                found.setdefault(_guess_language(text, self.default_language), text)
            elif column.startswith(base + "::"):
                lang = _language(column[len(base) + 2:])
                if lang:
                    found[lang] = text
        return found or None

    def settings(self, code: str | None, version: int | None) -> dict[str, Any]:
        sheet = self.sheets.get("settings")
        record = next((r for _, r in sheet.records()), {}) if sheet else {}
        self.default_language = _language(_text(record.get("default_language")))
        form_id = code or re.sub(r"[^a-z0-9_]+", "_", _text(record.get("form_id")).lower())
        form_id = form_id.strip("_") if re.match(r"[a-z]", form_id or "") else "imported_form"
        raw_version = _text(record.get("version"))
        if version is None:
            version = int(raw_version) if raw_version.isdigit() and int(raw_version) else 1
            if raw_version and not raw_version.isdigit():
                self.report("settings", 2, "version", f"version {raw_version!r} is not a whole "
                                                      "number; version 1 is used")
        title = self.localized(record, "form_title") or {"zh": form_id, "en": form_id}
        return {"code": form_id, "version": version, "title": title}

    def choices(self) -> None:
        sheet = self.sheets.get("choices")
        if sheet is None:
            return
        for number, record in sheet.records():
            list_name, name = _text(record.get("list_name")), _text(record.get("name"))
            if not list_name or not name:
                self.report("choices", number, None, "a choice needs list_name and name")
                continue
            entries = self.lists.setdefault(list_name, [])
            if any(e["value"] == name for e in entries):
                self.report("choices", number, "name", f"duplicate choice {name!r} in "
                                                       f"{list_name}; left out")
                continue
            label = self.localized(record, "label") or {"zh": name}
            extra = {k: _text(v) for k, v in record.items()
                     if k not in ("list_name", "name") and not k.startswith(("label", "media"))
                     and re.fullmatch(NAME_RE, k) and _text(v)}
            entries.append({"value": name, "label": label, **extra})

    def survey(self) -> list[dict[str, Any]]:
        sheet = self.sheets["survey"]
        if "type" not in sheet.header or "name" not in sheet.header:
            raise XLSFormError("the survey sheet needs 'type' and 'name' columns")
        root: list[dict[str, Any]] = []
        stack: list[tuple[list[dict[str, Any]] | None, int, str]] = [(root, 1, "")]
        for number, record in sheet.records():
            kind = _kind(_text(record.get("type")))
            target = stack[-1][0]
            if kind in ("begin group", "begin repeat"):
                item = self.question(number, record, kind.split()[1], target is not None)
                stack.append((item["items"] if item is not None and target is not None else None,
                              number, kind.split()[1]))
                if item is not None and target is not None:
                    target.append(item)
                continue
            if kind in ("end group", "end repeat"):
                if len(stack) == 1:
                    self.report("survey", number, "type", f"{kind} without a begin")
                else:
                    stack.pop()
                continue
            item = self.question(number, record, kind, target is not None)
            if item is not None and target is not None:
                target.append(item)
        for _, number, kind in stack[1:]:
            self.report("survey", number, "type", f"begin {kind} is never ended; closed at the "
                                                  "end of the sheet")
        return root

    def question(self, number: int, record: dict[str, Any], kind: str,
                 kept: bool) -> dict[str, Any] | None:
        name = _text(record.get("name"))
        if not kept:
            self.report("survey", number, None, "inside a group or repeat that was left out")
            return None
        if kind in METADATA_TYPES:
            self.report("survey", number, "type", f"metadata {kind!r} is recorded by FieldApp "
                                                  "itself (time, device, user); row left out")
            return None
        qtype = self.question_type(number, kind, record)
        if qtype is None:
            return None
        if not re.fullmatch(NAME_RE, name):
            self.report("survey", number, "name", f"name {name!r} cannot be used as a key; "
                                                  "row left out")
            return None
        if name in self.rows:
            self.report("survey", number, "name", f"duplicate name {name!r} (first at row "
                                                  f"{self.rows[name]}); row left out")
            return None
        item: dict[str, Any] = {"key": name, "type": qtype[0], **qtype[1]}
        if not self.properties(number, record, item):
            return None
        self.rows[name] = number
        return item

    def question_type(self, number: int, kind: str, record: dict[str, Any]
                      ) -> tuple[str, dict[str, Any]] | None:
        appearance = _text(record.get("appearance")).lower()
        if kind in ("group", "repeat"):
            return kind, {"items": []}
        if kind == "image":
            return ("signature", {}) if "signature" in appearance else ("photo", {"max_count": 1})
        if kind in SIMPLE_TYPES:
            return SIMPLE_TYPES[kind], {}
        m = re.fullmatch(r"(select one|select multiple) (\S+)( or_other)?", kind)
        if m is None:
            self.report("survey", number, "type", f"type {_text(record.get('type'))!r} is not "
                                                  "supported; row left out")
            return None
        list_name = m.group(2)
        if m.group(3):
            self.report("survey", number, "type", "'or_other' is not supported: add an 'other' "
                                                  "choice and a text question; imported without")
        if list_name not in self.lists:
            self.report("survey", number, "type", f"choice list {list_name!r} is not on the "
                                                  "choices sheet; row left out")
            return None
        values = {c["value"] for c in self.lists[list_name]}
        if m.group(1) == "select one" and values == {"yes", "no"}:
            return "yes_no", {}
        if m.group(1) == "select one" and values == {"pass", "fail", "na"}:
            return "pass_fail_na", {}
        return m.group(1).replace(" ", "_"), {"choices": list_name}

    def properties(self, number: int, record: dict[str, Any], item: dict[str, Any]) -> bool:
        qtype = item["type"]
        for column in UNSUPPORTED_COLUMNS:
            if _text(record.get(column)):
                self.report("survey", number, column, f"{column} is not supported; ignored")
        for base, prop in (("label", "label"), ("hint", "hint"),
                           ("constraint_message", "constraint_message")):
            text = self.localized(record, base)
            if text:
                item[prop] = text
        if "label" not in item and qtype not in ("calculate", "hidden"):
            item["label"] = {"zh": item["key"]}
        if _text(record.get("appearance")):
            item["appearance"] = _text(record.get("appearance"))
        for column in EXPRESSION_COLUMNS:
            text = _text(record.get(column))
            if not text:
                continue
            if column == "required" and text.lower() in _YES + _NO:
                item["required"] = text.lower() in _YES
                continue
            code = _code_only(text)
            unsupported = [f for f in _FUNCTION_CALL.findall(code) if f not in SUPPORTED_FUNCTIONS]
            if unsupported or "/" in code:
                what = (f"function {unsupported[0]}() is" if unsupported
                        else "an XPath path (use ${name}) is")
                self.report("survey", number, column, f"{what} not supported in {text!r}; "
                                                      "row left out")
                return False
            item[column] = text
        default = _text(record.get("default"))
        if default:
            converted = self.default(number, qtype, default)
            if converted is None:
                return False
            item["default"] = converted
        level = _text(record.get("hazard_level")).lower()
        if level and qtype == "pass_fail_na":
            if level not in STANDARD_LEVELS:
                self.report("survey", number, "hazard_level", f"unknown hazard level {level!r}")
            else:
                item.update(hazard_level_on_fail=level, photo_required_on_fail=True,
                            note_required_on_fail=True)
                self.uses_hazards = True
        return True

    def default(self, number: int, qtype: str, text: str) -> Any:
        if "${" in text or "(" in text:
            self.report("survey", number, "default", f"dynamic default {text!r} is not "
                                                     "supported; row left out")
            return None
        try:
            return {"integer": int, "decimal": float, "select_multiple": str.split}.get(
                qtype, str)(text)
        except ValueError:
            self.report("survey", number, "default", f"default {text!r} is not a {qtype}")
            return None


def _drop(items: list[dict[str, Any]], key: str) -> dict[str, Any] | None:
    """Remove the question ``key`` (with its children) from the tree; returns it."""
    for i, item in enumerate(items):
        if item["key"] == key:
            return items.pop(i)
        found = _drop(item["items"], key) if "items" in item else None
        if found is not None:
            return found
    return None


def _inner_keys(item: dict[str, Any]) -> Iterator[str]:
    for child in item.get("items", ()):
        yield child["key"]
        yield from _inner_keys(child)


def _read(source: Path | str | bytes | BinaryIO) -> dict[str, _Sheet]:
    # Imported here, not at the top: only the office imports forms, the tablet never does.
    from openpyxl import load_workbook

    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a file that is not .xlsx
        raise XLSFormError(f"not a readable .xlsx file: {exc}") from exc
    try:
        sheets = {ws.title.strip().lower(): _Sheet(ws.title, list(ws.iter_rows(values_only=True)))
                  for ws in workbook.worksheets}
    finally:
        workbook.close()
    if "survey" not in sheets:
        raise XLSFormError("no 'survey' sheet")
    return sheets


def import_xlsform(source: Path | str | bytes | BinaryIO, *, code: str | None = None,
                   version: int | None = None) -> ImportResult:
    """Translate an XLSForm; the definition it returns always loads with the engine."""
    importer = _Importer(_read(source))
    top = importer.settings(code, version)
    importer.choices()
    items = importer.survey()
    definition: dict[str, Any] = {**top, "items": items}
    if importer.lists:
        definition["choice_lists"] = importer.lists
    if importer.uses_hazards:
        definition["hazard_levels"] = STANDARD_LEVELS
    # Whatever the loader still refuses (a reference to a row left out, a cycle…) is left
    # out too, one question at a time, until the definition loads.
    while True:
        try:
            load_definition(definition)
            break
        except FormDefinitionError as exc:
            dropped = _drop(items, exc.question) if exc.question else None
            if dropped is None:
                raise XLSFormError(f"cannot build a form: {exc.problem}") from exc
            column = exc.problem.split(" ")[0].rstrip(":")
            importer.report("survey", importer.rows.get(exc.question, 0),
                            column if column in EXPRESSION_COLUMNS else None,
                            f"{exc.problem}; row left out")
            for key in _inner_keys(dropped):
                importer.report("survey", importer.rows.get(key, 0), None,
                                "inside a group or repeat that was left out")
    importer.problems.sort(key=lambda p: (p.sheet != "settings", p.sheet, p.row))
    return ImportResult(definition, tuple(importer.problems))
