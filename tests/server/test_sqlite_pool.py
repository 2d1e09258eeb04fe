"""The SQLite storage keeps its connections between requests: reused, never handed on
inside a transaction, never used by a forked child, and a write that fails leaves nothing."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest

from sync_server.storage.sqlite_database import POOL_SIZE, Database


def _db(tmp_path: Path) -> Database:
    db = Database(tmp_path / "server.sqlite3")
    with db.write() as conn:
        conn.execute("CREATE TABLE t (v INTEGER)")
    return db


def _values(conn: sqlite3.Connection) -> list[int]:
    return [row[0] for row in conn.execute("SELECT v FROM t ORDER BY v")]


def test_a_connection_is_reused_and_comes_back_outside_any_transaction(tmp_path: Path) -> None:
    db = _db(tmp_path)
    with db.write() as first:
        first.execute("INSERT INTO t VALUES (1)")
    with db.read() as second:
        assert second is first
        assert _values(second) == [1]
    assert not first.in_transaction
    with pytest.raises(ZeroDivisionError), db.write() as conn:
        conn.execute("INSERT INTO t VALUES (2)")
        raise ZeroDivisionError
    with db.read() as conn:
        assert _values(conn) == [1]  # the failed write left nothing
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1  # its settings kept
    db.close()
    assert not (tmp_path / "server.sqlite3-wal").exists()  # the last close checkpointed


def test_a_reader_sees_writes_committed_after_its_connection_was_pooled(tmp_path: Path) -> None:
    db = _db(tmp_path)
    with db.read() as conn:
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 0
    outside = sqlite3.connect(tmp_path / "server.sqlite3")
    outside.execute("INSERT INTO t VALUES (7)")
    outside.commit()
    outside.close()
    with db.read() as again:
        assert again is conn and _values(again) == [7]


def test_threads_at_once_each_get_their_own_and_the_pool_stays_bounded(tmp_path: Path) -> None:
    db = _db(tmp_path)
    inside = threading.Barrier(POOL_SIZE + 4)
    seen: list[int] = []

    def reader() -> None:
        with db.read() as conn:
            seen.append(id(conn))
            inside.wait(10)

    threads = [threading.Thread(target=reader) for _ in range(POOL_SIZE + 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(set(seen)) == POOL_SIZE + 4  # none shared while in use
    assert len(db._idle) == POOL_SIZE


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")
def test_a_forked_child_opens_its_own(tmp_path: Path) -> None:
    db = _db(tmp_path)
    with db.read() as parents:
        pass
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report whether it was handed the parent's connection
        try:
            with db.write() as conn:
                conn.execute("INSERT INTO t VALUES (3)")
                os.write(write, b"same" if conn is parents else b"own")
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 10) == b"own"
    with db.read() as conn:
        assert conn is parents and _values(conn) == [3]
