"""Refreshing a device token, with rotation and reuse detection.

A tablet swaps its token for a fresh one once half its life is gone (not earlier: a
token that could be refreshed at any age would never really expire in a thief's hands).
The token presented stays valid until the new one is first used, so an answer lost on the
way strands nobody; from then on it is *retired*. A retired token presented again can
only be a copy (the tablet itself dropped it when it stored the new one), so it ends the
whole family: the device's current token stops working too, the user must log in again,
and the users page says so. Nothing on the tablet is wiped.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sync_server.errors import ApiError
from sync_server.services.auth import TOKEN_REUSED, Issued, Principal, new_token, token_hash
from sync_server.storage.db import Connection, utc_now


def refresh_after(issued_at: str | None, expires_at: str, ttl: timedelta) -> datetime:
    """When a token becomes refreshable: half-way through its life. A token from before
    issue times were recorded is taken to have lived the server's whole ``ttl``."""
    expires = datetime.fromisoformat(expires_at)
    issued = datetime.fromisoformat(issued_at) if issued_at else expires - ttl
    return issued + (expires - issued) / 2


def refresh(conn: Connection, who: Principal, ttl: timedelta) -> Issued:
    """A new token for the caller's device (the caller's token must be its current or its
    previous one, read again inside this write)."""
    row = conn.execute("SELECT token_hash, previous_token_hash, issued_at, expires_at"
                       " FROM devices WHERE device_id = ?", [who.device_id]).fetchone()
    now = datetime.now(UTC)
    if row is None or who.presented not in (row["token_hash"], row["previous_token_hash"]):
        raise ApiError(401, "invalid_token", "the token is not known; log in again")
    if who.presented == row["token_hash"]:
        due = refresh_after(row["issued_at"], row["expires_at"], ttl)
        if now < due:
            raise ApiError(409, "refresh_too_early", "a token is refreshed once half its life"
                           f" is gone, from {due.isoformat(timespec='seconds')}", detail={
                               "refresh_after": due.isoformat(timespec="seconds"),
                               "retry_after_s": int((due - now).total_seconds()) + 1})
        previous = who.presented
    else:
        # The previous token again: the answer of the last refresh was lost. That token was
        # past half-life then, so it still is; the new token nobody received is retired.
        _retire(conn, row["token_hash"], who.device_id)
        previous = row["previous_token_hash"]
    token, issued, expires = new_token(ttl)
    conn.execute("UPDATE devices SET token_hash = ?, previous_token_hash = ?, issued_at = ?,"
                 " expires_at = ? WHERE device_id = ?",
                 [token_hash(token), previous, issued, expires, who.device_id])
    # A retired token older than a token's whole life has expired anyway.
    conn.execute("DELETE FROM retired_tokens WHERE retired_at < ?",
                 [(now - ttl).isoformat(timespec="milliseconds")])
    return Issued(token, issued, expires)


def retire_previous(conn: Connection, who: Principal) -> None:
    """The refreshed token was used: the one it replaced is done (kept as retired)."""
    row = conn.execute("SELECT previous_token_hash FROM devices WHERE device_id = ?"
                       " AND token_hash = ?", [who.device_id, who.presented]).fetchone()
    if row and row[0]:
        _retire(conn, row[0], who.device_id)
        conn.execute("UPDATE devices SET previous_token_hash = NULL WHERE device_id = ?",
                     [who.device_id])


def end_family(conn: Connection, device_id: str) -> None:
    """A retired token came back: end the device's login. Its retired tokens are forgotten,
    so the same copy cannot end the user's next login too."""
    conn.execute("UPDATE devices SET ended_at = ?, ended_reason = ?, previous_token_hash = NULL"
                 " WHERE device_id = ? AND ended_at IS NULL",
                 [utc_now(), TOKEN_REUSED, device_id])
    conn.execute("DELETE FROM retired_tokens WHERE device_id = ?", [device_id])


def _retire(conn: Connection, hashed: str, device_id: str) -> None:
    conn.execute("INSERT INTO retired_tokens(token_hash, device_id, retired_at) VALUES (?, ?, ?)"
                 " ON CONFLICT(token_hash) DO NOTHING", [hashed, device_id, utc_now()])
