"""What a form holds when the tablet starts it (filling.py): the hidden answers named by a
``source`` (the customer's meter, the rectification notice's hazards, ODK's metadata) and
the XLSForm's dynamic defaults, evaluated once over them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from fieldapp.forms import engine
from fieldapp.forms.definition import METADATA_SOURCE
from fieldapp.forms.loader import as_definition
from fieldapp.forms.paths import nest
from fieldapp.forms.state import FormState
from fieldapp.forms.values import to_string
from fieldapp.local_time import now_iso

if TYPE_CHECKING:
    from fieldapp.replica import Replica


def prefill(replica: Replica, job: Mapping[str, Any],
             definition: Mapping[str, Any]) -> dict[str, Any]:
    """Hidden answers named by a ``source``: the job's priority, the customer's meter, or the
    rectification notice and its open hazards this check job was scheduled for (one repeat
    instance each)."""
    d = as_definition(definition)
    meter = next(iter(replica.db.query(
        "SELECT * FROM meters WHERE customer_id = ? ORDER BY id LIMIT 1",
        [job["customer_id"]])), None)
    hazards = list(replica.db.query(
        "SELECT * FROM hazards WHERE check_job_id = ? AND status = 'open' ORDER BY due_at,"
        " question", [job["id"]]))
    notice = next(iter(replica.db.query(
        "SELECT * FROM rectification_notices WHERE id = ?",
        [hazards[0]["notice_id"] if hazards else ""])), None)
    last = _last_reading(replica, meter) if meter else (None, None)
    sources: dict[str, Any] = {
        "meter.last_reading": last[0],
        "meter.last_read_at": (last[1] or "")[:10] or None,
        "meter.average_daily_use": _daily_use(replica, meter["id"]) if meter else None,
        "notice.number": notice["number"] if notice else None,
        # An emergency (priority 1) asks for the shut-off record (repair_report v2).
        "job.priority": job["priority"],
        "technician.name": session.display_name if (session := replica.session) else None,
        # An XLSForm's metadata, as ODK Collect fills it when the form is opened.
        METADATA_SOURCE + "start": now_iso(),
        METADATA_SOURCE + "today": now_iso()[:10],
        METADATA_SOURCE + "deviceid": replica.device_id,
        METADATA_SOURCE + "username": session.username if (session := replica.session) else None,
    }
    item_sources = {"notice_item.question": "question", "notice_item.label": "label",
                    "notice_item.level": "level"}
    out: dict[str, Any] = {}
    for q in d.by_key.values():
        source = q.raw.get("source")
        if q.type != "hidden" or not source:
            continue
        if not q.repeats and sources.get(source) is not None:
            out[q.key] = sources[source]
        elif len(q.repeats) == 1 and source in item_sources:
            for i, hazard in enumerate(hazards):
                out[f"{q.repeats[0]}[{i}].{q.key}"] = hazard[item_sources[source]]
    return out


def dynamic_defaults(definition: Mapping[str, Any],
                      answers: Mapping[str, Any]) -> dict[str, Any]:
    """ODK's dynamic defaults, evaluated once as the form starts, in form order (one may read
    the prefilled answers and the defaults before it). A result that does not fit its
    question (now() for a time, a word for a number) is no answer, as is an empty one."""
    d = as_definition(definition)
    found: dict[str, Any] = {}
    for q in d.by_key.values():
        if q.dynamic_default is None or q.repeats:
            continue
        state = FormState(d, nest({**answers, **found}))
        value = state.evaluate(q.dynamic_default, q, ())
        if q.type in ("text", "barcode") and value is not None:
            value = to_string(value)
        elif q.type == "integer" and isinstance(value, float) and value.is_integer():
            value = int(value)
        elif q.type == "select_multiple" and isinstance(value, str):
            value = value.split()
        if value not in (None, "", []) and engine.check_answer(d, q.key, value) is None:
            found[q.key] = value
    return found


def _last_reading(replica: Replica, meter: Mapping[str, Any]) -> tuple[Any, str | None]:
    """The meter's latest reading: the billing system's, or a newer one taken on a tablet."""
    newer = next(iter(replica.db.query(
        "SELECT value, read_at FROM readings WHERE meter_id = ? AND value IS NOT NULL"
        " AND read_at > ? ORDER BY read_at DESC LIMIT 1",
        [meter["id"], meter["last_read_at"] or ""])), None)
    if newer:
        return newer["value"], newer["read_at"]
    return meter["last_reading"], meter["last_read_at"]


def _daily_use(replica: Replica, meter_id: str) -> float | None:
    rows = list(replica.db.query(
        "SELECT read_at, value FROM readings WHERE meter_id = ? AND value IS NOT NULL"
        " ORDER BY read_at DESC LIMIT 2", [meter_id]))
    if len(rows) < 2:
        return None
    try:
        days = (date.fromisoformat(rows[0]["read_at"][:10])
                - date.fromisoformat(rows[1]["read_at"][:10])).days
    except (TypeError, ValueError):
        return None
    return round((rows[0]["value"] - rows[1]["value"]) / days, 3) if days > 0 else None

