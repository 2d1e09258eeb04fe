"""The storage interface behaves alike on SQLite and PostgreSQL (FIELDAPP_TEST_PG).

Each test opens the backend the run is on; the translation tests need no database.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from sync_server.services import auth
from sync_server.storage.db import MIGRATIONS, Connection, Storage, open_database, utc_now
from sync_server.storage.postgres import pg_ddl, translate
from tests import pg


@pytest.fixture
def database_url() -> str | None:
    return pg.current.create_database() if pg.current else None


@pytest.fixture
def storage(tmp_path: Path, database_url: str | None) -> Iterator[Storage]:
    db = open_database(tmp_path, database_url)
    yield db
    db.close()


def log_change(conn: Connection, record_id: str) -> int:
    return conn.execute("INSERT INTO changes(tbl, record_id, op, fields, at)"
                        " VALUES ('jobs', ?, 'update', '{}', ?) RETURNING seq",
                        [record_id, utc_now()]).fetchone()[0]


def test_two_processes_starting_together_apply_each_migration_once(tmp_path, database_url):
    with ThreadPoolExecutor(3) as pool:
        opened = list(pool.map(lambda _: open_database(tmp_path, database_url), range(3)))
    again = open_database(tmp_path, database_url)  # a restart finds nothing left to do
    try:
        with again.read() as conn:
            versions = [r[0] for r in conn.execute(
                "SELECT version FROM schema_migrations ORDER BY version").fetchall()]
            assert versions == sorted(MIGRATIONS)
            conn.execute("SELECT lat, lon, accuracy_m, fix_age_s FROM attachments").fetchall()
    finally:
        for db in [*opened, again]:
            db.close()


def test_rows_read_by_index_and_by_name(storage):
    with storage.write() as conn:
        auth.add_user(conn, "tech09", "钱七", "technician", "pw", "秦淮区")
    with storage.read() as conn:
        row = conn.execute("SELECT username, display_name, active FROM users").fetchone()
    assert (row[0], row["display_name"], row["active"]) == ("tech09", "钱七", 1)
    assert list(row.keys()) == ["username", "display_name", "active"]
    assert dict(row) == {"username": "tech09", "display_name": "钱七", "active": 1}
    assert tuple(row) == ("tech09", "钱七", 1)


def test_change_log_numbers_stay_gap_free_after_a_rollback(storage):
    with storage.write() as conn:
        first = log_change(conn, "job-1")
    with pytest.raises(RuntimeError), storage.write() as conn:
        log_change(conn, "job-2")
        raise RuntimeError("the batch failed half-way")
    with storage.write() as conn:
        assert log_change(conn, "job-3") == first + 1
    with storage.read() as conn:
        assert [r["record_id"] for r in conn.execute("SELECT record_id FROM changes")] == [
            "job-1", "job-3"]


def test_text_compares_bytewise_and_reals_keep_eight_bytes(storage):
    with storage.write() as conn:
        for name in ("a", "B", "b", "A"):
            auth.add_user(conn, name, name, "technician", "pw")
        conn.execute("INSERT INTO attachments(id, sha256, customer_id, kind, lat, lon)"
                     " VALUES ('a1', 'x', 'cust-1', 'photo', ?, ?)", [32.0201, 118.8002])
    with storage.read() as conn:
        names = [r[0] for r in conn.execute("SELECT username FROM users ORDER BY username")]
        assert names == ["A", "B", "a", "b"]  # as SQLite sorts, not as a dictionary does
        assert conn.execute("SELECT count(*) FROM users WHERE username > 'Z'").fetchone()[0] == 2
        assert tuple(conn.execute("SELECT lat, lon FROM attachments").fetchone()) == (
            32.0201, 118.8002)


def test_json_fields_are_read_alike(storage):
    with storage.write() as conn:
        conn.execute("INSERT INTO changes(tbl, record_id, op, fields, at)"
                     """ VALUES ('jobs', 'job-1', 'update', '{"assignee": "tech02"}', ?)""",
                     [utc_now()])
        conn.execute("INSERT INTO answers(id, submission_id, job_id, customer_id, question,"
                     """ value) VALUES ('a1', 's1', 'job-1', 'cust-1', 'q', '"fail"')""")
    with storage.read() as conn:
        assert conn.execute("SELECT record_id FROM changes"
                            " WHERE json_extract(fields, '$.assignee') = ?",
                            ["tech02"]).fetchone()[0] == "job-1"
        assert conn.execute("SELECT count(*) FROM answers"
                            " WHERE json_extract(value, '$') = 'fail'").fetchone()[0] == 1


def test_sqlite_spellings_are_translated_or_refused():
    assert translate("SELECT 1 FROM changes WHERE json_extract(fields, '$.assignee') = ?"
                     " AND tbl LIKE 'j%'") == (
        "SELECT 1 FROM changes WHERE (fields::jsonb ->> 'assignee') = %s AND tbl LIKE 'j%%'")
    assert translate("SELECT json_extract(a.value, '$')") == "SELECT (a.value::jsonb #>> '{}')"
    for sqlite_only in ("INSERT OR IGNORE INTO t VALUES (?)", "SELECT * FROM [jobs]",
                        "PRAGMA foreign_keys=ON", "SELECT json_extract(f, '$.a.b')"):
        with pytest.raises(ValueError):
            translate(sqlite_only)


def test_migration_ddl_is_derived_for_postgres():
    table, *trigger = pg_ddl("CREATE TABLE conflicts (\n  id INTEGER PRIMARY KEY AUTOINCREMENT,"
                             " n INTEGER NOT NULL, x REAL, t TEXT)")
    assert table == ('CREATE TABLE conflicts (\n  id BIGINT PRIMARY KEY, n BIGINT NOT NULL,'
                     ' x DOUBLE PRECISION, t TEXT COLLATE "C")')
    assert "NEW.id := (SELECT coalesce(max(id), 0) + 1 FROM conflicts)" in trigger[0]
    assert trigger[1].startswith("CREATE TRIGGER conflicts_next_id BEFORE INSERT ON conflicts")
    assert pg_ddl("ALTER TABLE c ADD COLUMN k TEXT GENERATED ALWAYS AS (id) VIRTUAL") == [
        'ALTER TABLE c ADD COLUMN k TEXT COLLATE "C" GENERATED ALWAYS AS (id) STORED']
