"""Many-row inserts on PostgreSQL: the server's records and their change-log entries
written through ``PgConnection.executemany``, which sends a plain ``INSERT … VALUES`` as
one statement of arrays per block (``sync_server/storage/bulk_insert.py``).

Run by hand: ``PYTHONPATH=. .venv/bin/python bench/bench_bulk_insert.py [--rows N]``
(100,000 by default), on a throwaway PostgreSQL cluster. Baseline in the same run: the
same rows, in the same blocks of 1,000, through psycopg's own ``executemany`` inside the
write's pipeline (one Bind/Execute per row), which is what the server did before. Both
into the server's real ``readings`` and ``changes`` tables (their indexes and trigger),
emptied between the two; the time of each, the client's CPU time, and the ratio.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchserver import storage  # noqa: E402

from fieldapp.ids import new_id  # noqa: E402
from sync_server.services.audit import CHAINED  # noqa: E402
from sync_server.storage import bulk_insert  # noqa: E402
from sync_server.storage.db import open_database  # noqa: E402

BLOCK = 1000
READINGS = ("INSERT INTO readings (id, customer_id, meter_id, read_at, value, source, version,"
            " hlc) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET value = excluded.value")
CHANGES = (f"INSERT INTO changes(seq, {', '.join(CHAINED)}, prev_hash, hash) VALUES"
           f" ({', '.join('?' * (len(CHAINED) + 3))})")


def rows(n: int) -> tuple[list[list[object]], list[list[object]]]:
    readings, changes = [], []
    for i in range(n):
        rid = new_id()
        fields = {"customer_id": f"c{i}", "meter_id": f"m{i}", "value": 100 + i % 50 * 0.5,
                  "read_at": "2026-11-15T09:00:00+08:00", "source": "billing"}
        readings.append([rid, f"c{i}", f"m{i}", fields["read_at"], fields["value"], "billing",
                         i + 1, "h"])
        entry = {"tbl": "readings", "record_id": rid, "customer_id": f"c{i}", "op": "insert",
                 "fields": json.dumps(fields, ensure_ascii=False), "hlc": "h",
                 "by_user": "bench", "device_id": "server", "at": "2026-12-05T00:00:00Z"}
        changes.append([i + 1, *(entry.get(c) for c in CHAINED), "0" * 64, "f" * 64])
    return readings, changes


def timed(url: str, data: Path, readings: list[list[object]],
          changes: list[list[object]], bulk: bool) -> tuple[float, float]:
    db = open_database(data, url)
    plain = bulk_insert.insert
    if not bulk:  # the previous design: every row its own statement in the pipeline
        bulk_insert.insert = lambda *args: False  # type: ignore[assignment]
    try:
        with db.write() as conn:
            conn.execute("DELETE FROM readings")
            conn.execute("DELETE FROM changes")
        start, cpu = time.perf_counter(), time.process_time()
        with db.write() as conn:
            for at in range(0, len(readings), BLOCK):
                conn.executemany(CHANGES, changes[at:at + BLOCK])
                conn.executemany(READINGS, readings[at:at + BLOCK])
        return time.perf_counter() - start, time.process_time() - cpu
    finally:
        bulk_insert.insert = plain  # type: ignore[assignment]
        db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    n = parser.parse_args().rows
    readings, changes = rows(n)
    tmp = Path(tempfile.mkdtemp())
    with storage(tmp / "server", True) as url:
        assert url is not None
        timed(url, tmp / "server", readings[:BLOCK], changes[:BLOCK], True)  # warm
        before, before_cpu = timed(url, tmp / "server", readings, changes, False)
        after, after_cpu = timed(url, tmp / "server", readings, changes, True)
    total = 2 * n
    print(f"{n:,} readings and their {n:,} change-log entries on PostgreSQL,"
          f" blocks of {BLOCK:,}")
    print(f"  baseline executemany (row by row): {before:6.2f} s  {total / before:9,.0f}"
          f" rows/s  client CPU {before_cpu:5.2f} s")
    print(f"  arrays (bulk_insert):              {after:6.2f} s  {total / after:9,.0f}"
          f" rows/s  client CPU {after_cpu:5.2f} s")
    print(f"  ratio: {before / after:.1f}x faster, {before_cpu / after_cpu:.1f}x less client CPU")


if __name__ == "__main__":
    main()
