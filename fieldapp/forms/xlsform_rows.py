"""Translating XLSForm settings, choices and survey rows into definition items, reporting losses."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fieldapp.forms.definition import EMPTY_METADATA, FILLED_METADATA, METADATA_SOURCE
from fieldapp.forms.expr import NAME_RE, SUPPORTED_FUNCTIONS
from fieldapp.forms.loader import LANGUAGE
from fieldapp.forms.values import odk_points
from fieldapp.forms.xlsform_fieldapp import HAZARD_LIST, read_columns, refine
from fieldapp.forms.xlsform_fieldapp import hazard_levels as fieldapp_levels
from fieldapp.forms.xlsform_selects import select_type
from fieldapp.forms.xlsform_sheets import Sheet, XLSFormError, cell_text
from fieldapp.forms.xlsform_types import METADATA_TYPES, RULED_TYPES, SIMPLE_TYPES, type_kind

ACKNOWLEDGED = "fieldapp_ok"  # ODK's acknowledge: one choice, 'OK', ticked or not
LANGUAGES = {"zh": "zh", "chinese": "zh", "中文": "zh", "汉语": "zh", "en": "en",
             "english": "en", "英文": "en"}
TRANSLATED = ("label", "hint", "constraint_message", "required_message")
EXPRESSION_COLUMNS = ("relevant", "constraint", "calculation", "required", "choice_filter",
                      "repeat_count")
UNSUPPORTED_COLUMNS = ("read_only", "parameters", "trigger")
STANDARD_LEVELS = {
    "general": {"zh": "一般隐患", "en": "General", "deadline_days": 30},
    "serious": {"zh": "较大隐患", "en": "Serious", "deadline_days": 7},
    "critical": {"zh": "重大隐患", "en": "Critical", "deadline_days": 1},
}
# A default's text read as its question's type; any other type keeps the text.
_CONVERSIONS: dict[str, Callable[[str], Any]] = {
    "integer": int, "decimal": float, "select_multiple": str.split,
    "meter_reading": lambda text: int(text) if text.lstrip("-").isdigit() else float(text),
    "gps": lambda text: odk_points(text)[0], "geotrace": odk_points, "geoshape": odk_points}
_YES = ("yes", "true", "true()", "1")
_NO = ("no", "false", "false()", "0")
# pyxform's names for the settings FieldApp reads, as ODK's documentation writes them.
_SETTINGS = {"id_string": "form_id", "set_form_id": "form_id", "title": "form_title",
             "set_form_title": "form_title"}
OPERATORS = {"and", "or", "div", "mod"}  # "and(" is an operator and a bracket, not a call
# An Excel TRUE/FALSE cell in an expression column (pyxform reads it as the word).
_BOOLEAN = {"true": "true()", "false": "false()"}
_FUNCTION_CALL = re.compile(r"(?<![\w$.{-])([A-Za-z_][\w:.-]*)\s*\(")


@dataclass(frozen=True)
class ImportProblem:
    sheet: str
    row: int  # as Excel numbers it (the header is row 1)
    column: str | None
    message: str


def _is_dynamic(default: str, qtype: str) -> bool:
    """Whether a default is an expression, told as pyxform tells it (a reference, a call, an
    operator; a date's hyphens are not one)."""
    from pyxform.utils import default_is_dynamic  # type: ignore[import-untyped]

    xls_type = "date" if qtype in ("date", "datetime", "gps") else qtype
    return bool(default_is_dynamic(default, xls_type))


def _unsupported(expression: str) -> str | None:
    """What FieldApp's expressions cannot do in ``expression`` ("function x() is"), if any."""
    code = _code_only(expression)
    unsupported = [f for f in _FUNCTION_CALL.findall(code)
                   if f not in SUPPORTED_FUNCTIONS and f not in OPERATORS]
    if unsupported:
        return f"function {unsupported[0]}() is"
    return "an XPath path (use ${name}) is" if "/" in code else None


def _code_only(expression: str) -> str:
    """The expression without its string literals (a '/' or '(' inside quotes is text)."""
    return re.sub(r"'[^']*'|\"[^\"]*\"", "''", expression)


def _language(suffix: str) -> str | None:
    """The language code of a column suffix: ``Chinese (zh)`` → zh, ``Français (fr)`` →
    fr (ODK writes the code in brackets), ``English`` → en; None when no code is known."""
    m = re.search(r"\(([^)]+)\)", suffix)
    for candidate in ((m.group(1),) if m else ()) + (suffix.split("(")[0],):
        code = candidate.strip().lower()
        if code in LANGUAGES or code.split("-")[0] in LANGUAGES:
            return LANGUAGES.get(code) or LANGUAGES[code.split("-")[0]]
    code = m.group(1).strip().lower() if m else ""
    return code if LANGUAGE.fullmatch(code) else None


def _guess_language(text: str, default: str | None) -> str:
    if default:
        return default
    return "zh" if re.search(r"[\u4e00-\u9fff]", text) else "en"


class Importer:
    def __init__(self, sheets: dict[str, Sheet],
                 files: dict[str, list[dict[str, str]]] | None = None) -> None:
        self.sheets = sheets
        self.files = files or {}  # attached CSVs' rows, by file name
        self.problems: list[ImportProblem] = []
        self.rows: dict[str, int] = {}  # question key → survey row
        self.lists: dict[str, list[dict[str, Any]]] = {}
        self.others: dict[str, dict[str, Any]] = {}  # or_other: the text question after it
        self.default_language: str | None = None
        self.uses_hazards = False
        self.hazard_levels: dict[str, Any] = {}  # the form's own (fieldapp_hazard_levels)

    def report(self, sheet: str, row: int, column: str | None, message: str) -> None:
        self.problems.append(ImportProblem(sheet, row, column, message))

    def localized(self, record: dict[str, Any], base: str) -> dict[str, str] | None:
        found: dict[str, str] = {}
        for column, value in record.items():
            text = cell_text(value)
            if not text:
                continue
            if column == base:
                found.setdefault(_guess_language(text, self.default_language), text)
            elif column.startswith(base + ":"):  # label::English (en), or label:English
                lang = _language(column[len(base) + 1:].lstrip(":"))
                if lang:
                    found[lang] = text
        return found or None

    def settings(self, code: str | None, version: int | None) -> dict[str, Any]:
        sheet = self.sheets.get("settings")
        record = next((r for _, r in sheet.records()), {}) if sheet else {}
        said = cell_text(record.get("default_language"))
        self.default_language = _language(said)
        if said and self.default_language is None and said.lower() != "default":
            self.report("settings", 2, "default_language", f"default_language {said!r} has no"
                                                           " language code: not used")
        record = {_SETTINGS.get(k, k): v for k, v in record.items()}
        form_id = code or re.sub(r"[^a-z0-9_]+", "_", cell_text(record.get("form_id")).lower())
        form_id = form_id.strip("_") if re.match(r"[a-z]", form_id or "") else "imported_form"
        raw_version = cell_text(record.get("version"))
        if version is None:
            version = int(raw_version) if raw_version.isdigit() and int(raw_version) else 1
            if raw_version and not raw_version.isdigit():
                self.report("settings", 2, "version", f"version {raw_version!r} is not a whole "
                                                      "number; version 1 is used")
        title = self.localized(record, "form_title") or {"zh": form_id, "en": form_id}
        described = self.localized(record, "description")
        return {"code": form_id, "version": version, "title": title,
                **({"description": described} if described else {}),
                **({"default_language": self.default_language} if self.default_language
                   else {})}

    def choices(self) -> None:
        """The choices sheet's lists, and the external_choices sheet's (ODK's
        select_one_external: on the tablet they are ordinary lists)."""
        for name in ("choices", "external_choices"):
            if name in self.sheets:
                self.choice_sheet(self.sheets[name])
        self.hazard_levels, bad = fieldapp_levels(self.lists.get(HAZARD_LIST, []))
        for level in bad:
            self.report("choices", 0, "deadline_days", f"hazard level {level!r} needs"
                                                       " deadline_days, a whole number of days")

    def choice_sheet(self, sheet: Sheet) -> None:
        self.other_languages(sheet)
        for number, record in sheet.records():
            record = {("list_name" if k == "list name" else k): v for k, v in record.items()}
            list_name, name = cell_text(record.get("list_name")), cell_text(record.get("name"))
            if not list_name or not name:
                self.report(sheet.name, number, None, "a choice needs list_name and name")
                continue
            entries = self.lists.setdefault(list_name, [])
            if any(e["value"] == name for e in entries):
                self.report(sheet.name, number, "name", f"duplicate choice {name!r} in "
                                                       f"{list_name}; left out")
                continue
            label = self.localized(record, "label") or {"zh": name}
            extra = {k: cell_text(v) for k, v in record.items()
                     if k not in ("list_name", "name") and not k.startswith(("label", "media"))
                     and re.fullmatch(NAME_RE, k) and cell_text(v)}
            entries.append({"value": name, "label": label, **extra})

    def other_languages(self, sheet: Sheet) -> None:
        """Say which language columns are left out (once each, on the header row): those
        whose language has no code to keep it under."""
        for column in sheet.header:
            base, _, suffix = column.partition(":")
            suffix = suffix.lstrip(":")
            if base in TRANSLATED and suffix and _language(suffix) is None:
                self.report(sheet.name, 1, column, f"language {suffix!r} has no language code:"
                                                   " not kept (write it as 'Name (code)',"
                                                   " e.g. 'Deutsch (de)')")

    def survey(self) -> list[dict[str, Any]]:
        sheet = self.sheets["survey"]
        self.other_languages(sheet)
        if "type" not in sheet.header or "name" not in sheet.header:
            raise XLSFormError("the survey sheet needs 'type' and 'name' columns")
        root: list[dict[str, Any]] = []
        stack: list[tuple[list[dict[str, Any]] | None, int, str]] = [(root, 1, "")]
        for number, record in sheet.records():
            kind = type_kind(cell_text(record.get("type")))
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
                if (other := self.others.get(item["key"])) is not None:
                    target.append(other)
                    self.rows[other["key"]] = number
        for _, number, kind in stack[1:]:
            self.report("survey", number, "type", f"begin {kind} is never ended; closed at the "
                                                  "end of the sheet")
        return root

    def question(self, number: int, record: dict[str, Any], kind: str,
                 kept: bool) -> dict[str, Any] | None:
        # A note needs no name in ODK: pyxform names it after its row, and so does FieldApp.
        name = cell_text(record.get("name")) or (f"generated_note_name_{number}"
                                                 if kind == "note" else "")
        if not kept:
            self.report("survey", number, None, "inside a group or repeat that was left out")
            return None
        if kind in EMPTY_METADATA:
            self.report("survey", number, "type", f"metadata {kind!r}: the tablet has no"
                                                  " value for it (nor has ODK Collect on"
                                                  " current phones); kept, always empty")
        elif kind in METADATA_TYPES and kind not in FILLED_METADATA:
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
        refined = refine(item["type"], record, lambda c, m: self.report("survey", number, c, m))
        if refined is not None:  # FieldApp's own type, written by the export: its own rules
            item = {"key": name, "type": refined}
            if refined == "select_one":
                item["choices"] = kind.split()[2]
        if not self.properties(number, record, item):
            return None
        self.rows[name] = number
        return item

    def question_type(self, number: int, kind: str, record: dict[str, Any]
                      ) -> tuple[str, dict[str, Any]] | None:
        appearance = cell_text(record.get("appearance")).lower()
        if kind in ("group", "repeat"):
            return kind, {"items": []}
        if kind == "image":
            return ("signature", {}) if "signature" in appearance else ("photo", {"max_count": 1})
        if kind in ("audio", "video"):  # ODK's: one recording (FieldApp's may take several)
            return kind, {"max_count": 1}
        if kind in SIMPLE_TYPES:
            return SIMPLE_TYPES[kind], {}
        if kind in FILLED_METADATA or kind in EMPTY_METADATA:
            return "hidden", {"source": METADATA_SOURCE + kind}
        if kind in RULED_TYPES:
            qtype, held = RULED_TYPES[kind]
            return qtype, {"_held": held}
        if kind == "acknowledge":  # ticked or not: the value 'OK', as ODK records it
            self.lists.setdefault(ACKNOWLEDGED, [{"value": "OK",
                                                  "label": {"zh": "确认", "en": "OK"}}])
            return "select_one", {"choices": ACKNOWLEDGED}
        if kind == "range":
            return self.range(number, cell_text(record.get("parameters")))
        if kind.startswith(("select one", "select multiple")):
            return select_type(self, number, kind, record)
        self.report("survey", number, "type", f"type {cell_text(record.get('type'))!r} is not "
                                              "supported; row left out")
        return None

    def range(self, number: int, parameters: str) -> tuple[str, dict[str, Any]] | None:
        """ODK's range (``start=0 end=10 step=0.5``, by default 1 to 10 by 1) as a number
        held to it: whole numbers when all three are, decimals otherwise."""
        given = dict(p.split("=", 1) for p in parameters.replace(",", " ").split() if "=" in p)
        try:
            start, end, step = (Decimal(given.get(k, d).strip()) for k, d in
                                (("start", "1"), ("end", "10"), ("step", "1")))
        except ArithmeticError:
            self.report("survey", number, "parameters", f"range parameters {parameters!r}"
                                                        " are not numbers; row left out")
            return None
        if step <= 0 or end == start:
            self.report("survey", number, "parameters", f"range {parameters!r} holds no"
                                                        " value; row left out")
            return None
        low, high = min(start, end), max(start, end)
        held = f". >= {low} and . <= {high}"
        whole = all(x == x.to_integral_value() for x in (start, end, step))
        if whole and step != 1:  # a fractional step is left to the slider: 0.3 mod 0.1
            held += f" and (. - {low}) mod {step} = 0"  # is not 0 in binary fractions
        return ("integer" if whole else "decimal"), {"_held": held}

    def properties(self, number: int, record: dict[str, Any], item: dict[str, Any]) -> bool:
        qtype = item["type"]
        for column in UNSUPPORTED_COLUMNS:
            if column == "parameters" and "_held" in item:
                continue  # a range's own bounds
            if cell_text(record.get(column)):
                self.report("survey", number, column, f"{column} is not supported; ignored")
        for base, prop in (("label", "label"), ("hint", "hint"),
                           ("constraint_message", "constraint_message")):
            text = self.localized(record, base)
            if text:
                item[prop] = text
        if "label" not in item and qtype not in ("calculate", "hidden"):
            item["label"] = {"zh": item["key"]}
        appearance = cell_text(record.get("appearance"))
        if qtype == "signature":  # the appearance that made it one says nothing more
            appearance = " ".join(w for w in appearance.split() if w.lower() != "signature")
        if appearance:
            item["appearance"] = appearance
        for column in EXPRESSION_COLUMNS:
            expression = cell_text(record.get(column))
            if not expression:
                continue
            if column == "repeat_count" and qtype != "repeat":
                self.report("survey", number, column, "repeat_count only counts a repeat's"
                                                      " entries; ignored")
                continue
            if column == "required" and expression.lower() in _YES + _NO:
                item["required"] = expression.lower() in _YES
                continue
            expression = _BOOLEAN.get(expression.lower(), expression)
            if (what := _unsupported(expression)) is not None:
                self.report("survey", number, column, f"{what} not supported in "
                                                      f"{expression!r}; row left out")
                return False
            item[column] = expression
        if (held := item.pop("_held", None)) is not None:  # the type's own rule, and the row's
            item["constraint"] = f"({held}) and ({item['constraint']})" \
                if item.get("constraint") else held
        default = cell_text(record.get("default"))
        if default and _is_dynamic(default, qtype):
            return self.dynamic_default(number, item, default)
        if default:
            converted = self.default(number, qtype, default)
            if converted is None:
                return False
            item["default"] = converted
        level = cell_text(record.get("hazard_level"))
        if "${" not in level:  # an expression (the level a re-check carries) keeps its case
            level = level.lower()
        if level and qtype == "pass_fail_na":
            if level not in (self.hazard_levels or STANDARD_LEVELS) and "${" not in level:
                self.report("survey", number, "hazard_level", f"unknown hazard level {level!r}")
            else:
                item.update(hazard_level_on_fail=level, photo_required_on_fail=True,
                            note_required_on_fail=True)
                self.uses_hazards = True
        read_columns(record, item, lambda c, m: self.report("survey", number, c, m))
        return True

    def dynamic_default(self, number: int, item: dict[str, Any], text: str) -> bool:
        """ODK's dynamic default (``today()``, ``${username}``): evaluated once by the tablet
        when the form starts. ``${last-saved#x}`` (the device's previous submission) is not."""
        what = ("${last-saved#…} (the previous submission's answer) is" if "last-saved#" in text
                else _unsupported(text))
        if what is not None:
            self.report("survey", number, "default", f"{what} not supported in the dynamic"
                                                      f" default {text!r}; row left out")
            return False
        item["dynamic_default"] = text
        return True

    def default(self, number: int, qtype: str, text: str) -> Any:
        try:
            convert: Callable[[str], Any] = _CONVERSIONS.get(qtype, str)
            return convert(text)
        except (ValueError, IndexError):
            self.report("survey", number, "default", f"default {text!r} is not a {qtype}")
            return None
