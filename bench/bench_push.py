"""Push throughput: 20,000 mutations in batches of 500 through the real HTTP server (SQLite, or
PostgreSQL with ``--pg``).

Run by hand: ``PYTHONPATH=. .venv/bin/python bench/bench_push.py [--pg]``.
The work a technician's tablet sends, every mutation of it accepted: half notes on its own
jobs (interactions inserted), half tag edits of those jobs' customers (customers updated).
Baseline in the same process: the same inserts, row updates and change-log rows written with
plain sqlite3 ``executemany`` (what the checks and the merge cost beyond the bare writes).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from benchserver import describe, start_server, storage

from fieldapp.domain.customer_tags import STANDARD_TAGS
from fieldapp.ids import new_id
from fieldapp.local_time import now_iso
from fieldapp.wire import PROTOCOL_VERSION
from sync_server.seed import seed_demo
from sync_server.storage.db import open_database

TOTAL, BATCH = 20_000, 500
TECHNICIAN = "tech09"  # the demo's technician with the most jobs


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
        jobs = [tuple(r) for r in conn.execute(
            "SELECT jobs.id, customer_id FROM jobs WHERE assignee = ?"
            " AND status NOT IN ('completed', 'cancelled') ORDER BY jobs.id", [TECHNICIAN])]
        tags = {r[0]: (r[1], r[2]) for r in conn.execute(
            "SELECT id, tags, version FROM customers WHERE id IN (SELECT customer_id FROM jobs"
            " WHERE assignee = ?)", [TECHNICIAN])}
    db.close()
    server, url = start_server(tmp / "server", database_url)
    token = requests.post(url + "/api/v1/auth/login", json={
        "username": TECHNICIAN, "password": "fieldapp", "device_id": "bench"}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    session = requests.Session()
    batches: list[list[dict[str, Any]]] = []
    statuses: dict[str, int] = {}
    push_s = 0.0
    for i in range(TOTAL // BATCH):
        mutations = []
        for j in range(BATCH):
            n = i * BATCH + j
            job_id, cid = jobs[n % len(jobs)]
            hlc = f"{int(time.time() * 1000):018d}:{j:05d}:bench"
            if n % 2:
                old, version = tags[cid]
                listed = json.loads(old or "[]")
                tag = STANDARD_TAGS[n % len(STANDARD_TAGS)]
                new = json.dumps([t for t in listed if t != tag] if tag in listed
                                 else [*listed, tag], ensure_ascii=False)
                mutations.append({"mutation_id": new_id(), "table": "customers",
                                  "record_id": cid, "op": "update", "fields": {"tags": new},
                                  "old": {"tags": old}, "base_version": version, "hlc": hlc,
                                  "at": now_iso()})
                tags[cid] = (new, version)
            else:
                mutations.append({"mutation_id": new_id(), "table": "interactions",
                                  "record_id": new_id(), "op": "insert", "fields": {
                                      "job_id": job_id, "customer_id": cid, "kind": "note",
                                      "text": f"入户记录 {n}", "at": now_iso()},
                                  "old": {}, "base_version": 0, "hlc": hlc, "at": now_iso()})
        body = {"protocol": PROTOCOL_VERSION, "schema_version": 1, "device_id": "bench",
                "batch_id": new_id(), "mutations": mutations}
        batches.append(mutations)
        start = time.perf_counter()  # the tablet's side of building batches is not timed
        results = session.post(url + "/api/v1/sync/push", json=body, headers=headers).json()
        push_s += time.perf_counter() - start
        for m, r in zip(mutations, results["results"], strict=True):
            statuses[r["status"]] = statuses.get(r["status"], 0) + 1
            if m["table"] == "customers":
                tags[m["record_id"]] = (tags[m["record_id"]][0], r["version"])
    print(f"push {TOTAL} mutations in batches of {BATCH} ({describe(database_url, 1)}):"
          f" {push_s:.2f} s,"
          f" {TOTAL / push_s:,.0f} mutations/s  {statuses}")
    server.terminate()
    server.wait()
    base_s = baseline(tmp / "baseline.sqlite3", batches, tags)
    print(f"baseline: plain sqlite3 executemany of the same writes: {base_s:.2f} s"
          f" -> the server takes {push_s / base_s:.1f}x")


def baseline(path: Path, batches: list[list[dict[str, Any]]],
             tags: dict[str, tuple[str, int]]) -> float:
    """The same rows written bare: per batch, its inserts, its updates and one change-log
    row per mutation, each with one ``executemany``, committed."""
    base = sqlite3.connect(path)
    base.execute("CREATE TABLE customers (id TEXT PRIMARY KEY, tags TEXT, version INT)")
    base.execute("CREATE TABLE interactions (id TEXT PRIMARY KEY, job_id, customer_id, kind,"
                 " text, at)")
    base.execute("CREATE TABLE changes (seq INTEGER PRIMARY KEY, tbl, record_id, fields)")
    base.executemany("INSERT INTO customers VALUES (?, '[]', 1)", [(c,) for c in tags])
    base.commit()
    start = time.perf_counter()
    for mutations in batches:
        inserts = [m for m in mutations if m["op"] == "insert"]
        updates = [m for m in mutations if m["op"] == "update"]
        base.executemany("INSERT INTO interactions VALUES (?, ?, ?, ?, ?, ?)",
                         [(m["record_id"], *(m["fields"][c] for c in
                                             ("job_id", "customer_id", "kind", "text", "at")))
                          for m in inserts])
        base.executemany("UPDATE customers SET tags = ?, version = version + 1 WHERE id = ?",
                         [(m["fields"]["tags"], m["record_id"]) for m in updates])
        base.executemany("INSERT INTO changes(tbl, record_id, fields) VALUES (?, ?, ?)",
                         [(m["table"], m["record_id"], json.dumps(m["fields"]))
                          for m in mutations])
        base.commit()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
