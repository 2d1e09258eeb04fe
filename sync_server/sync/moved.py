"""Did anyone but this device change a record after the version it saw? (An update that
applies cleanly over such changes is answered "merged", not "applied".)

Inside ``tracking()`` (a push) the answer is read once a record and kept up to date as
the push logs changes (``logged``), instead of asked of the change log per mutation:

    with tracking():
        prefetch(conn, device, table, ids)      # the batch's updated records, one query
        moved_by_others(conn, table, id, device, after_seq)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sync_server.storage import rows
from sync_server.storage.db import Connection

# (table, record_id) → {device: the highest seq of a change by anyone but that device}
_Seen = dict[tuple[str, str], dict[str, int]]
_seen: ContextVar[_Seen | None] = ContextVar("moved", default=None)
_LATEST = ("SELECT record_id, max(seq) FROM changes WHERE tbl = ? AND coalesce(device_id, '')"
           " != ? AND record_id IN ({}) GROUP BY record_id")


@contextmanager
def tracking() -> Iterator[None]:
    token = _seen.set({})
    try:
        yield
    finally:
        _seen.reset(token)


def prefetch(conn: Connection, device: str, table: str, ids: Iterable[str]) -> None:
    seen = _seen.get()
    if seen is None:
        return
    wanted = sorted({i for i in ids if device not in seen.get((table, i), {})})
    for chunk in rows.chunks(wanted):
        latest = dict(conn.execute(_LATEST.format(",".join("?" * len(chunk))),
                                   [table, device, *chunk]).fetchall())
        for record_id in chunk:
            seen.setdefault((table, record_id), {})[device] = latest.get(record_id) or 0


def moved_by_others(conn: Connection, table: str, record_id: str, device: str | None,
                    after: int) -> bool:
    """Has a device other than ``device`` (or the office) changed the record after seq
    ``after``?"""
    if device is None:  # nobody is "other" than no device (as the query says: NULL != …)
        return False
    seen = _seen.get()
    if seen is None:
        return conn.execute(
            "SELECT 1 FROM changes WHERE tbl = ? AND record_id = ? AND seq > ?"
            " AND coalesce(device_id, '') != ? LIMIT 1",
            [table, record_id, after, device]).fetchone() is not None
    if device not in seen.get((table, record_id), {}):
        prefetch(conn, device, table, [record_id])
    return seen[(table, record_id)][device] > after


def logged(table: str, record_id: str, device: str | None, seq: int) -> None:
    """A change of the record was just logged by ``device``: it moved it for the others."""
    seen = _seen.get()
    if seen is None:
        return
    for other in seen.get((table, record_id), {}):
        if other != (device or ""):
            seen[(table, record_id)][other] = seq


def forget_all() -> None:
    """A savepoint was rolled back: a change kept here may be one it undid."""
    seen = _seen.get()
    if seen is not None:
        seen.clear()
