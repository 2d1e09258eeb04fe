"""Users, passwords, and the tokens that carry a login: a tablet's device token or an
office browser's session.

Passwords are argon2 hashes. A token is random, shown to its holder once and stored here
only as its sha256 (a random 256-bit secret needs no slow hash), with when it was issued
and when it expires. The two kinds are marked apart (``devices.kind``): a device token
opens the sync API only, a session the back office only, so a 12-hour browser cookie can
never be turned into a 30-day device token. Refresh and rotation are in ``token_rotation``,
password guessing in ``throttle``.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Request

from sync_server import faults
from sync_server.errors import ApiError
from sync_server.storage.db import Connection, Storage, utc_now

_hasher = PasswordHasher()
DEVICE, SESSION = "device", "session"
# Why a login was ended before its expiry (``devices.ended_reason``).
TOKEN_REUSED, PASSWORD_RESET, ACCOUNT_DISABLED = "token_reused", "password_reset", \
    "account_disabled"
# What every account's name and first password must be, wherever it is made (office, init,
# import): a lowercase login name, and a password of at least eight characters.
USERNAME = re.compile(r"[a-z][a-z0-9_]{2,31}")
MIN_PASSWORD = 8
RELEASED = "released"  # an admin handed the tablet on: the next account to log in takes it


@dataclass(frozen=True)
class Principal:
    username: str
    display_name: str
    role: str
    district: str | None
    device_id: str
    revoked: bool = False  # withdrawn: may only send what it holds, then confirm its wipe
    rotated: bool = False  # the new token of a refresh, first used: the old one may go
    presented: str = ""  # hash of the token this request came with


@dataclass(frozen=True)
class Issued:
    token: str
    issued_at: str
    expires_at: str


class TokenReused(ApiError):
    """A token a rotation had retired came back: a copy is in someone else's hands."""

    def __init__(self, device_id: str) -> None:
        super().__init__(401, TOKEN_REUSED, "this token had been replaced and was presented"
                         " again, as a copied token would be: every token of the device is"
                         " ended; log in again")
        self.device_id = device_id


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_password(user: Any, password: str) -> bool:
    """One argon2 verification whether or not the user exists (``None``: against a dummy
    hash), so an unknown name takes as long to refuse as a wrong password."""
    faults.password_check()
    try:
        return _hasher.verify(user["password_hash"] if user else _dummy_hash(), password) \
            and user is not None
    except (VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(conn: Connection, username: str, display_name: str, role: str,
             password: str, district: str | None = None, skills: list[str] | None = None,
             password_hash: str | None = None) -> None:
    """Create or update an account; ``password_hash`` is ``password`` already hashed (many
    accounts seeded with one password are hashed once: argon2 takes a fifth of a second)."""
    conn.execute(
        "INSERT INTO users(username, display_name, role, district, skills, password_hash)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(username) DO UPDATE SET"
        " display_name = excluded.display_name, role = excluded.role,"
        " district = excluded.district, skills = excluded.skills,"
        " password_hash = excluded.password_hash",
        [username, display_name, role, district, json.dumps(skills or [], ensure_ascii=False),
         password_hash or hash_password(password)])


def new_token(ttl: timedelta) -> tuple[str, str, str]:
    """A fresh random token with its issue and expiry times (ISO, UTC)."""
    now = datetime.now(UTC)
    return (secrets.token_urlsafe(32), now.isoformat(timespec="seconds"),
            (now + ttl).isoformat(timespec="seconds"))


def issue(conn: Connection, user: Any, device_id: str, device_name: str, ttl: timedelta,
          kind: str = DEVICE) -> Issued:
    """A new login for a user whose password was checked: every check comes before the
    write, so a refusal leaves nothing behind. A device id belongs to the account that
    first logged in with it; that account logging in again starts a new token family."""
    owner = conn.execute("SELECT username, revoked_at, kind, ended_reason FROM devices"
                         " WHERE device_id = ?", [device_id]).fetchone()
    if owner and owner["revoked_at"]:
        raise ApiError(403, "device_revoked", "this device was revoked by an administrator")
    if owner and (owner["kind"] != kind or owner["username"] != user["username"]
                  and owner["ended_reason"] != RELEASED):
        raise ApiError(403, "device_taken", "this device id is registered to another account;"
                       " an administrator can hand the tablet on (用户与设备)")
    token, issued, expires = new_token(ttl)
    conn.execute(
        "INSERT INTO devices(device_id, username, name, token_hash, created_at, issued_at,"
        " expires_at, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(device_id) DO UPDATE"
        " SET username = excluded.username, name = excluded.name,"
        " token_hash = excluded.token_hash,"
        " issued_at = excluded.issued_at, expires_at = excluded.expires_at,"
        " previous_token_hash = NULL, ended_at = NULL, ended_reason = NULL",
        [device_id, user["username"], device_name, token_hash(token), utc_now(), issued,
         expires, kind])
    # A new family: tokens of the last one are simply unknown now. Left as "retired",
    # a copy of one could end every later login of the device, again and again.
    conn.execute("DELETE FROM retired_tokens WHERE device_id = ?", [device_id])
    return Issued(token, issued, expires)


def end_logins(conn: Connection, username: str, reason: str) -> int:
    """End every device token and office session of an account at once (a password reset,
    a disabled account); returns how many. Nothing on the tablets is wiped: they ask for
    the password again. After a reset, a revoked tablet keeps only what it has left (hand
    in its work and confirm its wipe); disabling refuses even that."""
    now = utc_now()
    return len(conn.execute(
        "UPDATE devices SET ended_at = ?, ended_reason = ?, previous_token_hash = NULL"
        " WHERE username = ? AND ended_at IS NULL AND expires_at > ?"
        " AND (revoked_at IS NULL OR ? = ?) RETURNING device_id",
        [now, reason, username, now, reason, ACCOUNT_DISABLED]).fetchall())


def _ended(reason: str, active: bool) -> ApiError:
    if reason == TOKEN_REUSED:
        return TokenReused("")
    if reason == PASSWORD_RESET:
        return ApiError(401, PASSWORD_RESET, "the password of this account was reset;"
                        " log in again with the new one")
    if reason == RELEASED:
        return ApiError(401, "device_released", "an administrator handed this tablet on;"
                        " log in again")
    if not active:
        return ApiError(401, "user_disabled", "this user account is disabled")
    return ApiError(401, "login_ended", "this login was ended when the account was disabled;"
                    " log in again")


def authenticate(conn: Connection, authorization: str | None, *, sending: bool = False,
                 kind: str = DEVICE) -> Principal:
    """The token's user and device. A revoked tablet is refused, except (``sending``) to hand
    in the work it holds and confirm its wipe: nothing a technician captured is lost to a
    revocation. Once it has confirmed, its token is refused everywhere."""
    if not authorization or not authorization.startswith("Bearer "):
        raise ApiError(401, "missing_token", "an Authorization: Bearer token is required")
    presented = token_hash(authorization.removeprefix("Bearer ").strip())
    row = conn.execute(
        "SELECT d.device_id, d.expires_at, d.revoked_at, d.wiped_at, d.token_hash AS current,"
        " d.previous_token_hash AS previous, d.kind, d.ended_reason, u.* FROM devices d"
        " JOIN users u ON u.username = d.username"
        " WHERE d.token_hash = ? OR d.previous_token_hash = ?", [presented, presented]).fetchone()
    if row is None:
        retired = conn.execute("SELECT device_id FROM retired_tokens WHERE token_hash = ?",
                               [presented]).fetchone()
        if retired:
            raise TokenReused(retired[0])
        raise ApiError(401, "invalid_token", "the token is not known; log in again")
    if row["kind"] != kind:
        if row["kind"] == SESSION:
            raise ApiError(401, "session_token", "a back-office session does not open the"
                           " sync API; log in from the tablet app")
        raise ApiError(401, "invalid_token", "a device token does not open the back office")
    if row["revoked_at"] and (not sending or row["wiped_at"]):
        raise ApiError(401, "device_revoked", "this device was revoked by an administrator")
    if row["ended_reason"]:
        raise _ended(row["ended_reason"], bool(row["active"]))
    if row["expires_at"] <= datetime.now(UTC).isoformat(timespec="seconds"):
        raise ApiError(401, "token_expired", "the token has expired; log in again")
    if not row["active"]:
        raise ApiError(401, "user_disabled", "this user account is disabled")
    return Principal(row["username"], row["display_name"], row["role"], row["district"],
                     row["device_id"], revoked=bool(row["revoked_at"]),
                     rotated=row["previous"] is not None and row["current"] == presented,
                     presented=presented)


def principal_of(db: Storage, authorization: str | None, *, sending: bool = False,
                 kind: str = DEVICE) -> Principal:
    """``authenticate`` in a read, then what a request leaves behind in short writes: a
    replayed old token ends its family; the first use of a refreshed token retires the one
    it replaced; "last seen", at most once a minute (a write per request would queue every
    read of the morning rush behind the single writer)."""
    from sync_server.services import token_rotation

    try:
        with db.read() as conn:
            who = authenticate(conn, authorization, sending=sending, kind=kind)
            seen = conn.execute("SELECT last_seen_at FROM devices WHERE device_id = ?",
                                [who.device_id]).fetchone()[0]
    except TokenReused as reused:
        if reused.device_id:
            with db.write() as conn:
                token_rotation.end_family(conn, reused.device_id)
        raise
    now = utc_now()
    minute_ago = (datetime.fromisoformat(now) - timedelta(minutes=1)).isoformat(
        timespec="milliseconds")
    if not seen or seen < minute_ago or who.rotated:
        with db.write() as conn:
            conn.execute("UPDATE devices SET last_seen_at = ? WHERE device_id = ?",
                         [now, who.device_id])
            if who.rotated:
                token_rotation.retire_previous(conn, who)
    return who


def client_address(request: Request) -> str:
    """The client's address, which throttling counts by: behind a proxy named in
    ``--forwarded-allow-ips``, the one the proxy reports (uvicorn's proxy headers)."""
    return request.client.host if request.client else "unknown"
