"""Unlocking the tablet offline: after one online login, the technician's password is checked
against a local argon2 hash, so the app opens in a basement; wrong guesses wait longer and
longer, and after too many only an online login opens it again.

    remember(replica, password)             # after a successful online login
    attempt = check(replica, password)       # at start-up
    attempt.ok / attempt.wait_s / attempt.locked

The hash and the failure count live in the replica's local state (never synced). Argon2id
with the library's defaults makes each guess cost tens of milliseconds of work; the waits
make a thief's guessing take days, and the lock ends it.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

if TYPE_CHECKING:
    from fieldapp.replica import Replica

HASH_KEY, FAILURES_KEY = "unlock.hash", "unlock.failures"
FREE_TRIES = 3  # wrong passwords without waiting (typos happen with gloves on)
LOCK_AFTER = 10  # then only an online login opens the app
WAITS_S = (30, 60, 300, 900, 3600)  # after the free tries, one per further failure
_hasher = PasswordHasher()


@dataclass(frozen=True)
class Attempt:
    ok: bool
    wait_s: int = 0  # the next try is refused until then
    locked: bool = False  # online login needed
    failures: int = 0


def remember(replica: Replica, password: str) -> None:
    """Keep a hash of the password that just logged in online; clear past failures."""
    keep(replica, hash_for(password))


def hash_for(password: str) -> str:
    """The password's argon2 hash: slow on purpose, so computed away from the database."""
    return _hasher.hash(password)


def keep(replica: Replica, password_hash: str) -> None:
    """Store a hash from :func:`hash_for` as the one that unlocks; clear past failures."""
    replica.set_state(HASH_KEY, password_hash)
    replica.set_state(FAILURES_KEY, None)


def can_unlock(replica: Replica) -> bool:
    return bool(replica.state(HASH_KEY))


def check(replica: Replica, password: str,
          clock: Callable[[], float] = time.time) -> Attempt:
    """Try a password; the attempt is counted before the hash is checked, so killing the
    app mid-check does not give a free guess. The tablet runs the three steps apart (the
    slow hash check away from the database): :func:`begin`, :func:`verified`,
    :func:`finish`."""
    started = begin(replica, clock)
    if isinstance(started, Attempt):
        return started
    return finish(replica, started, verified(started, password))


@dataclass(frozen=True)
class Pending:
    """An attempt counted, its password not yet checked against ``stored``."""

    stored: str
    failures: int  # before this attempt


def begin(replica: Replica, clock: Callable[[], float] = time.time) -> Attempt | Pending:
    """Refuse at once (locked, or still waiting), or count the attempt and hand on the hash."""
    failures, last = _failures(replica)
    if failures >= LOCK_AFTER:
        return Attempt(False, locked=True, failures=failures)
    wait = _wait(failures) - (clock() - last)
    if wait > 0:
        return Attempt(False, wait_s=math.ceil(wait), failures=failures)
    stored = replica.state(HASH_KEY)
    if not stored:
        return Attempt(False, locked=True)
    replica.set_state(FAILURES_KEY, json.dumps([failures + 1, clock()]))
    return Pending(stored, failures)


def verified(pending: Pending, password: str) -> bool:
    """The argon2 check: slow on purpose, and needs no database."""
    try:
        return bool(_hasher.verify(pending.stored, password))
    except (VerificationError, InvalidHashError):
        return False


def finish(replica: Replica, pending: Pending, ok: bool) -> Attempt:
    """The attempt's outcome: a right password clears the count, a wrong one may lock."""
    if ok:
        replica.set_state(FAILURES_KEY, None)
        return Attempt(True)
    failures = pending.failures + 1
    if failures >= LOCK_AFTER:
        return Attempt(False, locked=True, failures=failures)
    return Attempt(False, wait_s=_wait(failures), failures=failures)


def _failures(replica: Replica) -> tuple[int, float]:
    try:
        count, at = json.loads(replica.state(FAILURES_KEY) or "[0, 0]")
        return int(count), float(at)
    except (ValueError, TypeError):
        return LOCK_AFTER, 0.0  # a tampered count locks rather than opens


def _wait(failures: int) -> int:
    if failures < FREE_TRIES:
        return 0
    return WAITS_S[min(failures - FREE_TRIES, len(WAITS_S) - 1)]
