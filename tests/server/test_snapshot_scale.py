"""A tablet's snapshot reads its own customers' records by index, not the utility's whole
tables (sync_server/sync/snapshot.py, storage/db.py SERVER_DDL_V27): with no other plan
allowed, no scoped table of the snapshot is read by a scan. On SQLite by its query plan, on
PostgreSQL (FIELDAPP_TEST_PG) by EXPLAIN with sequential scans priced out."""

from __future__ import annotations

from pathlib import Path

from fieldapp.records import TABLES
from sync_server.services.auth import Principal
from sync_server.services.records import insert_records
from sync_server.storage.db import open_database
from sync_server.sync import snapshot
from tests.conftest import ServerProcess

SCOPED = [t for t, spec in TABLES.items() if spec.scoped]


def plans(tmp_path: Path) -> dict[str, str]:
    """Each scoped table's snapshot query plan, as text, on the tests' backend."""
    server = ServerProcess(tmp_path / "server")
    server.data_dir.mkdir()
    db = open_database(server.data_dir, server.database_url)
    try:
        with db.read() as conn:
            if server.database_url:
                conn.execute("SET enable_seqscan = off")  # an index if there is one
                return {t: "\n".join(str(r[0]) for r in conn.execute(
                    f"EXPLAIN {snapshot.query(t)}", ["tech01"]).fetchall()) for t in SCOPED}
            return {t: "\n".join(str(r[3]) for r in conn.execute(
                f"EXPLAIN QUERY PLAN {snapshot.query(t)}", ["tech01"]).fetchall())
                for t in SCOPED}
    finally:
        db.close()


def test_every_scoped_table_of_the_snapshot_is_read_by_an_index(tmp_path: Path) -> None:
    found = plans(tmp_path)
    scanned = {t: plan for t, plan in found.items()
               if f"SCAN {t}" in plan.split("\n")  # SQLite: a whole-table scan
               or f"Seq Scan on {t}" in plan}  # PostgreSQL
    assert scanned == {}
    assert all("INDEX" in p.upper() for p in found.values())


def test_the_snapshot_holds_the_scope_however_many_other_records_there_are(
        server: ServerProcess) -> None:
    """Others' readings do not come along (and the index serves the same rows as before)."""
    db = open_database(server.data_dir, server.database_url)
    try:
        with db.write() as conn:
            insert_records(conn, "readings", [
                {"id": f"other-r{i}", "customer_id": "cust-elsewhere", "meter_id": "m-x",
                 "read_at": "2026-01-01", "value": float(i), "source": "import"}
                for i in range(200)])
        who = Principal("tech01", "王建国", "technician", None, "dev-1")
        with db.write() as conn:
            tables, _ = snapshot.take(conn, who)
            mine = {r[0] for r in conn.execute(
                "SELECT id FROM readings WHERE customer_id IN"
                " (SELECT customer_id FROM jobs WHERE assignee = 'tech01')").fetchall()}
    finally:
        db.close()
    got = {row[0] for row in tables["readings"]}
    assert got == mine and mine and not any(r.startswith("other-") for r in got)
