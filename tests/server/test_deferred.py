"""Writes held back (``sync_server.storage.deferred``) must leave the database as writing
them at once would: every read sees every earlier write, a table's writes keep their
order, a savepoint rolled back undoes exactly the writes after it (whether or not a read
sent some of them meanwhile), and nothing held survives a failed write. On both backends
(``FIELDAPP_TEST_PG=1`` runs the same on PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sync_server.storage import deferred, rows
from sync_server.storage.db import Connection, Storage

INSERT = "INSERT INTO scratch_a (id, v) VALUES (?, ?)"
UPDATE = "UPDATE scratch_a SET v = ? WHERE id = ?"
DELETE = "DELETE FROM scratch_a WHERE id = ?"
INSERT_B = "INSERT INTO scratch_b (id, v) VALUES (?, ?)"


@pytest.fixture
def store(db: Storage) -> Iterator[Storage]:
    with db.write() as conn:
        conn.execute("CREATE TABLE scratch_a (id TEXT PRIMARY KEY, v TEXT)")
        conn.execute("CREATE TABLE scratch_b (id TEXT PRIMARY KEY, v TEXT)")
    yield db


def contents(conn: Connection, table: str = "scratch_a") -> dict[str, str]:
    return {r[0]: r[1] for r in conn.execute(f"SELECT id, v FROM {table} ORDER BY id")}


def test_a_read_sees_every_write_held_before_it(store: Storage) -> None:
    with store.write() as plain, deferred.holding(plain) as conn:
        deferred.write(conn, "scratch_a", INSERT, ["a", "1"])
        deferred.write(conn, "scratch_b", INSERT_B, ["b", "x"])
        deferred.write(conn, "scratch_a", UPDATE, ["2", "a"])
        assert plain.execute("SELECT count(*) FROM scratch_a").fetchone()[0] == 0  # held
        assert contents(conn) == {"a": "2"}
        deferred.write(conn, "scratch_a", DELETE, ["a"])
        deferred.write(conn, "scratch_a", INSERT, ["a", "3"])
        deferred.write(conn, "scratch_a", INSERT, ["c", "4"])
    with store.read() as conn:
        assert contents(conn) == {"a": "3", "c": "4"}  # delete, insert again: in order
        assert contents(conn, "scratch_b") == {"b": "x"}


def test_a_run_of_one_statement_keeps_its_order_in_one_executemany(store: Storage) -> None:
    with store.write() as plain, deferred.holding(plain) as conn:
        deferred.write(conn, "scratch_a", INSERT, ["a", "0"])
        for i in range(1, 50):  # the last update of a row is the one that stays
            deferred.write(conn, "scratch_a", UPDATE, [str(i), "a"])
            deferred.write(conn, "scratch_b", INSERT_B, [f"b{i:02d}", str(i)])
    with store.read() as conn:
        assert contents(conn) == {"a": "49"}
        assert len(contents(conn, "scratch_b")) == 49


def test_a_savepoint_rolled_back_before_any_read_drops_only_its_writes(
        store: Storage) -> None:
    with store.write() as plain, deferred.holding(plain) as conn:
        deferred.write(conn, "scratch_a", INSERT, ["kept", "1"])
        deferred.savepoint(conn)
        deferred.write(conn, "scratch_a", INSERT, ["gone", "2"])
        deferred.write(conn, "scratch_a", UPDATE, ["changed", "kept"])
        deferred.rollback(conn)
        deferred.savepoint(conn)
        deferred.write(conn, "scratch_a", INSERT, ["next", "3"])
        deferred.release(conn)
    with store.read() as conn:
        assert contents(conn) == {"kept": "1", "next": "3"}


def test_a_savepoint_a_read_sent_is_rolled_back_in_the_database(store: Storage) -> None:
    """The read inside the savepoint sends the held writes: the savepoint goes out at its
    place among them, so the rollback keeps those before it and undoes those after it,
    sent or still held."""
    with store.write() as plain, deferred.holding(plain) as conn:
        deferred.write(conn, "scratch_a", INSERT, ["before", "1"])
        deferred.savepoint(conn)
        deferred.write(conn, "scratch_a", INSERT, ["sent", "2"])
        deferred.write(conn, "scratch_a", UPDATE, ["changed", "before"])
        assert contents(conn) == {"before": "changed", "sent": "2"}
        deferred.write(conn, "scratch_a", INSERT, ["held", "3"])
        deferred.rollback(conn)
        assert contents(conn) == {"before": "1"}
        deferred.savepoint(conn)  # a savepoint after a rolled-back one works as before
        deferred.write(conn, "scratch_a", INSERT, ["after", "4"])
        assert contents(conn) == {"after": "4", "before": "1"}
        deferred.release(conn)
        deferred.write(conn, "scratch_a", INSERT, ["last", "5"])
    with store.read() as conn:
        assert contents(conn) == {"after": "4", "before": "1", "last": "5"}


def test_writes_sent_between_mutations_stay_and_a_later_rollback_undoes_only_its_own(
        store: Storage) -> None:
    """``send`` (a push every 100 mutations) puts what is held in the database without a
    savepoint: a mutation rolled back after it undoes its own writes, none sent before."""
    with store.write() as plain, deferred.holding(plain) as conn:
        deferred.savepoint(conn)
        deferred.write(conn, "scratch_a", INSERT, ["first", "1"])
        deferred.release(conn)
        deferred.send(conn)
        assert plain.execute("SELECT count(*) FROM scratch_a").fetchone()[0] == 1  # sent
        deferred.savepoint(conn)
        deferred.write(conn, "scratch_a", UPDATE, ["changed", "first"])
        deferred.write(conn, "scratch_a", INSERT, ["second", "2"])
        deferred.send(conn)  # inside a mutation: its savepoint goes out first
        deferred.write(conn, "scratch_a", INSERT, ["third", "3"])
        deferred.rollback(conn)
        deferred.savepoint(conn)
        deferred.write(conn, "scratch_a", INSERT, ["fourth", "4"])
        deferred.release(conn)
        deferred.send(conn)
        deferred.send(conn)  # nothing held: nothing sent
    with store.read() as conn:
        assert contents(conn) == {"first": "1", "fourth": "4"}


def test_nested_savepoints_roll_back_to_the_right_place(store: Storage) -> None:
    with store.write() as plain, deferred.holding(plain) as conn:
        deferred.savepoint(conn)
        deferred.write(conn, "scratch_a", INSERT, ["outer", "1"])
        deferred.savepoint(conn)
        deferred.write(conn, "scratch_a", INSERT, ["inner", "2"])
        assert set(contents(conn)) == {"outer", "inner"}  # both savepoints issued
        deferred.write(conn, "scratch_a", INSERT, ["inner-held", "3"])
        deferred.rollback(conn)
        deferred.write(conn, "scratch_a", INSERT, ["outer-2", "4"])
        deferred.release(conn)
    with store.read() as conn:
        assert contents(conn) == {"outer": "1", "outer-2": "4"}


def test_held_writes_die_with_a_failed_write(store: Storage) -> None:
    with pytest.raises(RuntimeError), store.write() as plain, \
            deferred.holding(plain) as conn:
        deferred.write(conn, "scratch_a", INSERT, ["a", "1"])
        raise RuntimeError("the push failed")
    with store.read() as conn:
        assert contents(conn) == {}


def test_outside_holding_every_call_acts_at_once(store: Storage) -> None:
    with store.write() as conn:
        deferred.write(conn, "scratch_a", INSERT, ["a", "1"])
        deferred.savepoint(conn)
        deferred.write(conn, "scratch_a", INSERT, ["b", "2"])
        deferred.rollback(conn)
        assert contents(conn) == {"a": "1"}


def test_a_kept_row_takes_an_update_as_the_database_stores_it(db: Storage) -> None:
    """An update written through to a kept row must read as a fresh read would: a whole
    number in a REAL column as a float, other values as given."""
    with db.write() as conn, rows.cached():
        before = rows.current_row(conn, "customers", "cust-1")
        assert before is not None
        conn.execute("UPDATE customers SET lat = ?, phone = ? WHERE id = ?",
                     [31, "025-1234", "cust-1"])
        rows.updated("customers", "cust-1", {"lat": 31, "phone": "025-1234"})
        kept = rows.current_row(conn, "customers", "cust-1")
        fresh = dict(conn.execute("SELECT * FROM customers WHERE id = 'cust-1'").fetchone())
        assert kept == fresh
        assert type(kept["lat"]) is type(fresh["lat"]) is float  # type: ignore[index]


def test_has_job_is_asked_again_after_a_job_changes_hands(db: Storage) -> None:
    with db.write() as conn, rows.cached():
        job = rows.current_row(conn, "jobs", "job-1")
        assert job is not None and rows.has_job(conn, "cust-1", job["assignee"])
        conn.execute("UPDATE jobs SET assignee = 'nobody' WHERE customer_id = 'cust-1'")
        rows.updated("jobs", "job-1", {"assignee": "nobody"})
        assert not rows.has_job(conn, "cust-1", job["assignee"])
        for read in rows.ask_jobs_of(conn, "nobody", ["cust-1", "cust-unknown"]):
            read()
        assert rows.has_job(conn, "cust-1", "nobody")
        assert not rows.has_job(conn, "cust-unknown", "nobody")
