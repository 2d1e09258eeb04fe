"""An XLSForm's selects as FieldApp's: ``select_one LIST`` (a yes/no or pass/fail/na list as
FieldApp's own item), ``or_other`` (ODK's "other" choice and a text question for it),
``select_one_from_file x.csv`` over a CSV attached to the form, and ``select_one_external
LIST`` over the workbook's external_choices sheet."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from fieldapp.forms.expr import NAME_RE
from fieldapp.forms.xlsform_sheets import cell_text

if TYPE_CHECKING:
    from fieldapp.forms.xlsform_rows import Importer

_SELECT = re.compile(r"(select one|select multiple)( from file| external)? (\S+)"
                     r"( or_other| or specify other| or other)?")


def select_type(importer: Importer, number: int, kind: str,
                record: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    m = _SELECT.fullmatch(kind)
    if m is None:
        importer.report("survey", number, "type", f"type {cell_text(record.get('type'))!r}"
                                                  " is not supported; row left out")
        return None
    select, source, list_name, other = m.groups()
    if source == " from file":
        found = file_list(importer, number, list_name)
        if found is None:
            return None
        list_name = found
    elif list_name not in importer.lists:
        sheet = "external_choices" if source else "choices"
        importer.report("survey", number, "type", f"choice list {list_name!r} is not on the "
                                                  f"{sheet} sheet; row left out")
        return None
    if other:
        list_name = _with_other(importer, list_name)
        key = cell_text(record.get("name"))
        chosen = (f"${{{key}}} = 'other'" if select == "select one"
                  else f"selected(${{{key}}}, 'other')")
        importer.others[key] = {"key": f"{key}_other", "type": "text", "relevant": chosen,
                                "required": True,
                                "label": {"zh": "请说明（其他）", "en": "Specify other"}}
    values = {c["value"] for c in importer.lists[list_name]}
    if select == "select one" and not source and values == {"yes", "no"}:
        return "yes_no", {}
    if select == "select one" and not source and values == {"pass", "fail", "na"}:
        return "pass_fail_na", {}
    return select.replace(" ", "_"), {"choices": list_name}


def file_list(importer: Importer, number: int, file: str) -> str | None:
    """The choice list of an attached CSV (its ``name`` and ``label`` columns, labels per
    language as on the choices sheet, other columns for choice filters), named for the file."""
    rows = importer.files.get(file)
    if rows is None:
        importer.report("survey", number, "type", f"{file} is not attached to the form"
                                                  " (upload it with the XLSForm); row left out")
        return None
    list_name = "file_" + re.sub(r"\W+", "_", file.rsplit(".", 1)[0]).strip("_").lower()
    if list_name in importer.lists:
        return list_name
    if not rows or "name" not in rows[0]:
        importer.report("survey", number, "type", f"{file} has no 'name' column for the"
                                                  " choices' values; row left out")
        return None
    entries, seen = [], set()
    for row in rows:
        value = row["name"]
        if not value or value in seen:
            continue  # as ODK does: a blank or repeated name offers nothing new
        seen.add(value)
        label = importer.localized(row, "label") or {"zh": value}
        extra = {k: v for k, v in row.items() if v and k != "name"
                 and not k.startswith("label") and re.fullmatch(NAME_RE, k)}
        entries.append({"value": value, "label": label, **extra})
    importer.lists[list_name] = entries
    return list_name


def _with_other(importer: Importer, list_name: str) -> str:
    """The list with ODK's "other" choice added (a list of its own: another question may
    use the list without it)."""
    name = f"{list_name}_or_other"
    if name not in importer.lists:
        importer.lists[name] = [*importer.lists[list_name],
                                {"value": "other", "label": {"zh": "其他", "en": "Other"}}]
    return name
