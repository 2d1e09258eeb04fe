"""A pull reads the change-log entries it may send, from its cursor on, not a table's
whole history nor everyone's changes since.

Offered the log's index on (tbl, record_id) for ``tbl IN (…)``, SQLite read every entry ever
logged for every synced table on each pull and then kept those after the cursor: a pull's
cost grew with the server's age (15 ms a pull on the demo's 100,000 entries). Now each part
of a device's scope is read through its own index from the cursor on: the global tables by
(tbl, seq), the scope's customers by (customer_id, seq). The plan is the thing to check (a
timing would not fail reliably), and the answers must be what they were."""

from __future__ import annotations

from sync_server.services.auth import Principal
from sync_server.storage.db import Storage
from sync_server.storage.sqlite_database import Database
from sync_server.sync.pull import GLOBAL_TABLES, in_scope

TECH = Principal("tech01", "王建国", "technician", "秦淮区", "pad-1")
DISTRICT = Principal("dispatch-qh", "调度", "dispatcher", "秦淮区", "office")
OFFICE = Principal("admin", "管理员", "admin", None, "office")


def heads(who: Principal, cursor: int) -> tuple[str, list[object]]:
    entries, params = in_scope(who, cursor)
    return (f"SELECT tbl, record_id, max(seq) AS seq FROM ({entries}) AS e"
            " GROUP BY tbl, record_id ORDER BY seq LIMIT 1000", params)


def test_a_pull_reads_each_part_of_its_scope_from_the_cursor_by_its_index(
        db: Storage) -> None:
    if not isinstance(db, Database):
        return  # PostgreSQL plans by its own statistics; this was SQLite's trap
    with db.read() as conn:
        for who in (TECH, DISTRICT):
            sql, params = heads(who, 0)
            plan = " | ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
            assert "changes_record" not in plan and "SCAN changes" not in plan, plan
            assert "changes_table_seq (tbl=? AND seq>?)" in plan, plan
            if who is TECH:
                assert "changes_scope (customer_id=? AND seq>?)" in plan, plan
        sql, params = heads(OFFICE, 0)
        plan = " | ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
        assert "INTEGER PRIMARY KEY (rowid>?)" in plan, plan


def test_the_pull_finds_what_the_scope_holds_after_the_cursor(db: Storage) -> None:
    with db.read() as conn:
        head = conn.execute("SELECT max(seq) FROM changes").fetchone()[0]
        middle = head // 2
        for who, scoped in ((TECH, "customer_id IN (SELECT customer_id FROM jobs WHERE"
                                   " assignee = 'tech01')"),
                            (DISTRICT, "customer_id IN (SELECT id FROM customers WHERE"
                                       " district = '秦淮区')"),
                            (OFFICE, "tbl != 'security'")):
            sql, params = heads(who, middle)
            found = {(r[0], r[1], r[2]) for r in conn.execute(sql, params)}
            expected = {(r[0], r[1], r[2]) for r in conn.execute(
                "SELECT tbl, record_id, max(seq) FROM changes WHERE seq > ? AND"
                f" (tbl IN {GLOBAL_TABLES} OR {scoped})"
                " GROUP BY tbl, record_id ORDER BY max(seq) LIMIT 1000", [middle])}
            assert found == expected, who.role
            assert not list(conn.execute(*heads(who, head)))
