"""Password guessing, slowed to a stop, for the tablet login and the back office alike.

Every attempt first *reserves* a failure, in a short write transaction that also counts
the failures so far: the count and the reservation are one step under the write lock, so
N attempts in parallel can never check more than the limit's worth of passwords. The
password is then checked outside any transaction (argon2 takes a good fraction of a
second, and a push must not wait behind it); a right one withdraws its reservation in a
second short transaction and the login is issued in a third.

Failures are counted per (user, client address) and per client address, so that one
attacker cannot lock a user out of their own address; only a much higher cap counts a
user's failures from every address together. The counts live in the database, so every
server process behind a load balancer sees the same ones.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sync_server.errors import ApiError
from sync_server.services.auth import verify_password
from sync_server.storage.db import Connection, Storage, utc_now

MAX_FAILURES_PER_USER_CLIENT = 5
MAX_FAILURES_PER_CLIENT = 20
MAX_FAILURES_PER_USER = 50  # from all addresses together: a spread-out attack
THROTTLE_WINDOW = timedelta(minutes=15)
T = TypeVar("T")


def _reserve(db: Storage, username: str, client: str) -> tuple[int, Any]:
    """Count, refuse or reserve a failure; returns (reservation id, the active user or None)."""
    since = (datetime.now(UTC) - THROTTLE_WINDOW).isoformat(timespec="milliseconds")
    with db.write() as conn:
        pair, by_client, by_user = conn.execute(
            "SELECT (SELECT count(*) FROM login_failures WHERE username = ? AND client = ?"
            " AND at > ?), (SELECT count(*) FROM login_failures WHERE client = ? AND at > ?),"
            " (SELECT count(*) FROM login_failures WHERE username = ? AND at > ?)",
            [username, client, since, client, since, username, since]).fetchone()
        if pair >= MAX_FAILURES_PER_USER_CLIENT or by_client >= MAX_FAILURES_PER_CLIENT \
                or by_user >= MAX_FAILURES_PER_USER:
            minutes = int(THROTTLE_WINDOW.total_seconds() // 60)
            raise ApiError(429, "too_many_attempts", "too many wrong passwords; try again"
                           f" in {minutes} minutes", detail={"retry_after_s": minutes * 60})
        reserved = conn.execute("INSERT INTO login_failures(username, client, at)"
                                " VALUES (?, ?, ?) RETURNING id",
                                [username, client, utc_now()]).fetchone()[0]
        user = conn.execute("SELECT * FROM users WHERE username = ? AND active = 1",
                            [username]).fetchone()
    return reserved, user


def sign_in(db: Storage, username: str, password: str, client: str,
            issue: Callable[[Connection, Any], T]) -> T:
    """Check ``password`` for ``username`` unless throttled, then ``issue(conn, user)`` the
    login. A wrong password (or an unknown user: one answer for both, after the same
    argon2 work) leaves its reservation as a recorded failure."""
    reserved, user = _reserve(db, username, client)
    if not verify_password(user, password):
        raise ApiError(401, "bad_credentials", "wrong username or password")
    with db.write() as conn:  # a right password clears this address's count for the user
        conn.execute("DELETE FROM login_failures WHERE id = ? OR (username = ? AND client = ?)",
                     [reserved, username, client])
    with db.write() as conn:
        current = conn.execute("SELECT * FROM users WHERE username = ? AND active = 1",
                               [username]).fetchone()
        if current is None or current["password_hash"] != user["password_hash"]:
            # Disabled, or the password reset, while this one was being checked.
            raise ApiError(401, "bad_credentials", "wrong username or password")
        return issue(conn, current)
