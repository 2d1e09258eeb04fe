"""Start the tablet app on a full replica: 2,000 customers (24 months of readings each) and
500 of today's jobs for the signed-in technician. Target: under 2 s from a new process to an
interactive job list.

Run by hand: ``PYTHONPATH=. .venv/bin/python bench/bench_startup.py`` (offscreen Qt).
Baseline in the same run: a new process that only starts Qt and shows an empty window (the
floor of starting any Qt application on this machine). Each figure is the median of 3.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from fieldapp.demo.generate import generate
from fieldapp.local_time import LOCAL_ZONE
from fieldapp.records import TABLES
from fieldapp.replica import Replica
from fieldapp.sync.apply import apply_changes
from fieldapp.wire import RecordChange

ROOT = Path(__file__).resolve().parents[1]
JOBS, RUNS = 500, 3

APP = """
import sys, time
start = time.perf_counter()
from PySide6.QtWidgets import QApplication
from fieldapp.ui.app import build_main_window
app = QApplication([])
window = build_main_window(sys.argv[1])
window.show()
while window.today.model.rowCount() < int(sys.argv[2]):
    app.processEvents()
app.processEvents()
print(time.perf_counter() - start)
window.shutdown()
"""

FLOOR = """
import time
start = time.perf_counter()
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
w = QWidget()
w.show()
app.processEvents()
print(time.perf_counter() - start)
"""


def build_replica(data_dir: Path) -> int:
    """The demo's customers with their history, and 500 jobs due today for tech01."""
    rows = generate().rows
    today = datetime.now(LOCAL_ZONE).replace(hour=8, minute=0, second=0, microsecond=0)
    template = next(j for j in rows["jobs"] if j["assignee"] == "tech01")
    jobs = [{**template, "id": f"bench-job-{i}", "number": f"BJ{i:06d}",
             "customer_id": c["id"], "district": c["district"], "status": "dispatched",
             "due_at": (today + timedelta(minutes=i)).isoformat(), "route_order": i + 1}
            for i, c in enumerate(rows["customers"][:JOBS])]
    tables = {t: rows[t] for t in ("customers", "meters", "readings", "contracts", "payments",
                                   "kb_articles")}
    tables["jobs"] = jobs
    replica = Replica.open(data_dir)
    changes = [RecordChange(table=t, record_id=r["id"], version=1,
                            row={c: r.get(c) for c in TABLES[t].columns})
               for t, rs in tables.items() for r in rs]
    apply_changes(replica, changes)
    replica.set_state("session", json.dumps({"username": "tech01", "display_name": "王建国",
                                             "role": "technician", "district": "秦淮区"}))
    replica.close()
    return len(changes)


def timed(script: str, *args: str) -> float:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    runs = [float(subprocess.run([sys.executable, "-c", script, *args], env=env, check=True,
                                 capture_output=True, text=True).stdout.strip().splitlines()[-1])
            for _ in range(RUNS)]
    return statistics.median(runs)


def main() -> None:
    data = Path(tempfile.mkdtemp()) / "tablet"
    records = build_replica(data)
    size_mb = (data / "replica.sqlite3").stat().st_size / 1e6
    floor = timed(FLOOR)
    start = timed(APP, str(data), str(JOBS))
    print(f"replica: {records:,} records, {size_mb:.1f} MB; {JOBS} jobs today")
    print(f"start to an interactive list of {JOBS} jobs: {start:.2f} s (target < 2 s)")
    print(f"baseline: Qt alone showing an empty window: {floor:.2f} s"
          f" -> the app takes {start / floor:.1f}x")


if __name__ == "__main__":
    main()
