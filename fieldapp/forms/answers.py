"""What a well-typed answer looks like for each question type, and the code when it is not.

Answers are stored as JSON, so each type has one plain JSON shape:

    text, barcode           "string"
    integer                 42                      (not 42.0, not "42", not true)
    decimal, meter_reading  12.5 or 12              (meter readings are never negative)
    select_one              "choice_value"
    select_multiple         ["a", "b"]              (no repeats)
    yes_no                  "yes" | "no"
    pass_fail_na            "pass" | "fail" | "na"
    date / time             "2025-03-01" / "14:30" or "14:30:15"
    photo                   ["attachment-id", …]    (photos may also arrive as attachments)
    signature               "signature-id"
    gps                     {"lat": 32.05, "lon": 118.78, "accuracy": 8.0}
    hidden                  any JSON scalar the app filled in
    repeat                  [{child answers}, …]    (one dict per instance)

``None`` (no answer) always type-checks: whether it is allowed is the ``required`` rule's job.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time
from typing import Any

YES_NO = ("yes", "no")
PASS_FAIL_NA = ("pass", "fail", "na")
READ_ONLY_TYPES = frozenset({"note", "calculate"})
CONTAINER_TYPES = frozenset({"group", "repeat"})

TypeProblem = tuple[str, dict[str, Any]]


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _valid_date(x: Any) -> bool:
    if not (isinstance(x, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", x)):
        return False
    try:
        date.fromisoformat(x)
    except ValueError:
        return False
    return True


def _valid_time(x: Any) -> bool:
    if not (isinstance(x, str) and re.fullmatch(r"\d{2}:\d{2}(:\d{2})?", x)):
        return False
    try:
        time.fromisoformat(x)
    except ValueError:
        return False
    return True


def _valid_datetime(x: Any) -> bool:
    """A local date and time as the technician read it ("2026-11-24 09:30", or ISO 8601
    with a T, seconds and an offset, as ODK writes a dateTime)."""
    if not (isinstance(x, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}"
                                                r"(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?", x)):
        return False
    try:
        datetime.fromisoformat(x)
    except ValueError:
        return False
    return True


# A geotrace is a line of at least 2 points (a pipe's route walked), a geoshape an area of
# at least 3 (closed by its first point, as ODK closes it); each point as a gps answer.
PATH_POINTS = {"geotrace": 2, "geoshape": 3}
MAX_PATH_POINTS = 5000


def _path_problem(qtype: str, x: Any) -> TypeProblem | None:
    if not isinstance(x, list):
        return "expected_points", {}
    for point in x:
        if (problem := _gps_problem(point)) is not None:
            return problem
    distinct = {(p["lat"], p["lon"]) for p in x}
    if len(distinct) < PATH_POINTS[qtype]:
        return "too_few_points", {"needed": PATH_POINTS[qtype]}
    return ("too_many_points", {"max": MAX_PATH_POINTS}) if len(x) > MAX_PATH_POINTS else None


def _gps_problem(x: Any) -> TypeProblem | None:
    if not (isinstance(x, dict) and "lat" in x and "lon" in x
            and set(x) <= {"lat", "lon", "accuracy", "altitude"}
            and all(_is_number(x[k]) for k in x)):
        return "expected_gps", {}
    if not (-90 <= x["lat"] <= 90 and -180 <= x["lon"] <= 180) or x.get("accuracy", 0) < 0:
        return "gps_out_of_range", {"lat": x["lat"], "lon": x["lon"]}
    return None


def type_problem(qtype: str, value: Any, choices: tuple[str, ...] = ()) -> TypeProblem | None:
    """The (code, params) for a value of the wrong shape for ``qtype``, or None."""
    if value is None:
        return None
    if qtype in READ_ONLY_TYPES:
        return "read_only", {}
    if qtype == "group":
        return "not_answerable", {}
    if qtype in ("text", "barcode"):
        return None if isinstance(value, str) else ("expected_text", {})
    if qtype == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else ("expected_integer", {})
    if qtype == "decimal":
        return None if _is_number(value) else ("expected_number", {})
    if qtype == "meter_reading":
        if not _is_number(value):
            return "expected_number", {}
        return ("negative_reading", {"value": value}) if value < 0 else None
    if qtype in ("select_one", "yes_no", "pass_fail_na"):
        allowed = {"yes_no": YES_NO, "pass_fail_na": PASS_FAIL_NA}.get(qtype, choices)
        return None if isinstance(value, str) and value in allowed else (
            "invalid_choice", {"value": value})
    if qtype == "select_multiple":
        if not (isinstance(value, list) and all(isinstance(i, str) for i in value)):
            return "expected_list", {}
        unknown = [i for i in value if i not in choices]
        if unknown:
            return "invalid_choice", {"value": unknown[0]}
        return ("duplicate_choice", {}) if len(set(value)) != len(value) else None
    if qtype == "date":
        return None if _valid_date(value) else ("expected_date", {})
    if qtype == "time":
        return None if _valid_time(value) else ("expected_time", {})
    if qtype == "datetime":
        return None if _valid_datetime(value) else ("expected_datetime", {})
    if qtype in ("photo", "audio", "video"):
        ok = isinstance(value, list) and all(isinstance(i, str) and i for i in value)
        return None if ok else ("expected_attachments", {})
    if qtype == "signature":
        return None if isinstance(value, str) and value else ("expected_signature", {})
    if qtype == "gps":
        return _gps_problem(value)
    if qtype in PATH_POINTS:
        return _path_problem(qtype, value)
    if qtype == "hidden":
        ok = isinstance(value, str | bool) or _is_number(value)
        return None if ok else ("expected_scalar", {})
    if qtype == "repeat":
        ok = isinstance(value, list) and all(isinstance(i, dict) for i in value)
        return None if ok else ("expected_repeat", {})
    return "unknown_type", {"type": qtype}
