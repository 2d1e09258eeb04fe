"""Pull: the current state of every record changed after a cursor, in the device's scope.

A technician sees the customers of the jobs assigned to them (with those customers'
meters, readings, payments and past jobs) plus the global tables (forms, knowledge
base); an office account limited to a district, that district's customers and the global
tables; any other office account, everything. Pages are ordered by the server sequence,
so the last one returned is the cursor.

When a customer enters a device's scope (a job assigned after the device's first pull),
that customer's older records (seq at or below the cursor) were never sent: the next
pull carries them (a backfill). When the customer leaves the scope (the job reassigned),
the device gets tombstones for the customer's records. ``device_scope`` remembers the
cursor at which each was decided, so a retry of that same cursor (its answer lost) sends
it again, and a later cursor proves the device applied it.

Most pulls find the scope unchanged and only read; ``scope_changed`` tells the server when
a pull must run inside a write instead (the morning rush would otherwise queue every pull
behind the single writer).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from pydantic_core import to_json

from fieldapp.domain.roles import OFFICE_ROLES
from fieldapp.records import TABLES
from sync_server.services.auth import Principal
from sync_server.services.districts import customers_in, district_of
from sync_server.storage import rows
from sync_server.storage.db import Connection

GLOBAL_TABLES = tuple(name for name, spec in TABLES.items() if not spec.scoped)
# Only synced tables' entries are pulled: the change log also chains the office's admin and
# security actions (audit.SECURITY), which no device may receive. The table is named as an
# expression, which no index serves: offered the log's index on (tbl, record_id) for
# ``tbl IN (…)``, SQLite read every entry ever logged for each synced table on every pull
# and then kept those after the cursor (a pull's cost grew with the server's age).
SYNCED = f"(tbl || '') IN ({','.join(repr(name) for name in TABLES)})"

ASSIGNED = "SELECT DISTINCT customer_id FROM jobs WHERE assignee = ?"


def scope_changed(conn: Connection, who: Principal) -> bool:
    """Whether the device's customers differ from those ``device_scope`` recorded."""
    if who.role in OFFICE_ROLES:
        return False
    return bool(conn.execute(
        f"SELECT EXISTS (SELECT 1 FROM ({ASSIGNED}) AS a WHERE NOT EXISTS"
        "  (SELECT 1 FROM device_scope s WHERE s.device_id = ? AND s.customer_id = a.customer_id"
        "   AND s.removed_cursor IS NULL))"
        " OR EXISTS (SELECT 1 FROM device_scope s WHERE s.device_id = ?"
        f"  AND s.removed_cursor IS NULL AND s.customer_id NOT IN ({ASSIGNED}))",
        [who.username, who.device_id, who.device_id, who.username]).fetchone()[0] == 1)


def in_scope(who: Principal, cursor: int) -> tuple[str, list[Any]]:
    """The change-log entries after ``cursor`` that ``who`` may see, as a table (``tbl``,
    ``record_id``, ``seq``) and its parameters. Each part is read through its own index
    from the cursor on: the global tables' entries by (tbl, seq), a scope's customers' by
    (customer_id, seq), so a pull reads what it may send, not everyone's changes since."""
    # The table as an expression here too: grouped by the bare column, SQLite would walk the
    # whole (tbl, record_id) index in its order rather than group what it read.
    entries = "SELECT (tbl || '') AS tbl, record_id, seq FROM changes"
    marks = ",".join("?" * len(GLOBAL_TABLES))
    if who.role in OFFICE_ROLES and not district_of(who):
        return f"{entries} WHERE seq > ? AND {SYNCED}", [cursor]
    if who.role in OFFICE_ROLES:
        # A district's dispatcher or supervisor: its customers' records and the global
        # tables, never another district's names, phones, addresses or bills.
        customers, named = customers_in("customer_id"), district_of(who)
    else:
        customers, named = f"customer_id IN ({ASSIGNED})", who.username
    return (f"{entries} WHERE tbl IN ({marks}) AND seq > ?"
            f" UNION ALL {entries} WHERE {customers} AND seq > ? AND {SYNCED}",
            [*GLOBAL_TABLES, cursor, named, cursor])


def has_news(conn: Connection, who: Principal, cursor: int) -> bool:
    """Whether a pull after ``cursor`` would bring ``who`` anything: a change in scope, a
    customer entering or leaving it, or a cursor beyond the log (a restored server)."""
    entries, params = in_scope(who, cursor)
    row = conn.execute(f"SELECT EXISTS ({entries}), (SELECT coalesce(max(seq), 0) FROM changes)",
                       params).fetchone()
    return bool(row[0]) or cursor > row[1] or scope_changed(conn, who)


# A change as the wire's ``RecordChange`` carries it, kept a plain dict: a pull sends
# thousands, and a model per record cost more than reading them (``body`` encodes the
# page once).
Change = dict[str, Any]


def pull(conn: Connection, who: Principal, cursor: int, limit: int,
         record_scope: bool = True) -> tuple[list[Change], int, bool]:
    """One page of changes after ``cursor``; ``record_scope`` needs a write connection."""
    entries, params = in_scope(who, cursor)
    heads = conn.execute(f"SELECT tbl, record_id, max(seq) AS seq FROM ({entries}) AS e"
                         " GROUP BY tbl, record_id ORDER BY seq LIMIT ?",
                         [*params, limit + 1]).fetchall()
    more = len(heads) > limit
    heads = heads[:limit]
    next_cursor = heads[-1]["seq"] if heads else cursor
    out = []
    if who.role not in OFFICE_ROLES:
        if record_scope:
            note_scope(conn, who, cursor)
        out = _scope_changes(conn, who, cursor)
    found = _rows(conn, [(head["tbl"], head["record_id"]) for head in heads])
    for head in heads:
        change = found.get((head["tbl"], head["record_id"]))
        out.append(change or _gone(head["tbl"], head["record_id"], head["seq"]))
    return out, next_cursor, more


def body(changes: list[Change], cursor: int, more: bool, server_hlc: str,
         epoch: str | None) -> bytes:
    """A page as the wire's ``PullResponse``, written once by pydantic's encoder, its rows'
    values as the model would write them (a PostgreSQL date as ISO text, a decimal as a
    string, a NaN as null)."""
    return to_json({"changes": changes, "cursor": cursor, "more": more,
                    "server_hlc": server_hlc, "epoch": epoch}, inf_nan_mode="null")


def _rows(conn: Connection, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Change]:
    """The current records of (table, id) pairs as changes, a query per table and 500 ids
    (not per row: on PostgreSQL each query is a round trip)."""
    by_table: dict[str, list[str]] = {}
    for table, record_id in keys:
        by_table.setdefault(table, []).append(record_id)
    found = {}
    for table, ids in by_table.items():
        for chunk in rows.chunks(ids):
            for change in _changes(table, conn.execute(
                    f'SELECT * FROM "{table}" WHERE id IN ({",".join("?" * len(chunk))})',
                    chunk)):
                found[(table, change["record_id"])] = change
    return found


def _changes(table: str, rows: Iterable[Any]) -> Iterator[Change]:
    """Rows of ``table`` as changes: the column names taken once, not from every row (a
    ``dict(row)`` per record was a fifth of a pull's time)."""
    names: list[str] | None = None
    for row in rows:
        if names is None:
            names = row.keys()
        data = dict(zip(names, row, strict=True))
        record_id, version = data.pop("id"), data.pop("version")
        yield {"table": table, "record_id": record_id, "version": version, "row": data}


def _gone(table: str, record_id: str, version: int) -> Change:
    """A tombstone: the record is deleted, or left this device's scope."""
    return {"table": table, "record_id": record_id, "version": version, "row": None}


def note_scope(conn: Connection, who: Principal, cursor: int) -> None:
    """Note the customers entering and leaving the device's scope at ``cursor``."""
    conn.execute(f"UPDATE device_scope SET granted_cursor = ?, removed_cursor = NULL"
                 f" WHERE device_id = ? AND removed_cursor IS NOT NULL AND customer_id IN"
                 f" ({ASSIGNED})", [cursor, who.device_id, who.username])
    conn.execute(f"INSERT INTO device_scope(device_id, customer_id, granted_cursor)"
                 f" SELECT ?, customer_id, ? FROM ({ASSIGNED}) AS scope WHERE true"
                 f" ON CONFLICT (device_id, customer_id) DO NOTHING",
                 [who.device_id, cursor, who.username])
    conn.execute(f"UPDATE device_scope SET removed_cursor = ? WHERE device_id = ?"
                 f" AND removed_cursor IS NULL AND customer_id NOT IN ({ASSIGNED})",
                 [cursor, who.device_id, who.username])
    conn.execute("DELETE FROM device_scope WHERE device_id = ? AND removed_cursor < ?",
                 [who.device_id, cursor])


def _scope_changes(conn: Connection, who: Principal,
                   cursor: int) -> list[Change]:
    """Backfills for customers entering the device's scope, tombstones for those leaving.

    Each is sent while the device asks with the cursor it was decided at, so a lost answer
    is sent again; a later cursor proves the device applied it.
    """
    out = []
    for (customer_id, removed_cursor) in conn.execute(
            "SELECT customer_id, removed_cursor FROM device_scope WHERE device_id = ?"
            " AND (granted_cursor = ? AND granted_cursor > 0 OR removed_cursor = ?)",
            [who.device_id, cursor, cursor]).fetchall():
        removed = removed_cursor is not None
        for table, spec in TABLES.items():
            if not spec.scoped:
                continue
            # A leaving customer's records are all tombstoned (the device may hold an older
            # version of one changed since); an entering one's are those below the cursor.
            sql, params = f'SELECT * FROM "{table}" WHERE customer_id = ?', [customer_id]
            if removed:
                out += [_gone(table, row["id"], row["version"])
                        for row in conn.execute(sql, params).fetchall()]
            else:
                out += _changes(table, conn.execute(sql + " AND version <= ?",
                                                    [customer_id, cursor]).fetchall())
    return out
