"""Pull: the current state of every record changed after a cursor, in the device's scope.

A technician sees the customers of the jobs assigned to them (with those customers'
meters, readings, payments and past jobs) plus the global tables (forms, knowledge
base). Pages are ordered by the server sequence, so the last one returned is the cursor.
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
    out = []
    for head in heads:
        row = conn.execute(f"SELECT * FROM [{head['tbl']}] WHERE id = ?",
                           [head["record_id"]]).fetchone()
        data = None
        if row is not None:
            data = dict(row)
            del data["id"], data["version"]
        out.append(RecordChange(table=head["tbl"], record_id=head["record_id"],
                                version=head["seq"], row=data))
    next_cursor = heads[-1]["seq"] if heads else cursor
    return out, next_cursor, more
