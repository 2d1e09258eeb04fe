"""Many-row writes sent as one statement (``bulk_update.py`` on PostgreSQL) and ids given as
one JSON parameter (``rows.AMONG``) must do exactly what the rows one by one would do. On
both backends (``FIELDAPP_TEST_PG=1`` runs the same on PostgreSQL, where the bulk paths are
taken; on SQLite they are sqlite3's own)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

import pytest

from sync_server.storage import bulk_update, rows
from sync_server.storage.db import Connection, Storage
from sync_server.storage.postgres import PgConnection

UPDATE = 'UPDATE "scratch" SET "v" = ?, n = ?, x = ? WHERE id = ?'


@pytest.fixture
def store(db: Storage) -> Iterator[Storage]:
    with db.write() as conn:
        conn.execute("CREATE TABLE scratch (id TEXT PRIMARY KEY, v TEXT, n BIGINT,"
                     " x DOUBLE PRECISION)")
        conn.executemany("INSERT INTO scratch (id, v, n, x) VALUES (?, ?, ?, ?)",
                         [[f"r{i:03d}", "", 0, 0.0] for i in range(200)])
    yield db


def contents(conn: Connection) -> dict[str, tuple]:
    return {r[0]: (r[1], r[2], r[3]) for r in conn.execute(
        "SELECT id, v, n, x FROM scratch")}


def test_many_updates_with_repeated_ids_leave_the_last_values(store: Storage) -> None:
    chosen = random.Random(7)
    updates, expected = [], {f"r{i:03d}": ("", 0, 0.0) for i in range(200)}
    for step in range(1500):
        rid = f"r{chosen.randrange(220):03d}"  # some ids are absent: nothing to update
        values = [chosen.choice(["甲", "it's", 'a "b", c', "", None, f"v{step}"]),
                  chosen.choice([step, None, -2**40]), chosen.choice([step, step / 7, None])]
        updates.append([*values, rid])
        if rid in expected:
            expected[rid] = (values[0], values[1],
                             None if values[2] is None else float(values[2]))
    with store.write() as conn:
        conn.executemany(UPDATE, updates)
    with store.read() as conn:
        assert contents(conn) == expected


def test_a_bulk_update_in_the_middle_of_other_writes_keeps_their_order(store: Storage) -> None:
    with store.write() as conn:
        conn.executemany(UPDATE, [["a", 1, 1.0, "r000"], ["b", 2, 2.0, "r001"]])
        conn.execute("UPDATE scratch SET v = v || '!' WHERE id IN ('r000', 'r001')")
        conn.executemany(UPDATE, [["c", 3, 3.0, "r001"], ["d", 4, 4.0, "r002"]])
    with store.read() as conn:
        got = contents(conn)
    assert (got["r000"], got["r001"], got["r002"]) == (("a!", 1, 1.0), ("c", 3, 3.0),
                                                       ("d", 4, 4.0))


def test_only_plain_set_by_id_statements_are_sent_in_bulk(store: Storage) -> None:
    with store.write() as conn:
        if not isinstance(conn, PgConnection):
            pytest.skip("the bulk path is PostgreSQL's")
        raw = conn._conn
        assert bulk_update.update(raw, UPDATE, [["a", 1, 1.0, "r000"], ["b", 2, 2.0, "r001"]])
        for refused in ("UPDATE scratch SET n = n + ? WHERE id = ?",  # not a given value
                        "UPDATE scratch SET v = ? WHERE v = ?",  # not by id
                        "UPDATE scratch SET id = ? WHERE id = ?"):  # the key itself
            assert not bulk_update.update(raw, refused, [["x", "r003"], ["y", "r004"]])
        # A column whose values are of two types does not fit one array, nor a column the
        # table lacks, nor ids that are not text: row by row, as before.
        assert not bulk_update.update(raw, UPDATE, [["a", 1, 1.0, "r005"], [7, 2, 2.0, "r006"]])
        assert not bulk_update.update(raw, "UPDATE scratch SET nope = ? WHERE id = ?",
                                      [["x", "r003"], ["y", "r004"]])
        assert not bulk_update.update(raw, UPDATE, [["a", 1, 1.0, ["r005"]],
                                                    ["b", 2, 2.0, "r006"]])
        conn.executemany("UPDATE scratch SET n = n + ? WHERE id = ?", [[5, "r000"], [6, "r000"]])
    with store.read() as conn:
        got = contents(conn)
    assert (got["r000"], got["r001"]) == (("a", 12, 1.0), ("b", 2, 2.0))


def test_ids_given_as_one_parameter_find_exactly_those_records(store: Storage) -> None:
    odd = ["it's", 'a "b"', "逗号,和括号)", "x\\y", "%s", "?"]
    with store.write() as conn:
        conn.executemany("INSERT INTO scratch (id, v, n, x) VALUES (?, ?, ?, ?)",
                         [[i, i, 1, 1.0] for i in odd])
    wanted = [*odd, "r010", "r199", "absent", *(f"r{i:03d}" for i in range(100, 150))]
    with store.read() as conn:
        found = sorted(r[0] for r in conn.execute(
            f"SELECT id FROM scratch WHERE id {rows.AMONG}", [rows.among(wanted)]))
        none = conn.execute(f"SELECT count(*) FROM scratch WHERE id {rows.AMONG}",
                            [rows.among([])]).fetchone()[0]
        pairs = dict(conn.execute(
            "SELECT key, CAST(value AS BIGINT) FROM json_each(?)",
            [json.dumps({"it's": 3, "逗号": 2**40})]).fetchall())
    assert found == sorted(set(wanted) - {"absent"})
    assert none == 0
    assert pairs == {"it's": 3, "逗号": 2**40}
