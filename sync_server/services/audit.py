"""The change log as tamper evidence: every entry's hash covers its content and the hash of
the entry before it, so changing, removing or inserting an entry afterwards breaks the
chain from that point on.

    log(conn, entry)          # append one entry, chained (merge.py and seed.py write this way)
    with appending():         # many log() calls in one write (a push): the head read once
    security_event(conn, who, action, subject, detail)   # an admin or security action
    seal_legacy(conn)         # chain a log written before the chain existed: once, ever
    verify(db)                # walk the chain: the first broken link, or how many are sound

    python -m sync_server --data var/server --verify-audit

Admin and security actions (accounts, passwords, revocations, rule edits, office sign-ins,
alert acknowledgements, wipe confirmations) are entries of the same chain under the table
name ``SECURITY``, which is no synced table: pull, the rules engine and the KPIs read synced
tables only, so they never see them. The chain head is also anchored outside the database
(audit_anchor.py), so a history rewritten consistently from the database alone is caught.

Writes are serialised (SQLite's writer, PostgreSQL's advisory lock), so the last entry read
inside the write transaction is the one the new entry follows. Sequence numbers may have
gaps (a rejected mutation's savepoint gives its number back to nobody on PostgreSQL); a
missing entry is seen by its successor's link, not by the gap.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sync_server.services.auth import Principal
from sync_server.storage import deferred, server_state
from sync_server.storage.db import Connection, Storage, utc_now
from sync_server.storage.server_state import LEGACY_SEAL

GENESIS = "0" * 64
CHAINED = ("tbl", "record_id", "customer_id", "op", "fields", "hlc", "by_user", "device_id",
           "at", "client_at", "mutation_id", "batch_id")
BATCH = 5000
SECURITY = "security"  # the ``tbl`` of admin and security actions (no synced table has it)
# LEGACY_SEAL absent or "done": nothing is ever sealed, a missing hash is a broken link.


# json.dumps with these options, its encoder built once: 1 µs less an entry (of 3.5).
_PAYLOAD = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def entry_hash(prev: str, entry: Mapping[str, Any]) -> str:
    payload = _PAYLOAD([entry.get(c) for c in CHAINED])
    return hashlib.sha256((prev + payload).encode("utf-8")).hexdigest()


def last_hash(conn: Connection) -> str:
    row = conn.execute("SELECT hash FROM changes ORDER BY seq DESC LIMIT 1").fetchone()
    return (row[0] if row else None) or GENESIS


def log(conn: Connection, entry: Mapping[str, Any],
        prev: str | None = None) -> tuple[int, str]:
    """Append one change-log entry (the columns of ``CHAINED``), chained to ``prev`` (by
    default the last entry's hash: pass it when writing many); returns its seq and hash."""
    head = _head.get()
    if head is not None and prev is None:
        return head.append(conn, entry)
    prev = last_hash(conn) if prev is None else prev
    digest = entry_hash(prev, entry)
    seq = conn.execute(
        f"INSERT INTO changes({', '.join(CHAINED)}, prev_hash, hash) VALUES"
        f" ({', '.join('?' * (len(CHAINED) + 2))}) RETURNING seq",
        [*(entry.get(c) for c in CHAINED), prev, digest]).fetchone()[0]
    return seq, digest


_INSERT_NUMBERED = (f"INSERT INTO changes(seq, {', '.join(CHAINED)}, prev_hash, hash)"
                    f" VALUES ({', '.join('?' * (len(CHAINED) + 3))})")


def _read_head(conn: Connection) -> tuple[int, str]:
    """The last entry's seq and hash (0 and GENESIS for an empty log)."""
    row = conn.execute("SELECT seq, hash FROM changes ORDER BY seq DESC LIMIT 1").fetchone()
    return (row[0], row[1] or GENESIS) if row else (0, GENESIS)


class _Head:
    """The last entry's seq and hash, as this write transaction left them."""

    def __init__(self) -> None:
        self.seq: int | None = None
        self.hash = GENESIS

    def append(self, conn: Connection, entry: Mapping[str, Any]) -> tuple[int, str]:
        if self.seq is None:
            self.seq, self.hash = _read_head(conn)
        # Numbered here, as log_many does: the write lock keeps every other writer out, so
        # the number after the highest is free, and no RETURNING has to wait for it.
        seq, digest = self.seq + 1, entry_hash(self.hash, entry)
        deferred.write(conn, "changes", _INSERT_NUMBERED,
                       [seq, *(entry.get(c) for c in CHAINED), self.hash, digest])
        self.seq, self.hash = seq, digest
        return seq, digest


_head: ContextVar[_Head | None] = ContextVar("audit_head", default=None)


@contextmanager
def appending() -> Iterator[None]:
    """Inside one write transaction that appends many entries one by one (a push, mutation
    by mutation): the chain's head is read once and then kept in memory, instead of read
    back before every entry. Whoever rolls back to a savepoint calls ``forget_head``."""
    token = _head.set(_Head())
    try:
        yield
    finally:
        _head.reset(token)


def forget_head() -> None:
    """A savepoint was rolled back: entries kept in memory may be gone, read it again."""
    head = _head.get()
    if head is not None:
        head.seq = None


def log_many(conn: Connection, entries: Sequence[Mapping[str, Any]]) -> list[int]:
    """Append many entries in one statement, chained in order; returns their seqs in order.
    Inside a write only: its lock keeps every other writer out, so the entries after the
    highest seq before them are numbered here, in the order they were given (no per-row
    numbering by the database, no reading them back). Nothing deletes from the log, so the
    numbers after the highest are free; a writer without the lock fails on the key."""
    if not entries:
        return []
    forget_head()  # its entries move the head on
    start, prev = _read_head(conn)
    seqs = list(range(start + 1, start + 1 + len(entries)))
    rows = []
    for seq, entry in zip(seqs, entries, strict=True):
        digest = entry_hash(prev, entry)
        rows.append([seq, *(entry.get(c) for c in CHAINED), prev, digest])
        prev = digest
    conn.executemany(_INSERT_NUMBERED, rows)
    return seqs


def security_event(conn: Connection, who: Principal | str, action: str, subject: str,
                   detail: Mapping[str, Any] | None = None) -> tuple[int, str]:
    """Chain one admin or security action: ``who`` (a principal, or the name typed at a
    failed sign-in) did ``action`` to ``subject`` (a username, device, rule or alert id).
    Call it inside the write that does the action, so both commit or neither does.
    ``detail`` never holds a secret (no password, no token)."""
    username, device = (who.username, who.device_id) if isinstance(who, Principal) \
        else (who, None)
    return log(conn, {
        "tbl": SECURITY, "record_id": subject, "customer_id": None, "op": action,
        "fields": json.dumps(dict(detail or {}), ensure_ascii=False, sort_keys=True),
        "by_user": username, "device_id": device, "at": utc_now()})


def seal_legacy(conn: Connection) -> int:
    """Chain the entries written before the chain existed, once: only while migration 20's
    mark says "pending", and only the unsealed entries before the first sealed one. Any
    other missing hash is tampering, left for ``verify`` to report; a restart never seals it.
    """
    if server_state.read(conn, LEGACY_SEAL) != "pending":
        return 0
    server_state.write(conn, LEGACY_SEAL, "done")
    first_sealed = conn.execute(
        "SELECT min(seq) FROM changes WHERE hash IS NOT NULL").fetchone()[0]
    prev, sealed = GENESIS, 0
    for row in conn.execute("SELECT * FROM changes WHERE hash IS NULL AND seq < ? ORDER BY seq",
                            [first_sealed if first_sealed is not None else 2 ** 62]).fetchall():
        entry = dict(row)
        digest = entry_hash(prev, entry)
        conn.execute("UPDATE changes SET prev_hash = ?, hash = ? WHERE seq = ?",
                     [prev, digest, entry["seq"]])
        prev = digest
        sealed += 1
    return sealed


@dataclass(frozen=True)
class Verdict:
    checked: int
    broken_at: int | None = None  # the first entry whose link or content does not hold
    problem: str = ""  # what is wrong; without broken_at, a problem of the anchors
    anchors: int = 0  # external anchors checked (audit_anchor.py)
    sound: tuple[int, str] = (-1, GENESIS)  # the last entry walked whose link held: seq, hash

    @property
    def ok(self) -> bool:
        return self.broken_at is None and not self.problem


def verify(db: Storage, since: Verdict | None = None) -> Verdict:
    """Walk the whole chain, page by page; stops at the first broken link. ``since``, a
    sound earlier verdict: walk on from the last entry it checked (its entries not again)."""
    after, prev = since.sound if since else (-1, GENESIS)
    checked = since.checked if since else 0
    while True:
        with db.read() as conn:
            rows = [dict(r) for r in conn.execute(
                "SELECT * FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
                [after, BATCH]).fetchall()]
        if not rows:
            return Verdict(checked, sound=(after, prev))
        for row in rows:
            if row["hash"] is None or row["prev_hash"] is None:
                return Verdict(checked, row["seq"], "记录的哈希被清除（该记录或其链接被篡改）")
            if row["prev_hash"] != prev:
                return Verdict(checked, row["seq"], "与前一条记录的链接断开（其前有记录被删除、"
                                                    "插入或修改）")
            if row["hash"] != entry_hash(prev, row):
                return Verdict(checked, row["seq"], "记录内容与其哈希不符（该记录被修改）")
            prev, checked, after = row["hash"], checked + 1, row["seq"]
