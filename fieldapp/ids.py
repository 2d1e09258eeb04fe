"""Record ids: UUIDv7, so offline creation never collides and ids sort by time.

Times (the utility's zone, now_iso) live in ``fieldapp.local_time``.
"""

from __future__ import annotations

import uuid6


def new_id() -> str:
    return str(uuid6.uuid7())
