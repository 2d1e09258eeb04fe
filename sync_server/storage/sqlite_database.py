"""SQLite storage: one file in WAL mode, its connections pooled per process, its writers
queued per process (SQLite allows one writer at a time across processes)."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sync_server.storage.db import migrate, sqlite_statements


def _use_wal(connect: Callable[[], sqlite3.Connection], wait_s: float = 30) -> None:
    """Switch a new file to WAL. Processes starting together race for it, and SQLite answers
    the loser "database is locked" at once, without its busy handler: ask again shortly."""
    deadline = time.monotonic() + wait_s
    while True:
        conn = connect()
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        finally:
            conn.close()
        time.sleep(0.05)


# Connections kept open between requests, per process. Opening one costs its PRAGMAs and
# a read of the schema; closing the last one makes SQLite checkpoint and remove the WAL
# (an fsync): a push closing its connection spent longer on that than on its writes.
POOL_SIZE = 8


class Database:
    """SQLite storage in one file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # Writers of this process queue here instead of polling SQLite's busy handler,
        # which under a rush of requests starves some of them past the timeout.
        self._writer = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._pool = threading.Lock()
        self._pid = os.getpid()
        path.parent.mkdir(parents=True, exist_ok=True)
        _use_wal(self.connect)
        migrate(self, sqlite_statements)

    def connect(self, shared: bool = False) -> sqlite3.Connection:
        """A new connection; ``shared`` ones may be used by one thread after another."""
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                               check_same_thread=not shared)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def _borrow(self) -> sqlite3.Connection:
        with self._pool:
            if self._pid != os.getpid():  # inherited from the parent: never its to use
                self._idle, self._pid = [], os.getpid()
            if self._idle:
                return self._idle.pop()
        return self.connect(shared=True)

    def _give_back(self, conn: sqlite3.Connection) -> None:
        """Back to the pool with no transaction open, or closed if it cannot be."""
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        except sqlite3.Error:
            conn.close()
            return
        with self._pool:
            if self._pid == os.getpid() and len(self._idle) < POOL_SIZE:
                self._idle.append(conn)
                return
        conn.close()

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """One snapshot: every query sees the database as of the first (WAL readers
        never wait for the writer)."""
        conn = self._borrow()
        try:
            conn.execute("BEGIN")
            yield conn
        finally:
            self._give_back(conn)

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One immediate transaction: all of it commits or none of it does."""
        with self._writer:
            yield from self._write()

    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._borrow()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            self._give_back(conn)

    def close(self) -> None:
        """Close the idle connections (the last one checkpoints the WAL into the file)."""
        with self._pool:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
