"""What a meter used over the same days of earlier years: the fair measure of a reading's use.

    same_period_daily_use(conn, meter_id, since, until)   # m³ a day, or None

Gas use follows the season (a Nanjing household burns two or three times as much in January
as in August), so a November reading compared with the six readings before it (May to
October) looks abnormal every year. Compared with the same days a year (or two, three)
earlier, it does not: only a real change does. The meter's index on a past day is read
between the two readings around it (linearly); a year without readings around both ends
gives nothing, and a meter without such a year falls back to the recent comparison.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from fieldapp.local_time import moment
from sync_server.storage.db import Connection

YEARS = 3  # earlier years compared, the same days in each
REACH = timedelta(days=62)  # a past day's index is read between readings at most this far


def same_period_daily_use(conn: Connection, meter_id: str, since: str,
                          until: str) -> float | None:
    """The meter's daily use between ``since`` and ``until`` (two readings' times), averaged
    over the same days of up to ``YEARS`` earlier years; None when no year has readings
    around both ends."""
    start, end = moment(since), moment(until)
    if end <= start:
        return None
    # The readings around each year's two ends: the earliest year's start needs one before.
    rows = conn.execute(
        "SELECT read_at, value FROM readings WHERE meter_id = ? AND value IS NOT NULL"
        " AND read_at >= ? AND read_at < ? ORDER BY read_at",
        [meter_id, (_shifted(start, YEARS) - REACH).isoformat()[:10],
         (_shifted(end, 1) + REACH).isoformat()]).fetchall()
    history = [(moment(r[0]), float(r[1])) for r in rows]
    uses = []
    for years in range(1, YEARS + 1):
        a, b = _index_at(history, _shifted(start, years)), _index_at(history, _shifted(end, years))
        if a is not None and b is not None and b >= a:
            uses.append((b - a) / ((end - start).total_seconds() / 86400))
    return round(sum(uses) / len(uses), 2) if uses else None


def _shifted(when: datetime, years: int) -> datetime:
    """The same moment ``years`` earlier (29 February as the 28th)."""
    try:
        return when.replace(year=when.year - years)
    except ValueError:
        return when.replace(year=when.year - years, day=28)


def _index_at(history: list[tuple[datetime, float]], when: datetime) -> float | None:
    """The meter's index at ``when``, between the readings just before and after it."""
    before = [(t, v) for t, v in history if t <= when]
    after = [(t, v) for t, v in history if t >= when]
    if not before or not after:
        return None
    (t0, v0), (t1, v1) = before[-1], after[0]
    if when - t0 > REACH or t1 - when > REACH:
        return None
    if t1 == t0:
        return v0
    return v0 + (v1 - v0) * (when - t0).total_seconds() / (t1 - t0).total_seconds()
