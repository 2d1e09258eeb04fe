"""A record as the server holds it now: its current row, or the tombstone a delete left."""

from __future__ import annotations

from typing import Any

from fieldapp.records import TABLES
from sync_server.storage.db import Connection


def current_row(conn: Connection, table: str, record_id: str) -> dict[str, Any] | None:
    """The record's row, or None (also for a table that is not a synced one)."""
    if table not in TABLES:  # a conflict kept for an unknown table names no real one
        return None
    row = conn.execute(f'SELECT * FROM "{table}" WHERE id = ?', [record_id]).fetchone()
    return dict(row) if row else None


def tombstone(conn: Connection, table: str, record_id: str) -> dict[str, Any] | None:
    """The newest tombstone of a deleted record that has not been restored since."""
    row = conn.execute("SELECT * FROM tombstones WHERE tbl = ? AND record_id = ?"
                       " AND restored_at IS NULL ORDER BY id DESC LIMIT 1",
                       [table, record_id]).fetchone()
    return dict(row) if row else None
