"""Record ids (UUIDv7: offline creation never collides, ids sort by time) and timestamps."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import uuid6

LOCAL_ZONE = ZoneInfo("Asia/Shanghai")


def new_id() -> str:
    return str(uuid6.uuid7())


def now_iso() -> str:
    """The current time as ISO 8601 in the utility's zone, seconds precision."""
    return datetime.now(UTC).astimezone(LOCAL_ZONE).isoformat(timespec="seconds")


def local_time(value: str | None) -> datetime | None:
    """An ISO 8601 time from a record, in the utility's zone; None if empty or unreadable.

    Records are written with an offset; a bare value is already local wall time.
    """
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.astimezone(LOCAL_ZONE) if moment.tzinfo else moment.replace(tzinfo=LOCAL_ZONE)
