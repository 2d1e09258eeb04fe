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

Two layouts. Layout 1 is one JSON document (what tablets of the previous release read). Layout
2 is the same content as JSON lines, sent while it is read (``stream``): a header with the
cursor and the number of rows, then a table's rows a thousand to a line, then an end line. The
tablet loads each line as it comes, so the server's reading and encoding and the tablet's
loading overlap instead of following each other; the write lock is let go when the rows are
read, however slowly the tablet takes them in.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from typing import Any

from pydantic_core import to_json

from fieldapp.domain.roles import OFFICE_ROLES
from fieldapp.records import TABLES
from sync_server import faults
from sync_server.errors import ApiError
from sync_server.services.auth import Principal
from sync_server.storage import epoch
from sync_server.storage.db import Connection, Storage
from sync_server.sync.pull import ASSIGNED, note_scope

# The layouts of the answer; a tablet names the one it reads, so a later layout can be added
# beside the others. The newest one, streamed:
SNAPSHOT_FORMAT = 2
STREAMED = 2
# Rows per line of the streamed layout: small enough that the tablet starts loading early
# (a thousand readings are about 210 KB), large enough that a line's own cost is nothing.
CHUNK_ROWS = 1000
log = logging.getLogger("sync_server.snapshot")


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
    cursor = _begin(conn, who)
    tables: dict[str, list[Any]] = {}
    for table, spec in TABLES.items():
        tables[table] = _values(conn, query(table), [who.username] if spec.scoped else [])
    return tables, cursor


def count(conn: Connection, who: Principal) -> int:
    """How many rows ``take`` would give now (for the tablet's progress bar; an index-only
    count per table, about a tenth of reading the rows)."""
    return sum(conn.execute(f"SELECT count(*) FROM ({query(table, ['id'])}) AS t",
                            [who.username] if spec.scoped else []).fetchone()[0]
               for table, spec in TABLES.items())


def query(table: str, names: list[str] | None = None) -> str:
    """The SELECT of a table's part of the snapshot (of ``names``, its columns unless
    given); a scoped one's takes the username.
    Scoped tables are read by an index that starts with the customer (customers by id; the
    others' are in ``db.SERVER_DDL_V27`` where no other index started with it), so a
    snapshot reads the device's records, not every record of the utility."""
    quoted = ", ".join(f'"{c}"' for c in names or columns(table))
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


_END = object()  # the producer read every table


def stream(db: Storage, who: Principal, server_hlc: Callable[[], str]) -> Iterator[bytes]:
    """The streamed layout's lines (``STREAMED``). The rows are read in a thread of their
    own under the write lock, as ``take`` reads them, and handed over a table at a time;
    the lines are encoded here, as the answer is sent. What fails before the header (the
    database) is raised here, an error answer; what fails after it ends the stream without
    its end line, which the tablet takes as a cut download."""
    handed: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def produce() -> None:
        last: object = _END
        try:
            with db.write() as conn:
                history = epoch.current(conn)
                cursor = _begin(conn, who)
                handed.put({"format": STREAMED, "cursor": cursor, "server_hlc": server_hlc(),
                            "epoch": history, "rows": count(conn, who)})
                for read, (table, spec) in enumerate(TABLES.items(), 1):
                    handed.put((table, _values(conn, query(table),
                                               [who.username] if spec.scoped else [])))
                    faults.snapshot_table(read)
        except BaseException as exc:  # noqa: BLE001 - handed to the answer, which reports it
            last = exc
        finally:  # always something, or the answer would wait for ever
            handed.put(last)

    threading.Thread(target=produce, name="snapshot", daemon=True).start()
    head = handed.get()
    if isinstance(head, BaseException):
        raise head
    return _lines(head, handed)


def _begin(conn: Connection, who: Principal) -> int:
    """The cursor a snapshot is complete up to, with the device's scope noted at cursor 0
    as a first pull notes it."""
    cursor: int = conn.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]
    note_scope(conn, who, 0)
    return cursor


def _lines(head: dict[str, Any], handed: queue.SimpleQueue[Any]) -> Iterator[bytes]:
    yield to_json(head) + b"\n"
    sent = 1  # lines handed to the answer
    while (item := handed.get()) is not _END:
        if isinstance(item, BaseException):
            log.error("the snapshot stopped half way; the tablet will ask again",
                      exc_info=item)
            return
        table, rows = item
        names = columns(table)
        for start in range(0, len(rows), CHUNK_ROWS):
            faults.snapshot_line(sent)
            sent += 1
            yield to_json({"table": table, "columns": names,
                           "rows": rows[start:start + CHUNK_ROWS]},
                          inf_nan_mode="null") + b"\n"
    yield b'{"end":true}\n'
