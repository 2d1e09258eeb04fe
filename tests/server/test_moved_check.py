"""Whether anyone else changed a record after the version a device saw (sync/moved.py,
SERVER_DDL_V28): read from that version on by the index, so a record's long history does
not slow every push that updates it, and answered the same whichever seq was read first."""

from __future__ import annotations

import json

from sync_server.services import audit
from sync_server.storage.db import Connection, Storage
from sync_server.sync import moved

TABLE = "customers"


def change(conn: Connection, record_id: str, device: str | None) -> int:
    """One logged change of ``record_id`` by ``device`` (None: the office); its seq."""
    return audit.log(conn, {"tbl": TABLE, "record_id": record_id, "op": "update",
                            "fields": "{}", "by_user": "tech01", "device_id": device,
                            "at": "2026-12-07T10:00:00Z"})[0]


def plan(conn: Connection, postgres: bool) -> str:
    sql = moved._LATEST
    params = [json.dumps({"c-1": 5, "c-2": 9}), TABLE, "pad-1"]
    if postgres:
        conn.execute("SET enable_seqscan = off")
        return "\n".join(str(r[0]) for r in conn.execute(f"EXPLAIN {sql}", params))
    return "\n".join(str(r[3]) for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))


def test_only_the_changes_after_the_version_seen_are_read(db: Storage) -> None:
    postgres = type(db).__name__ == "PgDatabase"
    with db.read() as conn:
        found = plan(conn, postgres)
    if postgres:  # the seq bound is a condition of the index scan, not a filter after it
        conditions = [line for line in found.split("\n") if "Index Cond" in line]
        assert "changes_record_seq" in found and any(
            "record_id =" in c and "seq >" in c for c in conditions), found
    else:
        assert "changes_record_seq (tbl=? AND record_id=? AND seq>?)" in found, found


def test_the_answer_is_the_same_whatever_was_read_before(db: Storage) -> None:
    with db.write() as conn:
        mine = [change(conn, "c-long", "pad-1") for _ in range(30)]
        other = change(conn, "c-long", "pad-2")
        late = [change(conn, "c-long", "pad-1") for _ in range(5)]
        office = change(conn, "c-office", None)

        def asked(after: int, device: str = "pad-1", record: str = "c-long") -> bool:
            return moved.moved_by_others(conn, TABLE, record, device, after)

        truth = {after: asked(after) for after in (0, mine[10], other - 1, other, late[-1])}
        assert truth == {0: True, mine[10]: True, other - 1: True, other: False,
                         late[-1]: False}
        for first in (late[-1], other, mine[10], 0):  # read from a later seq, then earlier
            with moved.tracking():
                moved.prefetch(conn, "pad-1", TABLE, {"c-long": first})
                assert {a: asked(a) for a in truth} == truth
        with moved.tracking():
            moved.prefetch(conn, "pad-1", TABLE, {"c-long": other, "c-office": 0})
            assert asked(0, record="c-office") and not asked(office, record="c-office")
            assert asked(other - 1) and not asked(other)
            newer = change(conn, "c-long", "pad-3")
            moved.logged(TABLE, "c-long", "pad-3", newer)  # as the push logs it
            assert asked(other) and asked(newer - 1) and not asked(newer)
        assert asked(other, device="pad-3")  # pad-1's late changes are others' to pad-3
        assert not asked(late[-1], device="pad-3")  # after them, only pad-3's own
