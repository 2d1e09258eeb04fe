"""Two server processes sharing one storage give the results of one server.

Run on PostgreSQL (FIELDAPP_TEST_PG) this is the deployment of several servers behind a load
balancer, or one server with several worker processes; on SQLite, two processes on one
machine sharing the file. Every batch is pushed
through both servers at the same moment, so each is a lost-answer retry racing its original.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from fieldapp.ids import new_id
from fieldapp.local_time import now_iso
from tests.conftest import ServerProcess
from tests.server.test_sync_api import hazard, login, mutation, push, version

PADS = ["pad-1", "pad-2", "pad-3", "pad-4"]
JOBS = [("job-1", "cust-1"), ("job-2", "cust-2")]
READINGS_PER_PAD = 5


def hlc(counter: int, device: str) -> str:
    return f"{int(time.time() * 1000):018d}:{counter:05d}:{device}"


def workload(server: ServerProcess) -> list[tuple[str, str, dict[str, str], list[dict]]]:
    """(batch id, device, headers, mutations): the same hazards' status changed on every
    device from the same base, each pad's readings, and two stale views of job-1's status."""
    first = login(server, "tech01", PADS[0])
    hazards = [hazard(server, first, PADS[0], job, customer) for job, customer in JOBS]
    base = {h: version(server, "hazards", h) for h in hazards}
    job_base = version(server, "jobs", "job-1")
    batches = []
    for n, device in enumerate(PADS):
        user = "tech01"
        headers = login(server, user, device)
        muts = [mutation("hazards", h, {"status": f"checked-{n}-{i}"}, {"status": "open"},
                         base_version=base[h], hlc=hlc(10 * n + i, device))
                for i, h in enumerate(hazards)]
        if user == "tech01":
            muts += [mutation("readings", new_id(), {
                "customer_id": "cust-1", "meter_id": "meter-1", "read_at": now_iso(),
                "value": 1300.0 + 10 * n + i, "source": device}, op="insert")
                for i in range(READINGS_PER_PAD)]
        if device in ("pad-1", "pad-2"):
            target = "accepted" if device == "pad-1" else "in_service"
            muts.append(mutation("jobs", "job-1", {"status": target}, {"status": "dispatched"},
                                 base_version=job_base, hlc=hlc(10 * n + 9, device)))
        batches.append((new_id(), device, headers, muts))
    return batches


def pull_all(server: ServerProcess, headers: dict[str, str], cursor: int) -> tuple[list, int]:
    changes, more = [], True
    while more:
        page = requests.get(server.url + "/api/v1/sync/pull", headers=headers, timeout=30,
                            params={"cursor": cursor}).json()
        changes += page["changes"]
        cursor, more = page["cursor"], page["more"]
    return changes, cursor


def watch(servers: list[ServerProcess], headers: dict[str, str],
          done: threading.Event) -> dict[tuple[str, str], int]:
    """Pull by cursor, alternating servers, while the pushes run; then once more after."""
    seen: dict[tuple[str, str], int] = {}
    cursor, n = 0, 0
    while True:
        last = done.is_set()
        changes, cursor = pull_all(servers[n % 2], headers, cursor)
        seen |= {(c["table"], c["record_id"]): c["version"] for c in changes}
        n += 1
        if last:
            return seen


@pytest.mark.parametrize("layout", ["two servers", "one server, two workers"])
def test_two_servers_on_one_storage_apply_every_mutation_once(server: ServerProcess,
                                                              layout: str):
    if layout == "two servers":
        other = ServerProcess(server.data_dir, database_url=server.database_url).start()
        servers = [server, other]
    else:  # uvicorn's worker processes behind one port
        server.stop()
        other = ServerProcess(server.data_dir, database_url=server.database_url,
                              workers=2).start()
        servers = [other, other]
    server = servers[0]
    try:
        batches = workload(server)
        watcher = login(other, "dispatcher", "office-watch")
        gate = threading.Barrier(2 * len(batches) + 1)
        done = threading.Event()

        def at_once(call: Callable[[], Any]) -> Any:
            gate.wait()
            return call()

        with ThreadPoolExecutor(2 * len(batches) + 1) as pool:
            watching = pool.submit(at_once, lambda: watch(servers, watcher, done))
            answers = [[pool.submit(at_once, lambda s=s, b=b: push(s, b[2], b[1], b[3], b[0]))
                        for s in servers] for b in batches]
            answers = [[f.result() for f in pair] for pair in answers]
            done.set()
            seen = watching.result()

        mutations = {m["mutation_id"]: m for _, _, _, muts in batches for m in muts}
        results = {}
        for pair in answers:
            assert [a.status_code for a in pair] == [200, 200], [a.text for a in pair]
            first, again = sorted((a.json() for a in pair), key=lambda a: a["replayed"])
            assert (first["replayed"], again["replayed"]) == (False, True)  # one applied it
            assert first["results"] == again["results"]
            results |= {r["mutation_id"]: r for r in first["results"]}
        assert set(results) == set(mutations)

        # Every mutation applied once: one stored result each, one change for what it changed.
        assert server.scalar("SELECT count(*) FROM mutation_results") == len(mutations) + len(
            JOBS)  # and the hazards' inserts, before
        logged = {r["mutation_id"]: r["n"] for r in server.query(
            "SELECT mutation_id, count(*) AS n FROM changes WHERE mutation_id IS NOT NULL"
            " GROUP BY mutation_id")}
        for mutation_id, result in results.items():
            m = mutations[mutation_id]
            changed = result["status"] in ("applied", "merged") or (
                result["status"] == "conflict" and result["kept"] == m["fields"])
            assert logged.get(mutation_id, 0) == int(changed), result
        readings = [m for m in mutations.values() if m["table"] == "readings"]
        assert server.scalar("SELECT count(*) FROM readings WHERE source LIKE 'pad-%'") == len(
            readings) == len(PADS) * READINGS_PER_PAD

        # Last writer by HLC wins whatever the arrival order; every loser is kept once.
        for hazard_id in {m["record_id"] for m in mutations.values() if m["table"] == "hazards"}:
            edits = [m for m in mutations.values() if m["record_id"] == hazard_id]
            winner = max(edits, key=lambda m: m["hlc"])["fields"]["status"]
            assert server.scalar("SELECT status FROM hazards WHERE id = ?",
                                 [hazard_id]) == winner
            preserved = [json.loads(r["preserved"]) for r in server.query(
                "SELECT preserved FROM conflicts WHERE record_id = ? AND field = 'status'",
                [hazard_id])]
            assert sorted(preserved) == sorted(m["fields"]["status"] for m in edits
                                               if m["fields"]["status"] != winner)

        # The status moves forward only; the stale "accepted" is applied first or kept.
        assert server.scalar("SELECT status FROM jobs WHERE id = 'job-1'") == "in_service"
        statuses = [json.loads(r["fields"]).get("status") for r in server.query(
            "SELECT fields FROM changes WHERE record_id = 'job-1' AND mutation_id IS NOT NULL")]
        kept = [json.loads(r["preserved"]) for r in server.query(
            "SELECT preserved FROM conflicts WHERE record_id = 'job-1'")]
        assert sorted(s for s in statuses + kept if s) == ["accepted", "in_service"]

        # The change log numbers commits without gaps, and no two batches interleave.
        log = server.query("SELECT seq, batch_id FROM changes ORDER BY seq")
        assert [r["seq"] for r in log] == list(range(1, len(log) + 1))
        for batch_id, *_ in batches:
            seqs = [r["seq"] for r in log if r["batch_id"] == batch_id]
            assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), batch_id

        # A device pulling by cursor during the pushes missed nothing: had a number become
        # visible after a higher one, the reading written under it would be missing here.
        records = {(r["tbl"], r["record_id"]): r["seq"] for r in server.query(
            "SELECT tbl, record_id, max(seq) AS seq FROM changes WHERE op != 'resend'"
            " GROUP BY tbl, record_id")}  # a resend sends the row again, at its version
        assert seen == records

        # And both servers answer a pull alike.
        office = login(server, "dispatcher", "office-2")
        assert pull_all(server, office, 0) == pull_all(other, office, 0)
    finally:
        other.stop()
