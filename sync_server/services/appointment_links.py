"""The link in an inspection reminder that moves one planned visit without signing in,
made by the rules engine and opened on the portal (``/portal/a/{token}``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sync_server.services.keys import sign
from sync_server.storage.db import Connection

APPOINTMENT = "appointment"  # what a reminder's link is signed for
LINK_DAYS = 14  # a reminder's link works this long, and never past the visit
PUBLIC_URL = "portal.url"  # server_state: where customers reach the portal


def set_public_url(conn: Connection, url: str) -> None:
    conn.execute("INSERT INTO server_state(key, value) VALUES (?, ?) ON CONFLICT (key)"
                 " DO UPDATE SET value = excluded.value", [PUBLIC_URL, url.rstrip("/")])


def appointment_link(conn: Connection, job_id: str, customer_id: str, due: datetime,
                     now: datetime) -> str:
    """The link that moves one planned visit without signing in: valid LINK_DAYS and never
    past the visit. Absolute when the portal's public address is known."""
    expires = min(due, now + timedelta(days=LINK_DAYS))
    row = conn.execute("SELECT value FROM server_state WHERE key = ?", [PUBLIC_URL]).fetchone()
    token = sign(conn, APPOINTMENT, {"j": job_id, "c": customer_id}, expires)
    return (row[0] if row else "") + "/portal/a/" + token
