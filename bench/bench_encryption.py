"""What encrypting the replica (SQLCipher, AES-256 per page with an HMAC) costs the tablet.

The same work on the same data, once on a plain SQLite file and once encrypted, in this
process: provisioning the demo's 2,000 customers with their history, opening the replica,
today's job list, customer 360 views, knowledge-base searches, and single writes each in its
own durable transaction (what a technician's taps are); then reading stored photos back
(decrypted with AES-GCM when encrypted).

Run by hand: ``PYTHONPATH=. .venv/bin/python bench/bench_encryption.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from fieldapp.demo.generate import generate
from fieldapp.records import TABLES
from fieldapp.replica import Replica, store
from fieldapp.sync.apply import apply_changes
from fieldapp.wire import RecordChange

KEY = bytes(range(32))
VIEWS, SEARCHES, WRITES = 300, 200, 300
# Photos as the tablet stores them: 1920 px JPEGs of about 400 KB.
PHOTOS = [os.urandom(400_000) for _ in range(30)]
WORDS = ["漏气", "燃气表", "报警器", "胶管", "点火", "阀门", "压力", "熄火保护"]


def open_replica(data_dir: Path, encrypted: bool) -> Replica:
    key = KEY if encrypted else None
    return Replica(store.open_db(data_dir / store.DB_FILE, key), data_dir, key)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run(encrypted: bool, rows: dict[str, list[dict]]) -> dict[str, float]:
    data = Path(tempfile.mkdtemp())
    changes = [RecordChange(table=t, record_id=r["id"], version=1,
                            row={c: r.get(c) for c in TABLES[t].columns})
               for t, rs in rows.items() if t in TABLES for r in rs]
    out: dict[str, float] = {}
    replica = open_replica(data, encrypted)
    out["provision"] = timed(lambda: apply_changes(replica, changes))
    replica.set_state("session", json.dumps({"username": "tech01", "display_name": "王建国",
                                             "role": "technician"}))
    replica.close()
    start = time.perf_counter()
    replica = open_replica(data, encrypted)
    replica.jobs.today()
    out["open + today's list"] = time.perf_counter() - start
    customers = [c["id"] for c in rows["customers"][:VIEWS]]
    out[f"{VIEWS} customer 360 views"] = timed(
        lambda: [replica.customers.view360(c) for c in customers])
    out[f"{SEARCHES} KB searches"] = timed(
        lambda: [replica.kb.search(WORDS[i % len(WORDS)]) for i in range(SEARCHES)])
    out[f"{WRITES} single durable writes"] = timed(
        lambda: [replica.set_state("bench", str(i)) for i in range(WRITES)])
    shas = [replica.evidence._store_blob(photo, "image/jpeg") for photo in PHOTOS]
    out[f"read {len(PHOTOS)} photos x10"] = timed(
        lambda: [replica.evidence.read_blob(sha) for _ in range(10) for sha in shas])
    out["size MB"] = (data / store.DB_FILE).stat().st_size / 1e6
    replica.close()
    shutil.rmtree(data)
    return out


def main() -> None:
    rows = generate().rows
    records = sum(len(rs) for t, rs in rows.items() if t in TABLES)
    run(False, rows)  # warm the page cache and imports once before measuring
    plain, encrypted = run(False, rows), run(True, rows)
    print(f"replica: {records:,} records of the demo data")
    print(f"{'':34}{'plain':>10}{'encrypted':>12}{'ratio':>8}")
    for name in plain:
        unit = "" if name == "size MB" else " s"
        print(f"{name:34}{plain[name]:>8.3f}{unit:2}{encrypted[name]:>10.3f}{unit:2}"
              f"{encrypted[name] / plain[name]:>7.2f}x")


if __name__ == "__main__":
    main()
