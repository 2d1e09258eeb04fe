"""A record as the server holds it now: its current row, or the tombstone a delete left.

Inside ``with cached():`` (one write transaction that reads the same records again and
again: a push, where each mutation reads its record and its job) a row read once is kept
until its writer calls ``forget`` (or ``forget_all`` after a savepoint rollback), and
``prefetch`` reads a batch's records in one query instead of one each.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from fieldapp.records import TABLES
from sync_server.storage.db import Connection

Row = dict[str, Any]
_cache: ContextVar[dict[tuple[str, str], Row | None] | None] = ContextVar("rows", default=None)
_CHUNK = 500  # ids per IN list, well under every backend's limit on parameters


def current_row(conn: Connection, table: str, record_id: str) -> Row | None:
    """The record's row, or None (also for a table that is not a synced one)."""
    if table not in TABLES:  # a conflict kept for an unknown table names no real one
        return None
    cache = _cache.get()
    if cache is not None and (table, record_id) in cache:
        kept = cache[(table, record_id)]
        return None if kept is None else dict(kept)  # a copy: callers change theirs
    row = conn.execute(f'SELECT * FROM "{table}" WHERE id = ?', [record_id]).fetchone()
    found = dict(row) if row else None
    if cache is not None:
        cache[(table, record_id)] = None if found is None else dict(found)
    return found


@contextmanager
def cached() -> Iterator[None]:
    token = _cache.set({})
    try:
        yield
    finally:
        _cache.reset(token)


def prefetch(conn: Connection, table: str, ids: Iterable[str]) -> None:
    """Read these records of ``table`` into the cache (absent ones as absent)."""
    cache = _cache.get()
    if cache is None or table not in TABLES:
        return
    wanted = sorted({i for i in ids if (table, i) not in cache})
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start:start + _CHUNK]
        found = {r["id"]: dict(r) for r in conn.execute(
            f'SELECT * FROM "{table}" WHERE id IN ({",".join("?" * len(chunk))})', chunk)}
        for record_id in chunk:
            cache[(table, record_id)] = found.get(record_id)


def forget(table: str, record_id: str) -> None:
    """The record was just written: read it again next time."""
    cache = _cache.get()
    if cache is not None:
        cache.pop((table, record_id), None)


def forget_all() -> None:
    """A savepoint was rolled back: any kept row may be one the rollback undid."""
    cache = _cache.get()
    if cache is not None:
        cache.clear()


def tombstone(conn: Connection, table: str, record_id: str) -> dict[str, Any] | None:
    """The newest tombstone of a deleted record that has not been restored since."""
    row = conn.execute("SELECT * FROM tombstones WHERE tbl = ? AND record_id = ?"
                       " AND restored_at IS NULL ORDER BY id DESC LIMIT 1",
                       [table, record_id]).fetchone()
    return dict(row) if row else None
