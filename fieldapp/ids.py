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
