"""Applying what the server sent to the local replica without losing unsent local work."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fieldapp.changes import Changes
from fieldapp.records import TABLES
from fieldapp.wire import RecordChange

if TYPE_CHECKING:
    from fieldapp.replica import Replica


@dataclass
class Applied:
    changes: Changes = field(default_factory=Changes)
    left_jobs: set[str] = field(default_factory=set)  # jobs that left this device's scope
    kept: set[str] = field(default_factory=set)  # tombstoned, but kept for unsent local work


def apply_changes(replica: Replica, changes: list[RecordChange],
                  cursor: int | None = None) -> Applied:
    """Upsert pulled rows in one transaction, with the new cursor when given.

    Fields with a local change still waiting in the outbox keep their local value (the
    push decides them); a tombstone never deletes a record whose local work the server
    has not taken (pending, rejected or in conflict). Storing the cursor in the same
    transaction means a kill mid-pull neither skips nor repeats a page.
    """
    tables: set[str] = set()
    ids: set[str] = set()
    applied = Applied()
    upserts: dict[tuple[str, tuple[str, ...]], list[list[Any]]] = {}
    with replica.transaction() as db:
        pending = _pending_fields(db)
        deleting = {(t, r) for t, r in db.execute(
            "SELECT tbl, record_id FROM outbox WHERE state = 'pending' AND op = 'delete'")}
        for change in changes:
            spec = TABLES.get(change.table)
            if spec is None:
                continue  # a table this client version does not know: ignore, never crash
            if change.row is None:
                if replica.outbox.record_state(change.table, change.record_id) != "synced":
                    applied.kept.add(change.record_id)
                    continue
                db.execute(f"DELETE FROM [{change.table}] WHERE id = ?", [change.record_id])
                if change.table == "jobs":
                    applied.left_jobs.add(change.record_id)
            elif (change.table, change.record_id) in deleting:
                continue  # deleted here, the delete not pushed yet: the push decides
            elif spec.unique and not _make_room(db, change, spec.unique):
                continue  # a local record with unsent work holds its unique values
            else:
                keep = tuple(sorted(pending.get((change.table, change.record_id), ())))
                upserts.setdefault((change.table, keep), []).append(
                    [change.record_id, *(change.row.get(c) for c in spec.columns),
                     change.version, change.row.get("hlc")])
            tables.add(change.table)
            ids.add(change.record_id)
        for (table, keep), rows in upserts.items():
            db.conn.executemany(_upsert_sql(table, TABLES[table].columns, keep), rows)
        if cursor is not None:
            db.execute("INSERT INTO sync_state(key, value) VALUES ('cursor', ?)"
                       " ON CONFLICT(key) DO UPDATE SET value = excluded.value", [str(cursor)])
    applied.changes = Changes(frozenset(tables), frozenset(ids))
    return applied


def _make_room(db: Any, change: RecordChange, unique: tuple[str, ...]) -> bool:
    """Before a pulled record lands, remove a local one holding its unique values under
    another id (two devices answered one question: the server kept the other answer and
    this device's for review). False when that local record still has unsent work."""
    assert change.row is not None
    where = " AND ".join(f"[{c}] = ?" for c in unique)
    values = [change.row.get(c) for c in unique]
    twins = [r for (r,) in db.execute(f"SELECT id FROM [{change.table}] WHERE {where}"
                                     " AND id != ?", [*values, change.record_id])]
    for twin in twins:
        if db.execute("SELECT 1 FROM outbox WHERE tbl = ? AND record_id = ? AND"
                      " state = 'pending' LIMIT 1", [change.table, twin]).fetchone():
            return False
        db.execute(f"DELETE FROM [{change.table}] WHERE id = ?", [twin])
    return True


def _pending_fields(db: Any) -> dict[tuple[str, str], set[str]]:
    """Fields with a local change not yet accepted, per record (one query per page)."""
    found: dict[tuple[str, str], set[str]] = {}
    for table, record_id, fields in db.execute(
            "SELECT tbl, record_id, fields FROM outbox WHERE state = 'pending'"):
        found.setdefault((table, record_id), set()).update(json.loads(fields))
    return found


def _upsert_sql(table: str, cols: tuple[str, ...], keep: tuple[str, ...]) -> str:
    """Insert a whole row; on an existing record leave the ``keep`` (pending) fields alone."""
    names = ["id", *cols, "version", "hlc"]
    updates = ", ".join(f"[{c}] = excluded.[{c}]" for c in names[1:] if c not in keep)
    return (f"INSERT INTO [{table}] ({', '.join(f'[{c}]' for c in names)})"
            f" VALUES ({', '.join('?' * len(names))}) ON CONFLICT(id) DO UPDATE SET {updates}")
