"""Writes racing against provisioning from the snapshot: whatever the office changes while
a tablet's snapshot is taken, sent and loaded, the tablet's first cursor pull brings the
rest, and it ends with exactly the server's records of its scope (none missed, none stale,
none left over from a customer that left the scope)."""

from __future__ import annotations

import threading
from pathlib import Path

from fieldapp.ids import new_id
from fieldapp.records import TABLES
from fieldapp.replica import Replica
from fieldapp.sync import provision
from fieldapp.sync.client import SyncClient
from tests.conftest import ServerProcess
from tests.server.test_sync_api import mutation, office_push
from tests.sync.test_faults import FlakyTransport
from tests.world import PASSWORD

TABLETS = 4


def office_writes(server: ServerProcess, stop: threading.Event, done: list[int]) -> None:
    """Phone changes, new readings and job-2 moving between the technicians, until told."""
    n = 0
    while not stop.is_set():
        n += 1
        customer = f"cust-{n % 2 + 1}"
        row = server.query("SELECT phone, version FROM customers WHERE id = ?", [customer])[0]
        job = server.query("SELECT assignee, version FROM jobs WHERE id = 'job-2'")[0]
        # A new reading is never changed again: one the tablet missed would stay missed.
        [added] = office_push(server, "admin", [mutation(
            "readings", new_id(), {"customer_id": customer, "read_at": "2026-11-24",
                                   "meter_id": customer.replace("cust", "meter"),
                                   "value": float(n), "source": "office"}, op="insert")])
        assert added["status"] == "applied", added
        office_push(server, "dispatcher", [
            mutation("customers", customer, {"phone": f"139{n:08d}"}, {"phone": row["phone"]},
                     base_version=row["version"]),
            *([mutation("jobs", "job-2", {"assignee": "tech02" if job["assignee"] == "tech01"
                                          else "tech01"}, {"assignee": job["assignee"]},
                        base_version=job["version"])] if n % 3 == 0 else [])])
        done.append(n)


def assert_holds_the_servers_scope(server: ServerProcess, replica: Replica) -> None:
    scope = {r["customer_id"] for r in server.query(
        "SELECT DISTINCT customer_id FROM jobs WHERE assignee = 'tech01'")}
    for table, spec in TABLES.items():
        cols = ["id", *spec.columns, "version"]
        want = {r["id"]: r for r in server.query(f"SELECT {', '.join(cols)} FROM {table}"
                                                 + (" WHERE customer_id IN (SELECT customer_id"
                                                    " FROM jobs WHERE assignee = 'tech01')"
                                                    if spec.scoped else ""))}
        have = {r["id"]: r for r in replica.db.query(f"SELECT {', '.join(cols)} FROM [{table}]")}
        assert have == want, (table, scope)


def test_office_writes_during_provisioning_are_neither_missed_nor_stale(
        server: ServerProcess, tmp_path: Path, monkeypatch):
    monkeypatch.setenv(provision.FIRST_SYNC_ENV, "snapshot")
    stop, done = threading.Event(), []
    writer = threading.Thread(target=office_writes, args=(server, stop, done))
    tablets = []
    writer.start()
    try:
        for i in range(TABLETS):
            replica = Replica.open(tmp_path / f"tablet-{i}")
            client = SyncClient(replica, server.url,
                                transport=FlakyTransport(lambda *a, **k: False))
            client.login("tech01", PASSWORD)
            client.sync()
            assert "/sync/snapshot" in [path for _, path, _ in client.transport.sent]
            tablets.append((replica, client))
    finally:
        stop.set()
        writer.join()
    assert len(done) >= TABLETS  # the writes did overlap the provisioning
    for replica, client in tablets:
        client.sync()  # the cursor pull after the snapshot's brings what came since
        assert replica.outbox.counts()["pending"] == 0
        assert_holds_the_servers_scope(server, replica)
