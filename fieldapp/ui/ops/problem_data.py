"""The plain data behind the 同步问题 screen, read from outbox rows and the local records.

Qt-free, and reached only through ``ops.sync_problems``. It names a change from what the
tablet holds (job number, customer, the form's question) and keeps codes and values as data:
turning them into words in the user's language is the screen's job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fieldapp.errors import FieldAppError
from fieldapp.records import TABLES

if TYPE_CHECKING:
    from fieldapp.replica import Replica

Text = str | dict[str, str]  # a literal, or a form's label in each language


@dataclass(frozen=True)
class ShownValue:
    """A field value and how to put it in words; the words themselves are the screen's job."""

    # "status" (a job status code), "label" (a form's choice), "submission" (draft/submitted),
    # "time", "text" or "empty"
    kind: str
    value: Any
    label: Text | None = None


@dataclass(frozen=True)
class FieldConflict:
    field: str
    kept: ShownValue  # what the server holds now
    preserved: ShownValue  # what it saved beside it for the supervisor
    mine_kept: bool  # the tablet's edit was later and won; the server's old value was preserved


@dataclass(frozen=True)
class SyncProblem:
    """One rejected or conflicting change, with enough of its records to name it."""

    mutation_id: str
    state: str  # "rejected" or "conflict"
    reason: str | None  # the server's code, e.g. "reassigned", "invalid_answer:invalid_choice"
    detail: str | None  # the server's English message, for the supervisor
    at: str  # when the change was made on the tablet
    what: str  # "job_status", "status_log", "answer", "checklist", "checklist_submit", "photo",
    #            "signature", "signature_image", "scan", "customer_phone", "customer", "reading",
    #            or "record" for a table this screen has no words for
    table: str
    job_number: str | None = None
    customer_name: str | None = None
    question: Text | None = None
    question_number: int | None = None  # as the checklist numbers it; None inside a group
    values: dict[str, ShownValue] = field(default_factory=dict)  # the change's own values
    conflicts: tuple[FieldConflict, ...] = ()


def problem_from_row(replica: Replica, row: dict[str, Any]) -> SyncProblem:
    """Describe one outbox row in ``rejected`` or ``conflict`` state."""
    table, changed = row["tbl"], json.loads(row["fields"])
    record = replica.find(table, row["record_id"]) if table in TABLES else None
    # The change's own values over the local record: a pull may have overwritten the latter.
    data = {**(record or {}), **changed}
    job = _find(replica, "jobs", row["record_id"] if table == "jobs" else data.get("job_id"))
    customer = _find(replica, "customers", row["record_id"] if table == "customers"
                     else data.get("customer_id") or (job or {}).get("customer_id"))
    form, item, number = _question(replica, data) if table == "answers" else (None, None, None)

    def shown(name: str, value: Any) -> ShownValue:
        return _shown(table, name, value, form, item)

    try:
        result = json.loads(row["result"] or "{}")
    except ValueError:
        result = {}  # an unreadable answer still leaves the problem listed
    kept, preserved = result.get("kept") or {}, result.get("preserved") or {}
    conflicts = tuple(
        FieldConflict(name, shown(name, kept.get(name)), shown(name, preserved.get(name)),
                      mine_kept=name in changed and changed[name] == kept.get(name))
        for name in [*kept, *(n for n in preserved if n not in kept)])
    return SyncProblem(
        mutation_id=row["mutation_id"], state=row["state"], reason=row["reason"],
        detail=row["message"], at=row["at"], what=_what(table, changed, data),
        table=table, job_number=job["number"] if job else None,
        customer_name=customer["name"] if customer else None,
        question=(item.get("label") or item["key"]) if item else data.get("question"),
        question_number=number, conflicts=conflicts,
        values={n: shown(n, data.get(n)) for n in _NAMED_FIELDS.get(table, ()) if n in data})


# The fields that say what a change was, per table (the rest is bookkeeping).
_NAMED_FIELDS = {"jobs": ("status",), "job_status_history": ("from_status", "to_status"),
                 "answers": ("value",), "scans": ("code",), "customers": ("phone",),
                 "readings": ("value",), "signatures": ("signer_name",)}


def _what(table: str, changed: dict[str, Any], data: dict[str, Any]) -> str:
    if table == "jobs":
        return "job_status" if "status" in changed else "record"
    if table == "customers":
        return "customer_phone" if set(changed) == {"phone"} else "customer"
    if table == "submissions":
        return "checklist_submit" if changed.get("state") == "submitted" else "checklist"
    if table == "attachments":
        return "signature_image" if data.get("kind") == "signature" else "photo"
    return {"job_status_history": "status_log", "answers": "answer", "signatures": "signature",
            "scans": "scan", "readings": "reading"}.get(table, "record")


def _find(replica: Replica, table: str, record_id: str | None) -> dict[str, Any] | None:
    return replica.find(table, record_id) if record_id else None


def _question(replica: Replica, data: dict[str, Any]
              ) -> tuple[dict[str, Any] | None, dict[str, Any] | None, int | None]:
    """The answer's form, its question and the question's number on the checklist."""
    sub = _find(replica, "submissions", data.get("submission_id"))
    if sub is None:
        return None, None, None
    try:
        form = replica.submissions.definition(sub["form_code"], sub["form_version"])
    except FieldAppError:
        return None, None, None  # a form this tablet never received: name the question by key
    top = [i["key"] for i in form["items"]]
    number = top.index(data["question"]) + 1 if data.get("question") in top else None
    return form, _item(form["items"], data.get("question")), number


def _item(items: list[dict[str, Any]], key: str | None) -> dict[str, Any] | None:
    for item in items:
        found = item if item["key"] == key else _item(item.get("items", []), key)
        if found:
            return found
    return None


def _shown(table: str, name: str, value: Any, form: dict[str, Any] | None,
           item: dict[str, Any] | None) -> ShownValue:
    if value is None:
        return ShownValue("empty", None)
    if name in ("status", "from_status", "to_status") and table in ("jobs", "job_status_history"):
        return ShownValue("status", value)
    if table == "submissions" and name == "state":
        return ShownValue("submission", value)
    if name.endswith("_at"):
        return ShownValue("time", value)
    if table == "answers" and name == "value":
        try:
            value = json.loads(value)  # answers travel as JSON text
        except (TypeError, ValueError):
            return ShownValue("text", value)
        label = _choice_label(form, item, value)
        if label is not None:
            return ShownValue("label", value, label)
        if value is None:
            return ShownValue("empty", None)
    return ShownValue("text", value)


def _choice_label(form: dict[str, Any] | None, item: dict[str, Any] | None,
                  value: Any) -> Text | None:
    if form is None or item is None or not isinstance(value, str):
        return None
    if item.get("type") == "pass_fail_na":
        return form.get("answers", {}).get(value)
    choices = form.get("choice_lists", {}).get(item.get("choices") or "", [])
    return next((c["label"] for c in choices if c.get("value") == value), None)
