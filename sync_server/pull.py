"""Pull: the current state of every record changed after a cursor, in the device's scope.

A technician sees the customers of the jobs assigned to them (with those customers'
meters, readings, payments and past jobs) plus the global tables (forms, knowledge
base). Pages are ordered by the server sequence, so the last one returned is the cursor.

When a customer enters a device's scope (a job assigned after the device's first pull),
that customer's older records (seq at or below the cursor) were never sent: the next
pull carries them (a backfill). ``device_scope`` remembers the cursor at which each
customer was granted, so a retry of that same cursor (its answer lost) backfills again,
and a later cursor proves the device applied it.
"""

from __future__ import annotations

import sqlite3

from fieldapp.domain.status import OFFICE_ROLES
from fieldapp.records import TABLES
from fieldapp.wire import RecordChange
from sync_server.auth import Principal

GLOBAL_TABLES = tuple(name for name, spec in TABLES.items() if not spec.scoped)


def pull(conn: sqlite3.Connection, who: Principal, cursor: int,
         limit: int) -> tuple[list[RecordChange], int, bool]:
    marks = ",".join("?" * len(GLOBAL_TABLES))
    if who.role in OFFICE_ROLES:
        scope, params = "1", []
    else:
        scope = (f"(tbl IN ({marks}) OR customer_id IN"
                 " (SELECT customer_id FROM jobs WHERE assignee = ?))")
        params = [*GLOBAL_TABLES, who.username]
    heads = conn.execute(
        f"SELECT tbl, record_id, max(seq) AS seq FROM changes WHERE seq > ? AND {scope}"
        " GROUP BY tbl, record_id ORDER BY seq LIMIT ?", [cursor, *params, limit + 1]).fetchall()
    more = len(heads) > limit
    heads = heads[:limit]
    next_cursor = heads[-1]["seq"] if heads else cursor
    out = [] if who.role in OFFICE_ROLES else _backfill(conn, who, cursor)
    for head in heads:
        row = conn.execute(f"SELECT * FROM [{head['tbl']}] WHERE id = ?",
                           [head["record_id"]]).fetchone()
        out.append(_change(head["tbl"], row) if row else RecordChange(
            table=head["tbl"], record_id=head["record_id"], version=head["seq"], row=None))
    return out, next_cursor, more


def _change(table: str, row: sqlite3.Row) -> RecordChange:
    data = dict(row)
    record_id, version = data.pop("id"), data.pop("version")
    return RecordChange(table=table, record_id=record_id, version=version, row=data)


def _backfill(conn: sqlite3.Connection, who: Principal, cursor: int) -> list[RecordChange]:
    """Older records of customers newly in this device's scope (call inside a write)."""
    conn.execute(
        "INSERT OR IGNORE INTO device_scope(device_id, customer_id, granted_cursor)"
        " SELECT DISTINCT ?, customer_id, ? FROM jobs WHERE assignee = ?",
        [who.device_id, cursor, who.username])
    customers = [r[0] for r in conn.execute(
        "SELECT customer_id FROM device_scope WHERE device_id = ? AND granted_cursor = ?",
        [who.device_id, cursor])] if cursor else []
    out = []
    for customer_id in customers:
        for table, spec in TABLES.items():
            if not spec.scoped:
                continue
            out += [_change(table, row) for row in conn.execute(
                f"SELECT * FROM [{table}] WHERE customer_id = ? AND version <= ?",
                [customer_id, cursor])]
    return out
