"""Writes held back until something reads, then sent a table at a time in bulk.

A push writes, per mutation, a change-log entry, the record, and the stored answer, and
reads almost nothing in between (its rows come from ``rows.cached``). Sent one statement
each, the statements are most of its time on PostgreSQL (each costs the client ~0.2 ms in
psycopg's pipeline whatever it does). Held back, a batch's writes go out as a few
``executemany`` (on PostgreSQL arrays, ``bulk_insert.py``):

    with deferred.holding(conn) as conn:   # a push: everything below may be held back
        deferred.write(conn, table, sql, params)   # an INSERT/UPDATE/DELETE nobody reads
        deferred.savepoint(conn) / release(conn) / rollback(conn)   # one mutation

Reading is never affected: any ``execute`` first sends what is held back, in order, so
every read sees every earlier write. Held writes of one table keep their order; writes of
different tables may be reordered (the tables written this way have no foreign keys or
triggers between them, and nothing reads until all are sent). A savepoint costs nothing
until a read needs the held writes sent while it is open: only then is it issued at its
place among them; rolled back before that, its writes are simply dropped.

Outside ``holding`` the same calls execute at once, so code shared with the office's
writes runs unchanged there.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sync_server.storage.db import Connection

_SAVEPOINT = "SAVEPOINT mutation"  # one name: a nested one shadows the outer, as in SQL


class _Mark:
    __slots__ = ("at", "issued")

    def __init__(self, at: int) -> None:
        self.at, self.issued = at, False


class Holding:
    """A connection whose ``write``s wait for the next read or the end of the push."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._held: list[tuple[str | None, str, Sequence[Any]]] = []  # (table, sql, params)
        self._marks: list[_Mark] = []

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Any:
        self.flush()
        return self.conn.execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Any:
        self.flush()
        return self.conn.executemany(sql, parameters)

    def hold(self, table: str | None, sql: str, parameters: Sequence[Any]) -> None:
        self._held.append((table, sql, parameters))

    def savepoint(self) -> None:
        self._marks.append(_Mark(len(self._held)))

    def release(self) -> None:
        if self._marks.pop().issued:
            self.hold(None, "RELEASE mutation", ())

    def rollback(self) -> None:
        mark = self._marks.pop()
        if mark.issued:  # its writes before the read that issued it are in the database
            del self._held[:]
            self.conn.execute("ROLLBACK TO mutation")
            self.conn.execute("RELEASE mutation")
        else:
            del self._held[mark.at:]

    def flush(self) -> None:
        """Send the held writes, issuing the open savepoints at their places."""
        if not self._held:
            return
        cuts = [m for m in self._marks if not m.issued]
        start = 0
        for mark in cuts:
            self._send(self._held[start:mark.at])
            self.conn.execute(_SAVEPOINT)
            mark.issued, start = True, mark.at
        self._send(self._held[start:])
        self._held.clear()
        for mark in self._marks:
            mark.at = 0

    def _send(self, held: list[tuple[str | None, str, Sequence[Any]]]) -> None:
        """Held writes, each table's in their order; a run of one statement as one
        ``executemany``. A statement of no table (RELEASE) is a fence nothing crosses."""
        part: dict[str | None, list[tuple[str, Sequence[Any]]]] = {}
        for table, sql, params in held:
            if table is None:
                self._send_tables(part)
                part = {}
                self.conn.execute(sql, params)
            else:
                part.setdefault(table, []).append((sql, params))
        self._send_tables(part)

    def _send_tables(self, part: dict[str | None, list[tuple[str, Sequence[Any]]]]) -> None:
        for statements in part.values():
            i = 0
            while i < len(statements):
                sql, j = statements[i][0], i + 1
                while j < len(statements) and statements[j][0] == sql:
                    j += 1
                if j - i == 1:
                    self.conn.execute(sql, statements[i][1])
                else:
                    self.conn.executemany(sql, [p for _, p in statements[i:j]])
                i = j


@contextmanager
def holding(conn: Connection) -> Iterator[Connection]:
    """Hold this write's writes back until something reads, or until it ends; an error
    drops them (the caller's transaction is rolled back, and they with it)."""
    if isinstance(conn, Holding):  # an outer holder sends them
        yield conn
        return
    held = Holding(conn)
    yield held
    held.flush()


def send(conn: Connection) -> None:
    """Send what is held now, between mutations: on PostgreSQL the statements go out in the
    write's pipeline without waiting, so the database writes them while the push merges
    the next mutations (on the other core) instead of after the last one."""
    if isinstance(conn, Holding):
        conn.flush()


def write(conn: Connection, table: str, sql: str, parameters: Sequence[Any]) -> None:
    """An INSERT, UPDATE or DELETE of ``table`` whose result nobody reads."""
    if isinstance(conn, Holding):
        conn.hold(table, sql, parameters)
    else:
        conn.execute(sql, parameters)


def savepoint(conn: Connection) -> None:
    if isinstance(conn, Holding):
        conn.savepoint()
    else:
        conn.execute(_SAVEPOINT)


def release(conn: Connection) -> None:
    if isinstance(conn, Holding):
        conn.release()
    else:
        conn.execute("RELEASE mutation")


def rollback(conn: Connection) -> None:
    """Undo the writes since the savepoint, and end it."""
    if isinstance(conn, Holding):
        conn.rollback()
    else:
        conn.execute("ROLLBACK TO mutation")
        conn.execute("RELEASE mutation")
