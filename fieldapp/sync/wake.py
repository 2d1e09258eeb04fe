"""Waiting online for news: one long poll (``GET /api/v1/sync/wait``) from the replica's
cursor, answered by the server as soon as something in this tablet's scope changed (an
emergency dispatched to it), or after ``HOLD`` seconds of nothing. A True answer means
"pull now"; the pull itself is the ordinary sync.
"""

from __future__ import annotations

from fieldapp.replica import Replica
from fieldapp.sync.client import DbRunner, SyncClient
from fieldapp.sync.transport import Transport
from fieldapp.wire import WakeResponse

HOLD = 25  # seconds the server holds a wait (its maximum)
# The answer comes within the hold; the margin covers a slow link before giving up on it.
MARGIN = 15


def wait_for_news(replica: Replica, base_url: str, *, db: DbRunner | None = None,
                  hold: int = HOLD, transport: Transport | None = None) -> bool:
    """Whether the server has news after this tablet's cursor, waiting up to ``hold`` s.

    Raises what a sync raises: ``ServerUnreachable`` offline, ``AuthError`` logged out or
    revoked."""
    client = SyncClient(replica, base_url, transport=transport, timeout=hold + MARGIN, db=db)
    cursor = int(client._db(lambda: replica.state("cursor")) or 0)
    resp = client._call("GET", "/api/v1/sync/wait", params={"cursor": cursor, "hold": hold})
    return WakeResponse.model_validate(resp.json()).wake
