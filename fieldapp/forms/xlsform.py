"""Import an ODK XLSForm (.xlsx) into a FieldApp form definition, reporting what is lost.

    result = import_xlsform("gas_survey.xlsx")
    result.definition        # a FieldApp definition dict (loads with load_definition)
    result.problems          # every row that was not translated, with sheet, row and why

The workbook is read by pyxform, ODK's reference implementation (``xlsform_sheets.py``), and
checked whole by its XLSForm → JSON step first: a form pyxform refuses is refused with its
reason. Sheets: ``survey`` (type, name, label, hint, required, relevant, constraint,
constraint_message, calculation, default, choice_filter, appearance; begin/end group and
repeat), ``choices`` (list_name, name, label, and any extra columns for choice filters) and
``settings`` (form_id, version, form_title, default_language). Labels may be plain or per
language (``label::Chinese (zh)``, ``label::Français (fr)``, ``label:English``); FieldApp
keeps every language under its code, and names a language column that has none.

A row that cannot be translated faithfully is left out (a group with everything in it), and
so is every question that depends on something left out, each with its own report line:
a form that silently loses a relevance rule would ask the wrong questions in a kitchen.
Select lists whose names are exactly yes/no or pass/fail/na become FieldApp's yes_no and
pass_fail_na, and an optional ``hazard_level`` column (general/serious/critical) gives
pass/fail items their hazard level, so utilities can add FieldApp's rules to their forms.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from fieldapp.forms.loader import FormDefinitionError, load_definition
from fieldapp.forms.state import PIPED
from fieldapp.forms.xlsform_fieldapp import LISTS, PASS_FAIL_LIST, answers
from fieldapp.forms.xlsform_files import PULLED, read_files
from fieldapp.forms.xlsform_rows import EXPRESSION_COLUMNS, STANDARD_LEVELS, Importer, ImportProblem
from fieldapp.forms.xlsform_sheets import XLSFormError, read_sheets


@dataclass(frozen=True)
class ImportResult:
    definition: dict[str, Any]
    problems: tuple[ImportProblem, ...]


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


def _check_piping(importer: Importer, items: list[dict[str, Any]]) -> None:
    """A ``${name}`` in a label or hint is shown with that question's answer on the
    tablet; one naming no question the form kept (never there, or left out) is named here,
    and its text stays as written."""
    keys = {i["key"] for i in items} | {k for i in items for k in _inner_keys(i)}

    def walk(level: list[dict[str, Any]]) -> None:
        for item in level:
            for column in ("label", "hint"):
                texts = item.get(column)
                named = set(PIPED.findall(" ".join(texts.values()))) \
                    if isinstance(texts, dict) else set()
                for name in sorted(named - keys):
                    importer.report("survey", importer.rows.get(item["key"], 0), column,
                                    f"${{{name}}} is not a question of this form (or was"
                                    " left out): shown as written")
            walk(item.get("items", []))

    walk(items)


def _pulled(items: list[dict[str, Any]]) -> set[str]:
    """The tables the kept questions' pulldata() calls name."""
    found: set[str] = set()
    for item in items:
        for column in (*EXPRESSION_COLUMNS, "previous"):
            if isinstance(item.get(column), str):
                found.update(PULLED.findall(item[column]))
        found |= _pulled(item.get("items", []))
    return found


def import_xlsform(source: Path | str | bytes | BinaryIO, *, code: str | None = None,
                   version: int | None = None,
                   files: Mapping[str, bytes] | None = None) -> ImportResult:
    """Translate an XLSForm, with the CSV files it reads (by file name: ``prices.csv`` for
    ``pulldata('prices', …)`` and ``select_one_from_file prices.csv``); the definition it
    returns always loads with the engine."""
    tables = read_files(files or {})
    importer = Importer(read_sheets(source), tables)
    top = importer.settings(code, version)
    importer.choices()
    items = importer.survey()
    definition: dict[str, Any] = {**top, "items": items}
    own = {name: importer.lists.pop(name) for name in LISTS if name in importer.lists}
    if PASS_FAIL_LIST in own:
        definition["answers"] = answers(own[PASS_FAIL_LIST])
    if importer.lists:
        definition["choice_lists"] = importer.lists
    if importer.hazard_levels or importer.uses_hazards:
        definition["hazard_levels"] = importer.hazard_levels or STANDARD_LEVELS
    # What pulldata() reads travels in the definition; a table not attached is left to the
    # loader, which names it, and the rows reading it are left out below.
    data = {name: tables[f"{name}.csv"] for name in sorted(_pulled(items))
            if f"{name}.csv" in tables}
    if data:
        definition["data"] = data
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
            importer.report("survey", importer.rows.get(exc.question or "", 0),
                            column if column in EXPRESSION_COLUMNS else None,
                            f"{exc.problem}; row left out")
            for key in _inner_keys(dropped):
                importer.report("survey", importer.rows.get(key, 0), None,
                                "inside a group or repeat that was left out")
    if "data" in definition:  # only what the questions kept still read
        kept = {k: v for k, v in definition.pop("data").items() if k in _pulled(items)}
        definition.update({"data": kept} if kept else {})
    _check_piping(importer, items)
    importer.problems.sort(key=lambda p: (p.sheet != "settings", p.sheet, p.row))
    return ImportResult(definition, tuple(importer.problems))
