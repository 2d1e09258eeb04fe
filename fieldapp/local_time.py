"""Time as the utility reads it: every record is stored in ISO 8601 with its offset and shown
in the utility's zone, on the tablet, in the office, the portal and on documents alike. A
value stored without a zone is read as wall time there, never as the machine's zone (which
may differ between a tablet and the server).

    now_iso()                         # "2026-12-03T09:15:00+08:00"
    as_local("2026-12-03T01:15:00Z")  # an aware datetime in LOCAL_ZONE, None if unreadable
    moment(value)                     # the same, raising ValueError instead
    local_text(value, "%H:%M")        # for display: "" when empty, the text as given if bad
    local_day(value)                  # the utility's calendar day of a moment
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

__all__ = ["LOCAL_ZONE", "as_local", "local_day", "local_text", "moment", "now_iso"]

LOCAL_ZONE = ZoneInfo("Asia/Shanghai")


def now_iso() -> str:
    """The current time as ISO 8601 in the utility's zone, seconds precision."""
    return datetime.now(UTC).astimezone(LOCAL_ZONE).isoformat(timespec="seconds")


def moment(value: str) -> datetime:
    """An ISO 8601 time in the utility's zone; ValueError when it is not one."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=LOCAL_ZONE)
    return parsed.astimezone(LOCAL_ZONE)


def as_local(value: str | None) -> datetime | None:
    """An ISO 8601 time from a record, in the utility's zone; None if empty or unreadable."""
    if not value:
        return None
    try:
        return moment(value)
    except ValueError:
        return None


def local_text(value: str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored time as people read it ("" when unknown; unreadable text shown as it is)."""
    if not value:
        return ""
    try:
        return moment(value).strftime(fmt)
    except ValueError:
        return value


def local_day(value: str) -> date:
    """The utility's calendar day of a stored moment."""
    return moment(value).date()
