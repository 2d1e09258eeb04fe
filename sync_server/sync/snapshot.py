"""The snapshot an empty tablet is provisioned from: every record of its scope as it is now,
table by table as rows of values (no field names per record), with the cursor its pulls
continue from.

The rows and the cursor come from one transaction holding the write lock, so the snapshot
holds every change up to the cursor and none after it: the tablet's first cursor pull brings
exactly what was written since. The write lock (not a read) for two reasons: the device's
scope is recorded at cursor 0 as a first pull records it (``pull.note_scope``), and on
PostgreSQL a read transaction sees each statement's own moment, while under the lock nothing
commits between the statements.

A technician's device only: an office account's scope may be the whole utility, which is not
one answer's worth; it pulls by cursor (answered ``snapshot_unavailable``).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from pydantic_core import to_json

from fieldapp.domain.roles import OFFICE_ROLES
from fieldapp.records import TABLES
from sync_server.errors import ApiError
from sync_server.services.auth import Principal
from sync_server.storage.db import Connection
from sync_server.sync.pull import ASSIGNED, note_scope

# The layout of the answer; a tablet names the one it reads, so a later layout can be added
# beside this one.
SNAPSHOT_FORMAT = 1


def columns(table: str) -> list[str]:
    """What a tablet stores of a record: its id, fields, version and clock stamp."""
    return ["id", *TABLES[table].columns, "version", "hlc"]


def check(who: Principal) -> None:
    """Refuse an office account before any lock is taken."""
    if who.role in OFFICE_ROLES:
        raise ApiError(409, "snapshot_unavailable",
                       "an office account's scope is pulled by cursor, not as one snapshot")


def take(conn: Connection, who: Principal) -> tuple[dict[str, list[Any]], int]:
    """The rows of ``who``'s scope per table, and the cursor they are complete up to;
    ``conn`` holds the write lock."""
    cursor = conn.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]
    note_scope(conn, who, 0)
    tables: dict[str, list[Any]] = {}
    for table, spec in TABLES.items():
        tables[table] = _values(conn, query(table), [who.username] if spec.scoped else [])
    return tables, cursor


def query(table: str) -> str:
    """The SELECT of a table's part of the snapshot; a scoped one's takes the username.
    Scoped tables are read by an index that starts with the customer (customers by id; the
    others' are in ``db.SERVER_DDL_V27`` where no other index started with it), so a
    snapshot reads the device's records, not every record of the utility."""
    quoted = ", ".join(f'"{c}"' for c in columns(table))
    sql = f'SELECT {quoted} FROM "{table}"'
    if TABLES[table].scoped:
        key = "id" if table == "customers" else "customer_id"
        sql += f" WHERE {key} IN ({ASSIGNED})"
    return sql


def _values(conn: Connection, sql: str, params: list[Any]) -> list[Any]:
    """The rows as plain tuples: on SQLite without making a ``sqlite3.Row`` of each first
    (a third of the query's time on a tablet's 28,000 records)."""
    if isinstance(conn, sqlite3.Connection):
        cursor = conn.cursor()
        cursor.row_factory = None
        return cursor.execute(sql, params).fetchall()
    return [tuple(row) for row in conn.execute(sql, params).fetchall()]


def body(tables: dict[str, list[Any]], cursor: int, server_hlc: str,
         epoch: str | None) -> bytes:
    """The answer's JSON, written once by pydantic's encoder (in Rust: a third of the
    standard library's time on a tablet's 28,000 records; a model per record would cost more
    than the whole query). Its untyped values are written as the pull's models write a
    row's: a PostgreSQL date as ISO text, a decimal as a string, a NaN as null."""
    return to_json({
        "format": SNAPSHOT_FORMAT, "cursor": cursor, "server_hlc": server_hlc, "epoch": epoch,
        "tables": [{"table": t, "columns": columns(t), "rows": rows}
                   for t, rows in tables.items()],
    }, inf_nan_mode="null")
