"""Users, device login and per-device bearer tokens.

Passwords are argon2 hashes. A token is random, shown to its device once and stored
here only as its sha256 (a random 256-bit secret needs no slow hash), with an expiry.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Request

from sync_server.db import Connection, Storage, utc_now
from sync_server.errors import ApiError

_hasher = PasswordHasher()


@dataclass(frozen=True)
class Principal:
    username: str
    display_name: str
    role: str
    district: str | None
    device_id: str
    revoked: bool = False  # withdrawn: may only send what it holds, then confirm its wipe
    rotated: bool = False  # the new token of a refresh, first used: the old one may go


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(conn: Connection, username: str, display_name: str, role: str,
             password: str, district: str | None = None, skills: list[str] | None = None) -> None:
    conn.execute(
        "INSERT INTO users(username, display_name, role, district, skills, password_hash)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(username) DO UPDATE SET"
        " display_name = excluded.display_name, role = excluded.role,"
        " district = excluded.district, skills = excluded.skills,"
        " password_hash = excluded.password_hash",
        [username, display_name, role, district, json.dumps(skills or [], ensure_ascii=False),
         hash_password(password)])


def login(conn: Connection, username: str, password: str, device_id: str,
          device_name: str, ttl: timedelta) -> tuple[str, str, Any]:
    """Check the password and issue a new token for the device; returns (token, expiry, user)."""
    user = conn.execute("SELECT * FROM users WHERE username = ? AND active = 1",
                        [username]).fetchone()
    try:
        if user is None:
            raise VerificationError("unknown user")
        _hasher.verify(user["password_hash"], password)
    except (VerificationError, InvalidHashError) as exc:
        # One message for unknown user and wrong password: do not reveal which.
        raise ApiError(401, "bad_credentials", "wrong username or password") from exc
    owner = conn.execute("SELECT username, revoked_at FROM devices WHERE device_id = ?",
                         [device_id]).fetchone()
    if owner and owner["revoked_at"]:
        raise ApiError(403, "device_revoked", "this device was revoked by an administrator")
    token = secrets.token_urlsafe(32)
    expires = (datetime.now(UTC) + ttl).isoformat(timespec="seconds")
    conn.execute(
        "INSERT INTO devices(device_id, username, name, token_hash, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(device_id) DO UPDATE SET"
        " username = excluded.username, name = excluded.name,"
        " token_hash = excluded.token_hash, expires_at = excluded.expires_at,"
        " previous_token_hash = NULL",
        [device_id, username, device_name, token_hash(token), utc_now(), expires])
    return token, expires, user


def authenticate(conn: Connection, authorization: str | None, *,
                 sending: bool = False) -> Principal:
    """The token's user and device. A revoked tablet is refused, except (``sending``) to hand
    in the work it holds and confirm its wipe: nothing a technician captured is lost to a
    revocation. Once it has confirmed, its token is refused everywhere."""
    if not authorization or not authorization.startswith("Bearer "):
        raise ApiError(401, "missing_token", "an Authorization: Bearer token is required")
    presented = token_hash(authorization.removeprefix("Bearer ").strip())
    row = conn.execute(
        "SELECT d.device_id, d.expires_at, d.revoked_at, d.wiped_at, d.token_hash AS current,"
        " d.previous_token_hash AS previous, u.* FROM devices d"
        " JOIN users u ON u.username = d.username"
        " WHERE d.token_hash = ? OR d.previous_token_hash = ?", [presented, presented]).fetchone()
    if row is None:
        raise ApiError(401, "invalid_token", "the token is not known; log in again")
    if row["revoked_at"] and (not sending or row["wiped_at"]):
        raise ApiError(401, "device_revoked", "this device was revoked by an administrator")
    if row["expires_at"] <= datetime.now(UTC).isoformat(timespec="seconds"):
        raise ApiError(401, "token_expired", "the token has expired; log in again")
    if not row["active"]:
        raise ApiError(401, "user_disabled", "this user account is disabled")
    return Principal(row["username"], row["display_name"], row["role"], row["district"],
                     row["device_id"], revoked=bool(row["revoked_at"]),
                     rotated=row["previous"] is not None and row["current"] == presented)


def refresh(conn: Connection, who: Principal, presented: str, ttl: timedelta
            ) -> tuple[str, str]:
    """A new token for the caller's device, with a new expiry; returns (token, expiry).
    The token presented stays valid until the new one is first used, so an answer lost on
    the way leaves the tablet with a token that still works."""
    token = secrets.token_urlsafe(32)
    expires = (datetime.now(UTC) + ttl).isoformat(timespec="seconds")
    conn.execute("UPDATE devices SET token_hash = ?, previous_token_hash = ?, expires_at = ?"
                 " WHERE device_id = ?",
                 [token_hash(token), token_hash(presented), expires, who.device_id])
    return token, expires


# Password guessing: after this many wrong passwords within THROTTLE_WINDOW, further
# attempts for that user (or from that client address) are refused without being checked.
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_CLIENT = 20
THROTTLE_WINDOW = timedelta(minutes=15)
T = TypeVar("T")


def client_address(request: Request) -> str:
    """The client's address, which throttling counts by: behind a proxy named in
    ``--forwarded-allow-ips``, the one the proxy reports (uvicorn's proxy headers)."""
    return request.client.host if request.client else "unknown"


def throttled(db: Storage, username: str, client: str,
              attempt: Callable[[Connection], T]) -> T:
    """Run a login ``attempt`` unless the user or the client has failed too often lately.

    A wrong password is recorded in its own transaction (the attempt's is rolled back);
    a right one clears the user's record. The count lives in the database, so every
    server process behind a load balancer sees the same one.
    """
    since = (datetime.now(UTC) - THROTTLE_WINDOW).isoformat(timespec="milliseconds")
    try:
        with db.write() as conn:
            by_user, by_client = conn.execute(
                "SELECT (SELECT count(*) FROM login_failures WHERE username = ? AND at > ?),"
                " (SELECT count(*) FROM login_failures WHERE client = ? AND at > ?)",
                [username, since, client, since]).fetchone()
            if by_user >= MAX_FAILURES_PER_USER or by_client >= MAX_FAILURES_PER_CLIENT:
                minutes = int(THROTTLE_WINDOW.total_seconds() // 60)
                raise ApiError(429, "too_many_attempts", "too many wrong passwords; try again"
                               f" in {minutes} minutes", detail={"retry_after_s": minutes * 60})
            result = attempt(conn)
            conn.execute("DELETE FROM login_failures WHERE username = ?", [username])
            return result
    except ApiError as exc:
        if exc.code == "bad_credentials":
            with db.write() as conn:
                conn.execute("INSERT INTO login_failures(username, client, at) VALUES (?, ?, ?)",
                             [username, client, utc_now()])
        raise
