"""The declared type and bounds of every synced field, checked before any SQL runs.

The storage type and whether a field is required come from the tables' own DDL (read once
from an in-memory SQLite built from ``records``' DDL), so they cannot drift from the schema;
this module adds only what DDL cannot say: lengths, ranges, closed sets of values, fields
holding JSON or timestamps.

    problem = check(table, field, value)        # None, or why the value does not fit
    missing = required_missing(table, fields)    # required fields an insert lacks

A value that does not fit is refused by itself (``invalid_value`` naming the field): the
server stores it for review and applies the rest of the batch.
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from fieldapp.domain.holds import HOLD_KINDS
from fieldapp.domain.kinds import KINDS
from fieldapp.domain.parts import STATES as PART_STATES
from fieldapp.domain.status import Status
from fieldapp.network.model import VALVE_CLOSED
from fieldapp.records import RECORD_SCHEMA, TABLES

INT64 = (-(2**63), 2**63 - 1)
TEXT_MAX = 20_000  # a note or an address; the long fields below say so
ID_MAX = 64  # ids and codes of the wire types (``fieldapp.wire``)
# Long by nature: a signature's strokes, a form's definition, an article's body.
LONG_TEXT = {("signatures", "strokes"): 200_000, ("form_definitions", "definition"): 200_000,
             ("kb_articles", "body"): 100_000, ("org_settings", "value"): 20_000}
JSON_FIELDS = {("answers", "value"), ("customers", "tags"), ("bills", "lines"),
               ("form_definitions", "definition"), ("signatures", "strokes")}
RANGES: dict[tuple[str, str], tuple[float, float]] = {
    ("customers", "lat"): (-90, 90), ("customers", "lon"): (-180, 180),
    ("attachments", "lat"): (-90, 90), ("attachments", "lon"): (-180, 180),
    ("attachments", "accuracy_m"): (0, 1e7), ("attachments", "fix_age_s"): (0, 1e9),
    ("attachments", "size"): (0, 2**40), ("jobs", "priority"): (1, 5),
    ("jobs", "route_order"): (0, 10_000), ("customers", "household_size"): (0, 1000),
    ("part_requests", "quantity"): (1, 10_000), ("readings", "value"): (0, 1e12),
    ("hazards", "deadline_days"): (0, 3650), ("rectification_notices", "hazard_count"): (0, 1000),
    ("bills", "amount_cents"): (0, 10**12), ("form_definitions", "form_version"): (1, 10**6),
    ("submissions", "form_version"): (1, 10**6),
}
CHOICES: dict[tuple[str, str], frozenset[str]] = {
    ("jobs", "status"): frozenset(Status), ("jobs", "kind"): frozenset(KINDS),
    ("submissions", "state"): frozenset({"draft", "submitted"}),
    ("interactions", "kind"): frozenset({"note", "call", VALVE_CLOSED, *HOLD_KINDS}),
    ("part_requests", "state"): frozenset(PART_STATES),
}
# Fields naming another record or a device: as long as the wire's ids.
ID_FIELDS = frozenset({"customer_id", "meter_id", "job_id", "submission_id", "attachment_id",
                       "reading_id", "notice_id", "check_job_id", "matched_customer_id",
                       "device_id", "by_user", "assignee", "decided_by", "sha256"})


@dataclass(frozen=True)
class FieldType:
    storage: str  # TEXT, INTEGER or REAL, as the DDL declares it
    required: bool  # NOT NULL without a default: an insert must give it
    nullable: bool


@cache
def field_types() -> dict[str, dict[str, FieldType]]:
    """Every synced table's fields as the DDL declares them."""
    db = sqlite3.connect(":memory:")
    try:
        db.executescript("".join(RECORD_SCHEMA))
        out: dict[str, dict[str, FieldType]] = {}
        for table, spec in TABLES.items():
            cols = {r[1]: r for r in db.execute(f'PRAGMA table_xinfo("{table}")')}
            out[table] = {c: FieldType(storage=cols[c][2].upper(),
                                       required=bool(cols[c][3]) and cols[c][4] is None,
                                       nullable=not cols[c][3])
                          for c in spec.columns}
        return out
    finally:
        db.close()


def required_missing(table: str, fields: dict[str, Any]) -> list[str]:
    """The required fields an insert of ``table`` lacks (or gives as null)."""
    return [c for c, t in field_types()[table].items() if t.required and fields.get(c) is None]


def check(table: str, field: str, value: Any) -> str | None:
    """Why ``value`` cannot be stored in ``table.field``, or None when it can."""
    kind = field_types()[table][field]
    if value is None:
        return None if kind.nullable else "is required and cannot be empty"
    if kind.storage == "TEXT":
        return _text(table, field, value)
    if isinstance(value, bool):  # JSON true is not the number 1
        return f"must be a number, not {json.dumps(value)}"
    if kind.storage == "INTEGER":
        if not isinstance(value, int):
            return f"must be a whole number, not {type(value).__name__}"
        low, high = RANGES.get((table, field), INT64)
        return None if low <= value <= high else f"must be between {low} and {high}"
    if not isinstance(value, int | float):
        return f"must be a number, not {type(value).__name__}"
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    low, high = RANGES.get((table, field), (-1e300, 1e300))
    if isinstance(value, int) and not INT64[0] <= value <= INT64[1]:
        return "is too large a number"
    return None if low <= value <= high else f"must be between {low:g} and {high:g}"


def _text(table: str, field: str, value: Any) -> str | None:
    if not isinstance(value, str):
        return f"must be text, not {type(value).__name__}"
    limit = ID_MAX if field in ID_FIELDS else LONG_TEXT.get((table, field), TEXT_MAX)
    if len(value) > limit:
        return f"has {len(value)} characters; at most {limit} are kept"
    if "\x00" in value:
        return "contains a NUL character"
    choices = CHOICES.get((table, field))
    if choices is not None and value not in choices:
        return f"must be one of {sorted(choices)}"
    if (table, field) in JSON_FIELDS:
        try:
            json.loads(value)
        except ValueError:
            return "must be JSON text"
    if field.endswith("_at") or field == "at":
        return _timestamp(value)
    if field.endswith("_on"):
        try:
            date.fromisoformat(value)
        except ValueError:
            return f"must be a date (YYYY-MM-DD), not {value[:40]!r}"
    return None


def _timestamp(value: str) -> str | None:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return f"must be an ISO 8601 time, not {value[:40]!r}"
    return None
