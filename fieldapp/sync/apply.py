"""Applying what the server sent to the local replica without losing unsent local work."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

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
    with replica.transaction() as db:
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
            else:
                pending = replica.outbox.pending_fields(change.table, change.record_id)
                row = {c: change.row.get(c) for c in spec.columns if c not in pending}
                row.update(id=change.record_id, version=change.version, hlc=change.row.get("hlc"))
                db[change.table].upsert(row, pk="id", alter=False)
            tables.add(change.table)
            ids.add(change.record_id)
        if cursor is not None:
            db.execute("INSERT INTO sync_state(key, value) VALUES ('cursor', ?)"
                       " ON CONFLICT(key) DO UPDATE SET value = excluded.value", [str(cursor)])
    applied.changes = Changes(frozenset(tables), frozenset(ids))
    return applied
