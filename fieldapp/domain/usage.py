"""Gas use by month from meter readings, for the customer's usage chart.

Each reading's difference from the one before on the same meter is the use of the month the
later reading was taken in (meters are read monthly). A reading lower than the one before is
a meter exchange or a correction: it starts the meter afresh rather than counting negative
use. Months without a reading are None: no data, which is not the same as zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any


def month_key(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def last_months(today: date, months: int) -> list[str]:
    """``months`` month keys ending with today's, oldest first."""
    index = today.year * 12 + today.month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - months + 1, index + 1)]


def monthly_usage(readings: Iterable[Mapping[str, Any]], today: date,
                  months: int = 24) -> list[tuple[str, float | None]]:
    """(YYYY-MM, m³ or None) for the ``months`` months up to ``today``'s, oldest first.
    ``readings``: rows with meter_id, read_at (ISO 8601) and value."""
    by_meter: dict[str, list[tuple[str, float]]] = {}
    for r in readings:
        if r.get("value") is None or not r.get("read_at"):
            continue
        by_meter.setdefault(r["meter_id"], []).append((r["read_at"], float(r["value"])))
    used: dict[str, float] = {}
    for rows in by_meter.values():
        rows.sort()
        for (_, before), (at, after) in zip(rows, rows[1:], strict=False):
            if after >= before:
                key = at[:7]
                used[key] = used.get(key, 0.0) + after - before
    return [(key, round(used[key], 1) if key in used else None)
            for key in last_months(today, months)]
