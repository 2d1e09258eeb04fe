"""The synced tables are declared once (``records.TABLES``: their columns) and built by one
ordered list of DDL steps (``records.RECORD_SCHEMA``) that the tablet's and the server's
migration lists each run, in the same order, among their own numbered migrations. These
tests tie the two numberings together and the DDL to the declared columns, so neither can
drift: a step left out of one side, run twice, run out of order, or a column added to the
DDL but not to TABLES (or the reverse) fails here."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import sqlite_utils

from fieldapp.records import RECORD_SCHEMA, TABLES
from fieldapp.replica import store
from sync_server.storage import db as server_db


def _statements(ddl: str) -> list[str]:
    return [re.sub(r"\s+", " ", s).strip() for s in ddl.split(";") if s.strip()]


def _steps_in(executed: dict[int, list[str]]) -> list[tuple[int, int]]:
    """(step index, migration number) for every RECORD_SCHEMA step found whole, in order,
    inside one migration's executed statements."""
    found = []
    for step, ddl in enumerate(RECORD_SCHEMA):
        wanted = _statements(ddl)
        for number, ran in sorted(executed.items()):
            at = [i for i in range(len(ran)) if ran[i:i + len(wanted)] == wanted]
            found += [(step, number)] * len(at)
    return found


def _order_problem(found: list[tuple[int, int]]) -> str | None:
    """What is wrong with where the steps ran, or None: each once, in release order."""
    if [step for step, _ in found] != list(range(len(RECORD_SCHEMA))):
        return f"each step must run exactly once: {found}"
    numbers = [number for _, number in found]
    if numbers != sorted(numbers):
        return f"steps run out of their release order: {found}"
    return None


def test_the_tablet_runs_every_record_step_once_in_order() -> None:
    conn = sqlite3.connect(":memory:")
    executed: dict[int, list[str]] = {}
    current: list[str] = []
    conn.set_trace_callback(lambda sql: current.append(re.sub(r"\s+", " ", sql).strip()))
    db = sqlite_utils.Database(conn)
    for number in sorted(store.MIGRATIONS):
        current.clear()
        store.MIGRATIONS[number][1](db)
        executed[number] = list(current)
    assert _order_problem(_steps_in(executed)) is None


def test_the_server_runs_every_record_step_once_in_order() -> None:
    executed = {n: _statements(ddl) for n, ddl in server_db.MIGRATIONS.items()}
    assert _order_problem(_steps_in(executed)) is None


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f'PRAGMA table_xinfo("{table}")')}


def _declared(table: str) -> set[str]:
    spec = TABLES[table]
    return {"id", "version", "hlc", *spec.columns, *(("customer_id",) if spec.scoped else ())}


def test_a_new_tablet_has_exactly_the_declared_columns(tmp_path: Path) -> None:
    db = store.open_db(tmp_path / "replica.db", None)
    conn = db.conn
    for table in TABLES:
        assert _columns(conn, table) == _declared(table), table


def test_a_new_server_has_exactly_the_declared_columns(tmp_path: Path) -> None:
    conn = sqlite3.connect(":memory:")
    for number in sorted(server_db.MIGRATIONS):
        conn.executescript(server_db.MIGRATIONS[number])
    for table in TABLES:
        assert _columns(conn, table) == _declared(table), table


def test_the_check_sees_a_step_missing_or_repeated() -> None:
    """The ordering check itself can fail."""
    executed = {n: _statements(ddl) for n, ddl in server_db.MIGRATIONS.items()}
    last = max(executed)
    executed[last + 1] = _statements(RECORD_SCHEMA[1])  # a step run a second time
    assert _order_problem(_steps_in(executed)) == (
        f"each step must run exactly once: {_steps_in(executed)}")
    swapped = {n + 1: _statements(ddl) for n, ddl in enumerate(RECORD_SCHEMA)}
    swapped[1], swapped[2] = swapped[2], swapped[1]  # the second step run before the first
    executed = swapped
    assert "out of their release order" in (_order_problem(_steps_in(executed)) or "")
