"""Demo-data generation, server seeding and a technician's first full pull, timed.

Run by hand: ``PYTHONPATH=. .venv/bin/python bench/bench_demo_and_sync.py``.
Prints seconds per step; the first pull is compared with a plain local copy of the same
rows (the baseline: what the pull costs beyond writing rows into SQLite).
"""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from pathlib import Path

import uvicorn

from fieldapp.demo.generate import generate
from fieldapp.replica import Replica
from fieldapp.sync.apply import apply_changes
from fieldapp.sync.client import SyncClient
from fieldapp.wire import RecordChange
from sync_server.app import create_app
from sync_server.config import Settings
from sync_server.seed import seed_demo


def timed(label: str, fn):
    start = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - start
    print(f"{label:<40} {elapsed:8.3f} s")
    return result, elapsed


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    timed("generate demo data (seed 20261124)", generate)
    app = create_app(Settings(data_dir=tmp / "server"))
    timed("seed server (users + 100k records)", lambda: seed_demo(app.state.server.db))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    replica = Replica.open(tmp / "tablet")
    client = SyncClient(replica, f"http://127.0.0.1:{port}")
    client.login("tech01", "fieldapp")
    report, pull_s = timed("tech01 first sync (login excluded)", client.sync)
    print(f"{'records pulled':<40} {report.pulled:8d}")
    rows = [(t, dict(r)) for t in ("customers", "meters", "readings", "payments", "jobs")
            for r in replica.db.query(f"SELECT * FROM {t}")]
    copy = Replica.open(tmp / "baseline")
    changes = [RecordChange(table=t, record_id=r.pop("id"), version=r.pop("version"), row=r)
               for t, r in rows]
    _, base_s = timed("baseline: apply same rows locally", lambda: apply_changes(copy, changes))
    print(f"{'ratio sync / local apply':<40} {pull_s / base_s:8.1f} x")
    server.should_exit = True


if __name__ == "__main__":
    main()
