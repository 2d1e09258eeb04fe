"""The change log as tamper evidence: every entry's hash covers its content and the hash of
the entry before it, so changing, removing or inserting an entry afterwards breaks the
chain from that point on.

    log(conn, entry)          # append one entry, chained (merge.py and seed.py write this way)
    seal_unsealed(conn)       # chain entries written before the chain existed (at start-up)
    verify(db)                # walk the chain: the first broken link, or how many are sound

    python -m sync_server --data var/server --verify-audit

Writes are serialised (SQLite's writer, PostgreSQL's advisory lock), so the last entry read
inside the write transaction is the one the new entry follows. Sequence numbers may have
gaps (a rejected mutation's savepoint gives its number back to nobody on PostgreSQL); a
missing entry is seen by its successor's link, not by the gap.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sync_server.db import Connection, Storage

GENESIS = "0" * 64
CHAINED = ("tbl", "record_id", "customer_id", "op", "fields", "hlc", "by_user", "device_id",
           "at", "client_at", "mutation_id", "batch_id")
BATCH = 5000


def entry_hash(prev: str, entry: Mapping[str, Any]) -> str:
    payload = json.dumps([entry.get(c) for c in CHAINED], ensure_ascii=False,
                         separators=(",", ":"))
    return hashlib.sha256((prev + payload).encode("utf-8")).hexdigest()


def last_hash(conn: Connection) -> str:
    row = conn.execute("SELECT hash FROM changes ORDER BY seq DESC LIMIT 1").fetchone()
    return (row[0] if row else None) or GENESIS


def log(conn: Connection, entry: Mapping[str, Any],
        prev: str | None = None) -> tuple[int, str]:
    """Append one change-log entry (the columns of ``CHAINED``), chained to ``prev`` (by
    default the last entry's hash: pass it when writing many); returns its seq and hash."""
    prev = last_hash(conn) if prev is None else prev
    digest = entry_hash(prev, entry)
    seq = conn.execute(
        f"INSERT INTO changes({', '.join(CHAINED)}, prev_hash, hash) VALUES"
        f" ({', '.join('?' * (len(CHAINED) + 2))}) RETURNING seq",
        [*(entry.get(c) for c in CHAINED), prev, digest]).fetchone()[0]
    return seq, digest


def seal_unsealed(conn: Connection) -> int:
    """Chain the entries that have no hash yet (a log older than the chain), in order."""
    first = conn.execute("SELECT min(seq) FROM changes WHERE hash IS NULL").fetchone()[0]
    if first is None:
        return 0
    before = conn.execute("SELECT hash FROM changes WHERE seq < ? ORDER BY seq DESC LIMIT 1",
                          [first]).fetchone()
    prev = (before[0] if before else None) or GENESIS
    sealed = 0
    for row in conn.execute("SELECT * FROM changes WHERE seq >= ? ORDER BY seq",
                            [first]).fetchall():
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
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(db: Storage) -> Verdict:
    """Walk the whole chain, page by page; stops at the first broken link."""
    prev, checked, after = GENESIS, 0, -1
    while True:
        with db.read() as conn:
            rows = [dict(r) for r in conn.execute(
                "SELECT * FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
                [after, BATCH]).fetchall()]
        if not rows:
            return Verdict(checked)
        for row in rows:
            if row["prev_hash"] != prev:
                return Verdict(checked, row["seq"], "与前一条记录的链接断开（其前有记录被删除、"
                                                    "插入或修改）")
            if row["hash"] != entry_hash(prev, row):
                return Verdict(checked, row["seq"], "记录内容与其哈希不符（该记录被修改）")
            prev, checked, after = row["hash"], checked + 1, row["seq"]
