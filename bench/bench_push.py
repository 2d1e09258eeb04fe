"""Push throughput: 20,000 mutations in batches of 500 through the real HTTP server (SQLite, or
PostgreSQL with ``--pg``).

Run by hand: ``PYTHONPATH=. .venv/bin/python bench/bench_push.py [--pg]``.
Baseline in the same process: the same row updates and change-log inserts written with plain
sqlite3 ``executemany`` (what the merge costs beyond the bare writes).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from pathlib import Path

import requests
from benchserver import describe, start_server, storage

from fieldapp.ids import new_id
from fieldapp.local_time import now_iso
from fieldapp.wire import PROTOCOL_VERSION
from sync_server.seed import seed_demo
from sync_server.storage.db import open_database

TOTAL, BATCH = 20_000, 500


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", action="store_true", help="on a throwaway PostgreSQL cluster")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    with storage(tmp / "server", args.pg) as database_url:
        run(tmp, database_url)


def run(tmp: Path, database_url: str | None) -> None:
    db = open_database(tmp / "server", database_url)
    seed_demo(db)
    with db.read() as conn:
        customers = [tuple(r) for r in conn.execute("SELECT id, phone, version FROM customers")]
    db.close()
    server, url = start_server(tmp / "server", database_url)
    token = requests.post(url + "/api/v1/auth/login", json={
        "username": "dispatcher", "password": "fieldapp", "device_id": "bench"}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    phones = {cid: phone for cid, phone, _ in customers}
    versions = {cid: v for cid, _, v in customers}
    session = requests.Session()
    batches: list[dict] = []
    statuses: dict[str, int] = {}
    push_s = 0.0
    for i in range(TOTAL // BATCH):
        mutations = []
        for j in range(BATCH):
            cid = customers[(i * BATCH + j) % len(customers)][0]
            new = f"1{(i * BATCH + j) % 10**10:010d}"
            mutations.append({"mutation_id": new_id(), "table": "customers", "record_id": cid,
                              "op": "update", "fields": {"phone": new},
                              "old": {"phone": phones[cid]}, "base_version": versions[cid],
                              "hlc": f"{int(time.time() * 1000):018d}:{j:05d}:bench",
                              "at": now_iso()})
            phones[cid] = new
        body = {"protocol": PROTOCOL_VERSION, "schema_version": 1, "device_id": "bench",
                "batch_id": new_id(), "mutations": mutations}
        batches.append(body)
        start = time.perf_counter()  # the tablet's side of building batches is not timed
        results = session.post(url + "/api/v1/sync/push", json=body, headers=headers).json()
        push_s += time.perf_counter() - start
        for m, r in zip(mutations, results["results"], strict=True):
            statuses[r["status"]] = statuses.get(r["status"], 0) + 1
            versions[m["record_id"]] = r["version"]
    print(f"push {TOTAL} mutations in batches of {BATCH} ({describe(database_url, 1)}):"
          f" {push_s:.2f} s,"
          f" {TOTAL / push_s:,.0f} mutations/s  {statuses}")

    base = sqlite3.connect(tmp / "baseline.sqlite3")
    base.execute("CREATE TABLE customers (id TEXT PRIMARY KEY, phone TEXT, version INT)")
    base.execute("CREATE TABLE changes (seq INTEGER PRIMARY KEY, tbl, record_id, fields)")
    base.executemany("INSERT INTO customers VALUES (?, ?, ?)", customers)
    base.commit()
    start = time.perf_counter()
    for body in batches:
        rows = [(m["fields"]["phone"], m["record_id"]) for m in body["mutations"]]
        base.executemany("UPDATE customers SET phone = ? WHERE id = ?", rows)
        base.executemany("INSERT INTO changes(tbl, record_id, fields) VALUES ('customers', ?, ?)",
                         [(m["record_id"], json.dumps(m["fields"])) for m in body["mutations"]])
        base.commit()
    base_s = time.perf_counter() - start
    print(f"baseline: plain sqlite3 executemany of the same writes: {base_s:.2f} s"
          f" -> the server takes {push_s / base_s:.1f}x")
    server.terminate()
    server.wait()


if __name__ == "__main__":
    main()
