"""A record as the server holds it now: its current row, or the tombstone a delete left.

Inside ``with cached():`` (one write transaction that reads the same records again and
again: a push, where each mutation reads its record and its job) a row read once is kept
until its writer calls ``forget`` (or ``forget_all`` after a savepoint rollback) or, for an
update, ``updated`` with what it wrote; ``ask`` reads a batch's records in one query
instead of one each. ``has_job`` (is a customer one of a technician's?) is kept the same way
until a job is written that could change the answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from fieldapp.field_types import field_types
from fieldapp.records import TABLES
from sync_server.storage.db import Connection

Row = dict[str, Any]
Reader = Callable[[], None]  # takes a query's answer, sent before, into the cache


class _Kept:
    """What one ``cached()`` write has read: rows (None: absent) and ``has_job`` answers."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], Row | None] = {}
        self.jobs_of: dict[tuple[str | None, str], bool] = {}


_cache: ContextVar[_Kept | None] = ContextVar("rows", default=None)
_CHUNK = 500  # ids per IN list, well under every backend's limit on parameters
# Text ids given as one parameter, a JSON array, rather than one placeholder each: on
# PostgreSQL (``postgres.translate``) 500 placeholders made the client's conversion of
# the query, and the server's parse of it, most of a prefetch's time; one parameter
# keeps the statement the same whatever the number of ids, so it is prepared once.
AMONG = "IN (SELECT value FROM json_each(?))"


def among(ids: Iterable[str]) -> str:
    """The parameter of ``AMONG``."""
    return json.dumps(list(ids))


def current_row(conn: Connection, table: str, record_id: str) -> Row | None:
    """The record's row, or None (also for a table that is not a synced one)."""
    if table not in TABLES:  # a conflict kept for an unknown table names no real one
        return None
    kept = _cache.get()
    if kept is not None and (table, record_id) in kept.rows:
        row = kept.rows[(table, record_id)]
        return None if row is None else dict(row)  # a copy: callers change theirs
    found = conn.execute(f'SELECT * FROM "{table}" WHERE id = ?', [record_id]).fetchone()
    row = dict(found) if found else None
    if kept is not None:
        kept.rows[(table, record_id)] = None if row is None else dict(row)
    return row


@contextmanager
def cached() -> Iterator[None]:
    token = _cache.set(_Kept())
    try:
        yield
    finally:
        _cache.reset(token)


def ask(conn: Connection, table: str, ids: Iterable[str]) -> list[Reader]:
    """Read these records of ``table`` into the cache (absent ones as absent), in two
    steps: the queries are sent now, their rows are taken into the cache by the returned
    readers. A push asks all its questions before it reads any answer, so on PostgreSQL
    they go out in one round trip of the write's pipeline."""
    kept = _cache.get()
    if kept is None or table not in TABLES:
        return []
    wanted = sorted({i for i in ids if (table, i) not in kept.rows})
    readers: list[Reader] = []
    for chunk in chunks(wanted):
        cursor = conn.execute(f'SELECT * FROM "{table}" WHERE id {AMONG}', [among(chunk)])

        def read(cursor: Any = cursor, chunk: list[str] = chunk, kept: _Kept = kept) -> None:
            found = {r["id"]: dict(r) for r in cursor.fetchall()}
            for record_id in chunk:
                kept.rows[(table, record_id)] = found.get(record_id)
        readers.append(read)
    return readers


def forget(table: str, record_id: str) -> None:
    """The record was just written: read it again next time."""
    kept = _cache.get()
    if kept is not None:
        kept.rows.pop((table, record_id), None)
        if table == "jobs":
            kept.jobs_of.clear()


def updated(table: str, record_id: str, values: dict[str, Any]) -> None:
    """The record was just updated with ``values``: the kept row takes them as the
    database stores them (a whole number in a REAL column comes back a float), so it
    is not read again."""
    kept = _cache.get()
    if kept is None:
        return
    row = kept.rows.get((table, record_id))
    if row is None:
        kept.rows.pop((table, record_id), None)
    else:
        types = field_types()[table]
        row.update({f: float(v) if isinstance(v, int) and f in types
                    and types[f].storage == "REAL" else v for f, v in values.items()})
    if table == "jobs" and {"assignee", "customer_id"} & set(values):
        kept.jobs_of.clear()


def forget_all() -> None:
    """A savepoint was rolled back: any kept row may be one the rollback undid."""
    kept = _cache.get()
    if kept is not None:
        kept.rows.clear()
        kept.jobs_of.clear()


def has_job(conn: Connection, customer_id: str | None, assignee: str) -> bool:
    """Has the customer a job assigned to ``assignee``?"""
    kept = _cache.get()
    if kept is not None and (customer_id, assignee) in kept.jobs_of:
        return kept.jobs_of[(customer_id, assignee)]
    found = conn.execute("SELECT 1 FROM jobs WHERE customer_id = ? AND assignee = ? LIMIT 1",
                         [customer_id, assignee]).fetchone() is not None
    if kept is not None:
        kept.jobs_of[(customer_id, assignee)] = found
    return found


def ask_jobs_of(conn: Connection, assignee: str,
                customer_ids: Iterable[str]) -> list[Reader]:
    """``has_job`` for these customers and ``assignee``, in one query per 500, in two
    steps as ``ask``."""
    kept = _cache.get()
    if kept is None:
        return []
    readers: list[Reader] = []
    for chunk in chunks(sorted(set(customer_ids))):
        cursor = conn.execute(
            f"SELECT DISTINCT customer_id FROM jobs WHERE assignee = ? AND customer_id {AMONG}",
            [assignee, among(chunk)])

        def read(cursor: Any = cursor, chunk: list[str] = chunk, kept: _Kept = kept) -> None:
            found = {r[0] for r in cursor.fetchall()}
            for customer_id in chunk:
                kept.jobs_of[(customer_id, assignee)] = customer_id in found
        readers.append(read)
    return readers


def chunks(ids: list[str]) -> Iterator[list[str]]:
    """``ids`` in lists short enough for one ``IN (…)`` on every backend."""
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


def tombstone(conn: Connection, table: str, record_id: str) -> dict[str, Any] | None:
    """The newest tombstone of a deleted record that has not been restored since."""
    row = conn.execute("SELECT * FROM tombstones WHERE tbl = ? AND record_id = ?"
                       " AND restored_at IS NULL ORDER BY id DESC LIMIT 1",
                       [table, record_id]).fetchone()
    return dict(row) if row else None
