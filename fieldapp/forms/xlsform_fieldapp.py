"""FieldApp's own columns and lists in an XLSForm: what ODK's vocabulary has no word for.

A meter reading with its previous reading, a photo question's counts, a repeat's bounds, where
a hidden value comes from, the hazard levels and the pass/fail labels are FieldApp's, not
ODK's. The export (``xlsform_export.py``) writes them in the columns and lists named here and
the import reads them back, so a standard form survives a trip through Excel unchanged.
pyxform passes columns it does not know through untouched, and lists no question uses are
allowed, so a workbook carrying them is still a valid XLSForm for ODK's tools.

    survey column      on             holds
    fieldapp_type      decimal        meter_reading
                       image          photo (several photos, min_count/max_count)
                       audio, video   audio, video (several recordings, likewise)
                       select_one     select_one (kept a select even over a yes/no list)
    unit               number, meter_reading   the unit shown after the answer
    previous           meter_reading  the expression of the previous reading
    source             hidden         where the value comes from (meter.last_reading)
    min_count, max_count              photo
    min_repeat, max_repeat            repeat
    photo_required_on_fail, note_required_on_fail   pass/fail item with a hazard_level (yes/no)

    choices list            holds
    fieldapp_yes_no         a yes/no item's list
    fieldapp_pass_fail_na   a pass/fail/na item's list; its labels are the form's ``answers``
    fieldapp_hazard_levels  the form's hazard levels, with a ``deadline_days`` column
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fieldapp.forms.definition import PROPERTIES
from fieldapp.forms.xlsform_sheets import cell_text

Report = Callable[[str, str], None]  # (column, message): a problem on the row being read

TYPE_COLUMN = "fieldapp_type"
# The XLSForm type a FieldApp type is written as, when ODK has no such type of its own.
REFINES: dict[str, dict[str, str]] = {
    "decimal": {"meter_reading": "meter_reading"},
    # image, audio and video rows arrive as one photo or recording (max_count 1) before
    "photo": {"photo": "photo"}, "audio": {"audio": "audio"}, "video": {"video": "video"},
    "select_one": {"select_one": "select_one"},
    "yes_no": {"select_one": "select_one"},
    "pass_fail_na": {"select_one": "select_one"},
}
TEXT_COLUMNS = ("unit", "previous", "source")
COUNT_COLUMNS = ("min_count", "max_count", "min_repeat", "max_repeat")
FLAG_COLUMNS = ("photo_required_on_fail", "note_required_on_fail")
COLUMNS = (TYPE_COLUMN, *TEXT_COLUMNS, *COUNT_COLUMNS, *FLAG_COLUMNS)
YES_NO_LIST = "fieldapp_yes_no"
PASS_FAIL_LIST = "fieldapp_pass_fail_na"
HAZARD_LIST = "fieldapp_hazard_levels"
LISTS = (YES_NO_LIST, PASS_FAIL_LIST, HAZARD_LIST)
# The labels FieldApp shows for yes/no and pass/fail/na when a form gives none of its own.
STANDARD_ANSWERS: dict[str, dict[str, str]] = {
    "yes": {"zh": "是", "en": "Yes"}, "no": {"zh": "否", "en": "No"},
    "pass": {"zh": "合格", "en": "Pass"}, "fail": {"zh": "不合格", "en": "Fail"},
    "na": {"zh": "不适用", "en": "N/A"},
}


def hazard_levels(entries: list[dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    """The form's hazard levels from the ``fieldapp_hazard_levels`` list, and the names of
    those whose ``deadline_days`` is not a whole number of days (left out)."""
    levels: dict[str, Any] = {}
    bad: list[str] = []
    for entry in entries:
        days = str(entry.get("deadline_days", ""))
        if not days.isdigit() or int(days) < 1:
            bad.append(entry["value"])
            continue
        label = {k: v for k, v in entry["label"].items() if k in ("zh", "en")}
        levels[entry["value"]] = {**label, "deadline_days": int(days)}
    return levels, bad


def answers(entries: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """The form's own labels for pass/fail/na, from the ``fieldapp_pass_fail_na`` list."""
    return {e["value"]: e["label"] for e in entries}


def refine(qtype: str, record: dict[str, Any], report: Report) -> str | None:
    """The FieldApp type a row's ``fieldapp_type`` says it is; None when it says none, or
    when it does not fit the row's XLSForm type (said, and ignored)."""
    wanted = cell_text(record.get(TYPE_COLUMN)).lower()
    if not wanted:
        return None
    refined = REFINES.get(qtype, {}).get(wanted)
    if refined is None:
        report(TYPE_COLUMN, f"{TYPE_COLUMN} {wanted!r} does not fit this row's type; ignored")
    return refined


def read_columns(record: dict[str, Any], item: dict[str, Any], report: Report) -> None:
    """FieldApp's own columns into ``item`` (a column its type does not take is said and
    ignored); a pass/fail item's photo and note flags, set with its hazard level, are
    switched off by ``no``."""
    allowed = PROPERTIES.get(item["type"], set())
    for column in (*TEXT_COLUMNS, *COUNT_COLUMNS, *FLAG_COLUMNS):
        text = cell_text(record.get(column))
        if not text:
            continue
        if column not in allowed:
            report(column, f"{column} does not apply to a {item['type']} question; ignored")
        elif column in COUNT_COLUMNS:
            if text.isdigit():
                item[column] = int(text)
            else:
                report(column, f"{column} {text!r} is not a whole number; ignored")
        elif column in FLAG_COLUMNS:
            if text.lower() in ("no", "false", "0"):
                item.pop(column, None)
            else:
                item[column] = True
        else:
            item[column] = text
