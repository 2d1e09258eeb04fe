"""The morning hour: 300 tablets sync at once, each pushing 50 mutations and pulling.

Run by hand: ``PYTHONPATH=. .venv/bin/python bench/bench_fleet.py [tablets] [in_flight]``,
add ``--pg --server-workers 2`` for PostgreSQL behind two worker processes (SQLite and one
process by default), or ``--scaling 3`` for PostgreSQL with 1 and 2 workers in turn, three
runs each, and the ratio of their medians (one run varies by ±20 % on a 2-core machine).
Tablets are threads talking HTTP. Logins happen before the clock starts (argon2 is meant to
be slow), and so does each tablet's first, full pull. Prints errors, p50/p99 of one
tablet's whole sync and throughput, the CPU the server, PostgreSQL and this load generator
used meanwhile, and a baseline: one tablet syncing alone in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cpu_use
import requests
from benchserver import describe, start_server, storage

from fieldapp.ids import new_id
from fieldapp.local_time import now_iso
from fieldapp.wire import PROTOCOL_VERSION
from sync_server.seed import seed_demo
from sync_server.storage.db import open_database

ROOT = Path(__file__).resolve().parents[1]
MUTATIONS = 50


class Tablet:
    def __init__(self, url: str, username: str, n: int, customers: list[str]) -> None:
        self.url, self.device = url, f"bench-{n}"
        self.session = requests.Session()
        token = self.session.post(url + "/api/v1/auth/login", json={
            "username": username, "password": "fieldapp", "device_id": self.device},
            timeout=60).json()["token"]
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.cursor, self.customers, self.username = 0, customers, username

    def pull(self) -> None:
        more = True
        while more:
            page = self.session.get(self.url + "/api/v1/sync/pull", timeout=120,
                                    params={"cursor": self.cursor, "limit": 1000})
            page.raise_for_status()
            body = page.json()
            self.cursor, more = body["cursor"], body["more"]

    def sync(self) -> tuple[float, str | None]:
        start = time.perf_counter()
        try:
            mutations = [{
                "mutation_id": new_id(), "table": "scans", "record_id": new_id(),
                "op": "insert", "hlc": f"{int(time.time() * 1000):018d}:{i:05d}:{self.device}",
                "at": now_iso(), "base_version": 0, "old": {},
                "fields": {"customer_id": self.customers[i % len(self.customers)],
                           "code": f"GM{i:010d}", "symbology": "CODE128", "source": "camera",
                           "scanned_at": now_iso(), "by_user": self.username,
                           "device_id": self.device}} for i in range(MUTATIONS)]
            resp = self.session.post(self.url + "/api/v1/sync/push", timeout=120, json={
                "protocol": PROTOCOL_VERSION, "schema_version": 1, "device_id": self.device,
                "batch_id": new_id(), "mutations": mutations})
            resp.raise_for_status()
            bad = [r for r in resp.json()["results"] if r["status"] != "applied"]
            if bad:
                return time.perf_counter() - start, f"not applied: {bad[0]}"
            self.pull()
            return time.perf_counter() - start, None
        except requests.RequestException as exc:
            return time.perf_counter() - start, repr(exc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("tablets", type=int, nargs="?", default=300)
    parser.add_argument("in_flight", type=int, nargs="?", default=64,
                        help="tablets syncing at the same moment")
    parser.add_argument("--pg", action="store_true", help="on a throwaway PostgreSQL cluster")
    parser.add_argument("--server-workers", type=int, default=1)
    parser.add_argument("--scaling", type=int, metavar="RUNS", default=0,
                        help="PostgreSQL, 1 and 2 workers in turn, RUNS runs each")
    args = parser.parse_args()
    if args.scaling:
        scaling(args.tablets, args.in_flight, args.scaling)
        return
    one(args.tablets, args.in_flight, args.pg, args.server_workers)


def one(tablets_n: int, in_flight: int, pg: bool, server_workers: int) -> float:
    """One run on fresh storage; its mutations a second."""
    tmp = Path(tempfile.mkdtemp())
    with storage(tmp / "server", pg) as database_url:
        return run(tmp, database_url, tablets_n, in_flight, server_workers)


def scaling(tablets_n: int, in_flight: int, runs: int) -> None:
    """1 and 2 workers on PostgreSQL, alternately (so that the machine's drift falls on
    both), and the ratio of the medians."""
    rates: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(runs):
        for workers in rates:
            rates[workers].append(one(tablets_n, in_flight, True, workers))
    one_w, two_w = (statistics.median(rates[w]) for w in (1, 2))
    print(f"median of {runs} runs each: 1 worker {one_w:,.0f} mutations/s"
          f" ({', '.join(f'{r:,.0f}' for r in rates[1])}), 2 workers {two_w:,.0f}"
          f" ({', '.join(f'{r:,.0f}' for r in rates[2])}): 2 workers do"
          f" {two_w / one_w:.2f}x the work of 1")


def run(tmp: Path, database_url: str | None, tablets_n: int, in_flight: int,
        server_workers: int) -> float:
    db = open_database(tmp / "server", database_url)
    seed_demo(db)
    with db.read() as conn:
        techs = [r[0] for r in conn.execute(
            "SELECT username FROM users WHERE role = 'technician' ORDER BY username")]
        scope = {t: [r[0] for r in conn.execute(
            "SELECT DISTINCT customer_id FROM jobs WHERE assignee = ?", [t])] for t in techs}
    db.close()
    proc, url = start_server(tmp / "server", database_url, server_workers)
    try:
        with ThreadPoolExecutor(16) as pool:  # logins, untimed
            tablets = list(pool.map(lambda n: Tablet(url, techs[n % len(techs)], n,
                                                     scope[techs[n % len(techs)]]),
                                    range(tablets_n + 1)))
            # Each tablet already holds its replica (provisioning is bench_provision's).
            list(pool.map(Tablet.pull, tablets))
        alone, error = tablets[-1].sync()
        assert error is None, error
        before = cpu_use.sample(proc.pid)
        start = time.perf_counter()
        with ThreadPoolExecutor(in_flight) as pool:
            results = list(pool.map(Tablet.sync, tablets[:-1]))
        wall = time.perf_counter() - start
        cpu = cpu_use.describe(before, cpu_use.sample(proc.pid), wall)
    finally:
        proc.terminate()
        proc.wait()
    times = sorted(t for t, _ in results)
    errors = [e for _, e in results if e]
    p50 = statistics.median(times)
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    print(f"{tablets_n} tablets x ({MUTATIONS} mutations + pull), {in_flight} at a time,"
          f" {describe(database_url, server_workers)}")
    print(f"  errors: {len(errors)}" + (f"  first: {errors[0]}" if errors else ""))
    rate = tablets_n * MUTATIONS / wall
    print(f"  wall {wall:.1f} s, {rate:,.0f} mutations/s")
    print(f"  one tablet's sync: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms;"
          f" alone {alone * 1000:.0f} ms (p50 is {p50 / alone:.1f}x alone)")
    print(f"  {cpu}")
    return rate


if __name__ == "__main__":
    main()
