"""Applying what the server sent to the local replica without losing unsent local work."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fieldapp.changes import Changes
from fieldapp.records import TABLES
from fieldapp.wire import RecordChange

if TYPE_CHECKING:
    from fieldapp.replica import Replica


def apply_changes(replica: Replica, changes: list[RecordChange],
                  cursor: int | None = None) -> Changes:
    """Upsert pulled rows in one transaction, with the new cursor when given.

    Fields with a local change still waiting in the outbox keep their local value (the
    push decides them); a tombstone never deletes a record with unsent changes. Storing
    the cursor in the same transaction means a kill mid-pull neither skips nor repeats.
    """
    tables: set[str] = set()
    ids: set[str] = set()
    with replica.transaction() as db:
        for change in changes:
            spec = TABLES.get(change.table)
            if spec is None:
                continue  # a table this client version does not know: ignore, never crash
            pending = replica.outbox.pending_fields(change.table, change.record_id)
            if change.row is None:
                if not pending:
                    db.execute(f"DELETE FROM [{change.table}] WHERE id = ?", [change.record_id])
            else:
                row = {c: change.row.get(c) for c in spec.columns if c not in pending}
                row.update(id=change.record_id, version=change.version, hlc=change.row.get("hlc"))
                db[change.table].upsert(row, pk="id", alter=False)
            tables.add(change.table)
            ids.add(change.record_id)
        if cursor is not None:
            db.execute("INSERT INTO sync_state(key, value) VALUES ('cursor', ?)"
                       " ON CONFLICT(key) DO UPDATE SET value = excluded.value", [str(cursor)])
    return Changes(frozenset(tables), frozenset(ids))
