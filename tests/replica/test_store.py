from __future__ import annotations

from pathlib import Path

import pytest

from fieldapp.replica import Replica, store
from fieldapp.replica.db_key import database_key


def test_new_replica_is_migrated_in_wal_mode(tmp_path: Path):
    db = store.open_db(tmp_path / "r.sqlite3")
    assert store.schema_version(db) == store.SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    expected = {"customers", "meters", "readings", "contracts", "payments", "jobs",
                "job_status_history", "form_definitions", "submissions", "answers",
                "attachments", "signatures", "scans", "kb_articles", "outbox", "sync_state"}
    assert expected <= set(db.table_names())


def test_reopening_applies_no_migration_twice(tmp_path: Path):
    store.open_db(tmp_path / "r.sqlite3").conn.close()
    db = store.open_db(tmp_path / "r.sqlite3")
    assert store.migrate(db) == []
    assert db.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(
        store.MIGRATIONS)


def test_a_failing_migration_leaves_the_previous_version(tmp_path: Path, monkeypatch):
    db = store.open_db(tmp_path / "r.sqlite3")
    before = store.schema_version(db)

    def broken(db):
        db.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("disk full")

    monkeypatch.setitem(store.MIGRATIONS, before + 1, ("broken", broken))
    with pytest.raises(RuntimeError):
        store.migrate(db)
    assert store.schema_version(db) == before
    assert "half_done" not in db.table_names()


def test_device_id_is_stable_across_restarts(tmp_path: Path):
    first = Replica.open(tmp_path)
    device = first.device_id
    first.close()
    assert Replica.open(tmp_path).device_id == device


def test_database_file_is_a_valid_sqlite_file(fresh_replica: Replica):
    path = fresh_replica.data_dir / "replica.sqlite3"
    conn = store.connect(path, database_key(fresh_replica.data_dir))
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_the_wire_names_the_newest_tablet_schema() -> None:
    """The server reads the tablet's schema version from the wire module (it must not import
    the store); a new client migration has to move it too."""
    from fieldapp import wire
    from fieldapp.replica import store

    assert wire.CLIENT_SCHEMA_VERSION == store.SCHEMA_VERSION
