"""Provision an empty tablet: 500 jobs, their customers with 24 months of readings, 2,000
knowledge-base articles, from the real server (SQLite). Goal: at most 3x the plain copy.

Run by hand: ``PYTHONPATH=. .venv/bin/python bench/bench_provision.py``.
Both first syncs in the same run, each on a fresh tablet of the same server: the snapshot
(``fieldapp/sync/provision.py``, the median of three tablets) and page by page through the
merge (``FIELDAPP_FIRST_SYNC=pages``, as before it). Baseline in the same process: copying
the very rows the tablet ended up with into fresh tables of a plain SQLite file with
``sqlite3`` ``executemany`` (the floor for writing them at all; the median of three).
A second baseline: the same rows with ``executemany`` into an empty replica, which is
encrypted and keeps its indexes and knowledge-base text index (what filling the tablet's
own file costs without the snapshot's bulk load; the median of three).
"""

from __future__ import annotations

import copy
import os
import sqlite3
import tempfile
import time
from pathlib import Path
from statistics import median

from benchserver import start_server

from fieldapp.demo.generate import generate
from fieldapp.records import TABLES
from fieldapp.replica import Replica
from fieldapp.sync.client import SyncClient
from sync_server.services import auth
from sync_server.services.records import insert_records, seed_forms
from sync_server.storage.sqlite_database import Database

ROOT = Path(__file__).resolve().parents[1]
JOBS, ARTICLES = 500, 2000
REPEAT = 3  # snapshot first syncs and baseline copies, each figure their median


def build_server(data_dir: Path) -> None:
    """Demo data plus 500 jobs for tech01 and 2,000 articles."""
    data = generate()
    rows = data.rows
    template = next(j for j in rows["jobs"] if j["assignee"] == "tech01")
    customers = rows["customers"][:JOBS]
    jobs = [{**template, "id": f"bench-job-{i}", "number": f"BJ{i:06d}",
             "customer_id": c["id"], "district": c["district"], "route_order": i + 1}
            for i, c in enumerate(customers)]
    keep = {c["id"] for c in customers}
    articles = []
    for i in range(ARTICLES):
        a = copy.deepcopy(rows["kb_articles"][i % len(rows["kb_articles"])])
        a.update(id=f"bench-kb-{i}", title=f"{a['title']}（{i}）")
        articles.append(a)
    db = Database(data_dir / "server.sqlite3")
    with db.write() as conn:
        seed_forms(conn)
        auth.add_user(conn, "tech01", "王建国", "technician", "fieldapp", "秦淮区", ["inspection"])
        for table in ("customers", "meters", "readings", "contracts", "payments"):
            scope = [r for r in rows[table] if (r["id"] if table == "customers"
                                                 else r["customer_id"]) in keep]
            insert_records(conn, table, scope)
        insert_records(conn, "jobs", jobs)
        insert_records(conn, "kb_articles", articles)


def provision(url: str, folder: Path, first_sync: str) -> tuple[float, Replica, int]:
    """Seconds for one empty tablet's first sync, the replica, and the records it pulled."""
    os.environ["FIELDAPP_FIRST_SYNC"] = first_sync
    replica = Replica.open(folder)
    client = SyncClient(replica, url)
    client.login("tech01", "fieldapp")
    start = time.perf_counter()
    report = client.sync()
    return time.perf_counter() - start, replica, report.pulled


def contents(replica: Replica) -> dict[str, list[dict]]:
    return {t: sorted(replica.db.query(f"SELECT * FROM [{t}]"), key=lambda r: r["id"])
            for t in TABLES}


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    build_server(tmp / "server")
    proc, url = start_server(tmp / "server")
    try:
        # Each figure is the median of a few: on a machine shared with other work, one
        # sub-second measurement (of the snapshot or of the baseline) moves the ratio by
        # half. The replica kept is the last one.
        bulk = [provision(url, tmp / f"tablet-snapshot-{i}", "snapshot") for i in range(REPEAT)]
        bulk_s, (_, replica, pulled) = median(t for t, _, _ in bulk), bulk[-1]
        pages_s, by_pages, _ = provision(url, tmp / "tablet-pages", "pages")
    finally:
        proc.terminate()
        proc.wait()
    if contents(replica) != contents(by_pages):
        raise SystemExit("the two first syncs left different replicas")
    counts = {t: replica.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("jobs", "customers", "readings", "payments", "kb_articles")}
    print(f"provision empty tablet (snapshot): {bulk_s:.2f} s for {pulled} records {counts}")
    print(f"provision empty tablet (page by page through the merge): {pages_s:.2f} s")

    tables = {t: list(replica.db.query(f"SELECT * FROM [{t}]")) for t in TABLES}
    base_s = median(copy_plainly(tmp / f"baseline-{i}.sqlite3", tables) for i in range(REPEAT))
    print(f"baseline: plain sqlite3 executemany of the same rows: {base_s:.2f} s"
          f" -> snapshot {bulk_s / base_s:.1f}x (goal <= 3x), page by page"
          f" {pages_s / base_s:.1f}x; the snapshot is {pages_s / bulk_s:.1f}x faster")
    kept_s = median(copy_into_replica(tmp / f"baseline-replica-{i}", tables)
                    for i in range(REPEAT))
    print(f"second baseline: executemany of the same rows into an empty replica (its"
          f" encryption, indexes and text index): {kept_s:.2f} s -> snapshot"
          f" {bulk_s / kept_s:.1f}x")


def copy_into_replica(folder: Path, tables: dict[str, list[dict]]) -> float:
    """Seconds to write the rows with ``executemany`` into a new, empty replica in one
    transaction: what a tablet's file costs to fill at all, with no network, no snapshot
    and no checks (the replica opened before the timing)."""
    replica = Replica.open(folder)
    conn = replica.db.conn
    start = time.perf_counter()
    with replica.transaction():
        for t, rows in tables.items():
            cols = ["id", *TABLES[t].columns, "version", "hlc"]
            conn.executemany(f"INSERT INTO [{t}] ({', '.join(f'[{c}]' for c in cols)})"
                             f" VALUES ({','.join('?' * len(cols))})",
                             [[r[c] for c in cols] for r in rows])
    seconds = time.perf_counter() - start
    replica.close()
    return seconds


def copy_plainly(path: Path, tables: dict[str, list[dict]]) -> float:
    """Seconds to write the rows into a fresh SQLite file at ``path`` (its tables are
    created before the timing)."""
    base = sqlite3.connect(path)
    for t in tables:
        cols = ["id", *TABLES[t].columns, "version", "hlc"]
        base.execute(f"CREATE TABLE [{t}] ({', '.join(cols)})")
    base.commit()
    start = time.perf_counter()
    for t, rows in tables.items():
        cols = ["id", *TABLES[t].columns, "version", "hlc"]
        base.executemany(f"INSERT INTO [{t}] VALUES ({','.join('?' * len(cols))})",
                         [[r[c] for c in cols] for r in rows])
    base.commit()
    seconds = time.perf_counter() - start
    base.close()
    return seconds


if __name__ == "__main__":
    main()
