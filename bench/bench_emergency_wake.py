"""An emergency reaches an online tablet: 300 technicians' tablets hold a long poll
(GET /api/v1/sync/wait) open; the dispatcher sends emergencies one by one to random
technicians. Measures dispatch → the tablet's pull bringing the job (p50/p95), how many
tablets each dispatch woke, and the server's cost of holding 300 idle waits.

Run by hand: ``PYTHONPATH=. .venv/bin/python bench/bench_emergency_wake.py [tablets]``
(SQLite, one server process; ``--pg`` for PostgreSQL). Baselines in the same run: the
server idle with no tablet connected, and the design without a long poll that would be
needed for the same latency: every tablet pulling every 5 s (the timed pull itself comes
every 15 minutes, 7.5 min late on average).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import cpu_use
import requests
from benchserver import describe, start_server, storage

from fieldapp.local_time import now_iso
from sync_server.seed import seed_demo
from sync_server.services import auth
from sync_server.services.records import insert_records
from sync_server.storage.db import open_database

PASSWORD = "fieldapp"
DISPATCHES = 20
IDLE_S = 20.0
SHORT_POLL_S = 5.0


class Tablet:
    def __init__(self, url: str, username: str) -> None:
        self.url, self.username = url, username
        self.session = requests.Session()
        token = self.session.post(url + "/api/v1/auth/login", timeout=120, json={
            "username": username, "password": PASSWORD,
            "device_id": f"bench-{username}"}).json()["token"]
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.cursor = 0
        self.seen: dict[str, float] = {}  # job id -> when a pull brought it
        self.wakes = 0
        self.customer = ""  # the customer of its one job
        self.errors = 0  # short polls the server did not answer

    def pull(self) -> None:
        more = True
        while more:
            body = self.session.get(self.url + "/api/v1/sync/pull", timeout=120, params={
                "cursor": self.cursor, "limit": 1000}).json()
            now = time.monotonic()
            for change in body["changes"]:
                if change["table"] == "jobs":
                    self.seen.setdefault(change["record_id"], now)
            self.cursor, more = body["cursor"], body["more"]

    def listen(self, stop: threading.Event) -> None:
        while not stop.is_set():
            body = self.session.get(self.url + "/api/v1/sync/wait", timeout=60, params={
                "cursor": self.cursor, "hold": 25}).json()
            if body.get("wake") and not stop.is_set():
                self.wakes += 1
                self.pull()

    def short_poll(self, stop: threading.Event) -> None:
        time.sleep(random.uniform(0, SHORT_POLL_S))  # tablets are not in step
        while not stop.wait(SHORT_POLL_S):
            try:
                self.pull()
            except requests.RequestException:
                self.errors += 1  # the server shed the connection: counted, not fatal


def cpu_and_rss(pid: int) -> tuple[float, int]:
    """The process's CPU seconds so far and its resident memory (bytes)."""
    rss_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return cpu_use.stat(pid)[2], rss_pages * 4096


def idle_cost(pid: int, seconds: float) -> tuple[float, int]:
    """CPU share (percent of one core) over ``seconds`` and RSS at the end."""
    cpu0, _ = cpu_and_rss(pid)
    time.sleep(seconds)
    cpu1, rss = cpu_and_rss(pid)
    return (cpu1 - cpu0) / seconds * 100, rss


def seed(data: Path, database_url: str | None, tablets: int) -> list[str]:
    """The demo, plus ``tablets`` technicians with one customer and one job each."""
    db = open_database(data, database_url)
    seed_demo(db)
    names = [f"wake{n:03d}" for n in range(1, tablets + 1)]
    with db.write() as conn:
        customers = [r[0] for r in conn.execute(
            "SELECT id FROM customers WHERE id NOT IN (SELECT customer_id FROM jobs)"
            " ORDER BY id LIMIT ?", [tablets])]
        for name in names:
            auth.add_user(conn, name, name, "technician", PASSWORD, None, ["repair"])
        insert_records(conn, "jobs", [{
            "id": f"job-{name}", "number": f"BW{n:06d}", "kind": "repair", "priority": 3,
            "customer_id": customer, "district": None, "due_at": now_iso(),
            "assignee": name, "required_skill": "repair", "status": "dispatched",
            "route_order": 1, "summary": "例行维修", "created_at": now_iso()}
            for n, (name, customer) in enumerate(zip(names, customers, strict=True))])
    db.close()
    return names


def dispatch(url: str, office: dict[str, str], tablet: Tablet) -> tuple[str, float]:
    """A new emergency at the tablet's customer, assigned to it; when the assignment was
    answered."""
    resp = requests.post(url + "/api/v1/office/jobs", headers=office, timeout=30, json={
        "kind": "repair", "customer": tablet.customer, "priority": 1,
        "due_at": now_iso(), "summary": "燃气泄漏报警"})
    resp.raise_for_status()
    job_id: str = resp.json()["id"]
    resp = requests.post(url + f"/api/v1/office/jobs/{job_id}/assign", headers=office,
                         timeout=30, json={"username": tablet.username})
    resp.raise_for_status()
    return job_id, time.monotonic()


def run(tmp: Path, database_url: str | None, tablets_n: int) -> None:
    names = seed(tmp / "server", database_url, tablets_n)
    proc, url = start_server(tmp / "server", database_url)
    stop = threading.Event()
    try:
        idle_cpu, idle_rss = idle_cost(proc.pid, IDLE_S)
        with ThreadPoolExecutor(16) as pool:  # logins and first pulls, untimed
            tablets = list(pool.map(lambda name: Tablet(url, name), names))
            list(pool.map(Tablet.pull, tablets))
        office = {"Authorization": "Bearer " + requests.post(
            url + "/api/v1/auth/login", timeout=60, json={
                "username": "dispatcher", "password": PASSWORD,
                "device_id": "bench-desk"}).json()["token"]}
        customers = _customers(tmp, database_url, names)
        for tablet in tablets:
            tablet.customer = customers[tablet.username]

        threads = [threading.Thread(target=t.listen, args=(stop,), daemon=True)
                   for t in tablets]
        for thread in threads:
            thread.start()
        time.sleep(3)  # every wait held
        wait_cpu, wait_rss = idle_cost(proc.pid, IDLE_S)

        latencies, woken = [], []
        for target in random.Random(7).sample(tablets, DISPATCHES):
            before = sum(t.wakes for t in tablets)
            job_id, sent = dispatch(url, office, target)
            deadline = time.monotonic() + 30
            while job_id not in target.seen and time.monotonic() < deadline:
                time.sleep(0.01)
            latencies.append(target.seen.get(job_id, float("inf")) - sent)
            time.sleep(1.5)  # let every woken tablet finish its pull
            woken.append(sum(t.wakes for t in tablets) - before)
        stop.set()
        _release(tablets)
        for thread in threads:
            thread.join(40)

        poll_stop = threading.Event()
        pollers = [threading.Thread(target=t.short_poll, args=(poll_stop,), daemon=True)
                   for t in tablets]
        for thread in pollers:
            thread.start()
        time.sleep(SHORT_POLL_S)
        poll_cpu, poll_rss = idle_cost(proc.pid, IDLE_S)
        poll_stop.set()
        for thread in pollers:
            thread.join(30)
    finally:
        stop.set()
        proc.terminate()
        proc.wait()
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))]
    print(f"{tablets_n} tablets holding a wait, {DISPATCHES} emergencies, "
          f"{describe(database_url, 1)}")
    print(f"  dispatch -> tablet's pull has the job: p50 {statistics.median(latencies):.2f} s,"
          f" p95 {p95:.2f} s, max {latencies[-1]:.2f} s")
    print(f"  tablets woken per dispatch: median {statistics.median(woken):.0f}"
          f" (the technician's own, plus any sharing the customer)")
    print(f"  server idle, no tablet: {idle_cpu:.1f}% of a core, RSS {idle_rss / 2**20:.0f} MiB")
    print(f"  {tablets_n} held waits:     {wait_cpu:.1f}% of a core, RSS"
          f" {wait_rss / 2**20:.0f} MiB (+{(wait_rss - idle_rss) / 2**20:.0f} MiB)")
    print(f"  baseline, every tablet pulling every {SHORT_POLL_S:.0f} s: {poll_cpu:.1f}% of a"
          f" core, RSS {poll_rss / 2**20:.0f} MiB"
          f" ({poll_cpu / max(wait_cpu, 0.1):.1f}x the held waits' CPU),"
          f" {sum(t.errors for t in tablets)} polls refused")


def _customers(tmp: Path, database_url: str | None, names: list[str]) -> dict[str, Any]:
    db = open_database(tmp / "server", database_url)
    try:
        with db.read() as conn:
            return {name: conn.execute("SELECT customer_id FROM jobs WHERE id = ?",
                                       [f"job-{name}"]).fetchone()[0] for name in names}
    finally:
        db.close()


def _release(tablets: list[Tablet]) -> None:
    """End the held waits now: a short wait of each device answers its long one."""
    with ThreadPoolExecutor(32) as pool:
        list(pool.map(lambda t: requests.get(
            t.url + "/api/v1/sync/wait", headers=dict(t.session.headers), timeout=30,
            params={"cursor": 10 ** 12, "hold": 1}), tablets))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("tablets", type=int, nargs="?", default=300)
    parser.add_argument("--pg", action="store_true", help="on a throwaway PostgreSQL cluster")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    with storage(tmp / "server", args.pg) as database_url:
        run(tmp, database_url, args.tablets)


if __name__ == "__main__":
    main()
