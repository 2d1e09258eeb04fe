"""The link in an inspection reminder that moves one planned visit without signing in,
made by the rules engine and opened on the portal (``/portal/a/{token}``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sync_server.services.keys import sign
from sync_server.storage import server_state
from sync_server.storage.db import Connection
from sync_server.storage.server_state import PORTAL_URL

APPOINTMENT = "appointment"  # what a reminder's link is signed for
LINK_DAYS = 14  # a reminder's link works this long, and never past the visit


def set_public_url(conn: Connection, url: str) -> None:
    server_state.write(conn, PORTAL_URL, url.rstrip("/"))


def appointment_link(conn: Connection, job_id: str, customer_id: str, due: datetime,
                     now: datetime) -> str:
    """The link that moves one planned visit without signing in: valid LINK_DAYS and never
    past the visit. Absolute when the portal's public address is known."""
    expires = min(due, now + timedelta(days=LINK_DAYS))
    token = sign(conn, APPOINTMENT, {"j": job_id, "c": customer_id}, expires)
    return (server_state.read(conn, PORTAL_URL) or "") + "/portal/a/" + token
