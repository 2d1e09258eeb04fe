"""Twenty tablets pushing and pulling at once, for FLEET_SECONDS, while the office
reassigns the shared customers' jobs between them: at the end each tablet holds exactly
the server's state for its scope, and every acknowledged value is applied or kept."""

from __future__ import annotations

import os
import random
import threading
import time
from typing import Any

import requests

from fieldapp.records import TABLES
from tests.blackbox import door
from tests.blackbox.door import FLEET, SHARED, Device, note_on, shared_techs
from tests.conftest import ServerProcess

FLEET_SECONDS = float(os.environ.get("FIELDAPP_FLEET_SECONDS", "30"))


class Tablet:
    """One device's loop: capture, push (resending a batch until it is answered), pull."""

    def __init__(self, server: ServerProcess, n: int) -> None:
        self.dev = Device.sign_in(server, FLEET[n - 1])
        self.rng = random.Random(n)
        self.own = (f"job-f{n}", f"cust-f{n}")
        self.shared = [(f"job-{c}-{self.dev.username}", c) for c in SHARED
                       if self.dev.username in shared_techs(c)]
        self.state: dict[tuple[str, str], dict[str, Any]] = {}
        self.cursor = 0
        self.acked: list[tuple[str, dict, dict]] = []
        self.failure: BaseException | None = None

    def pull(self) -> None:
        changes, self.cursor = self.dev.pull_all(self.cursor)
        for c in changes:
            key = (c["table"], c["record_id"])
            if c["row"] is None:
                self.state.pop(key, None)
            else:
                self.state[key] = {**c["row"], "version": c["version"]}

    def _phone_change(self, customer: str) -> dict:
        seen = self.state.get(("customers", customer), {})
        return self.dev.mutation("customers", customer,
                                 {"phone": f"13{self.rng.randrange(10 ** 9):09d}"},
                                 {"phone": seen.get("phone")}, base_version=seen.get(
                                     "version", 0))

    def work(self) -> list[dict]:
        """1–4 changes: notes on its own or a shared job, and customers' phone numbers
        (which other tablets of a shared customer change too)."""
        out = []
        for i in range(self.rng.randint(1, 4)):
            r = self.rng.random()
            job, cust = self.rng.choice(self.shared) if self.shared and r < 0.6 else self.own
            if r < 0.35 or r >= 0.6:
                out.append(note_on(self.dev, job, cust, f"{self.dev.username} 备注 {i}"))
            else:
                out.append(self._phone_change(cust))
        return out

    def push(self, mutations: list[dict]) -> None:
        body = self.dev.batch(mutations)
        for _ in range(20):  # a lost answer or a busy server: the same batch again
            try:
                resp = self.dev.push_body(body, timeout=30)
            except requests.RequestException:
                time.sleep(0.2)
                continue
            if resp.status_code == 200:
                got = door.results(resp)
                self.acked += [(self.dev.device_id, m, got[m["mutation_id"]])
                               for m in mutations]
                return
            time.sleep(0.2)
        raise AssertionError(f"batch {body['batch_id']} never answered: {resp.text[:200]}")

    def run(self, until: float) -> None:
        try:
            self.pull()
            while time.monotonic() < until:
                self.push(self.work())
                self.pull()
                time.sleep(self.rng.uniform(0.02, 0.15))
        except BaseException as exc:  # noqa: BLE001  (reported by the test)
            self.failure = exc


def dispatching(server: ServerProcess, until: float, stop: threading.Event) -> None:
    """The office gives shared customers' jobs to another of their technicians."""
    office = door.login(server, "dispatcher", "office-fleet")
    rng = random.Random(99)
    while time.monotonic() < until and not stop.is_set():
        customer = rng.choice(SHARED)
        techs = shared_techs(customer)
        job = f"job-{customer}-{rng.choice(techs)}"
        resp = door.office_assign(server, office, job, rng.choice(techs))
        assert resp.status_code < 500, resp.text
        time.sleep(rng.uniform(0.3, 1.0))


def server_scope(server: ServerProcess, username: str) -> dict[tuple[str, str], dict]:
    customers = [r["customer_id"] for r in server.query(
        "SELECT DISTINCT customer_id FROM jobs WHERE assignee = ?", [username])]
    marks = ",".join("?" * len(customers))
    out = {}
    for table, spec in TABLES.items():
        if spec.scoped:
            key = "id" if table == "customers" else "customer_id"
            rows = server.query(f'SELECT * FROM "{table}" WHERE {key} IN ({marks})', customers)
        else:
            rows = server.query(f'SELECT * FROM "{table}"')
        out.update({(table, r["id"]): r for r in rows})
    return out


def _same_rows(held: dict, stored: dict) -> bool:
    cols = [c for c in stored if c not in ("id", "customer_id") or c in held]
    return all(door.same(held.get(c), stored[c]) for c in cols if c != "id")


def test_twenty_tablets_at_once_end_with_the_servers_state_and_nothing_lost(
        bb_server: ServerProcess, tally: door.Tally) -> None:
    tablets = [Tablet(bb_server, n) for n in range(1, len(FLEET) + 1)]
    until = time.monotonic() + FLEET_SECONDS
    stop = threading.Event()
    threads = [threading.Thread(target=t.run, args=(until,)) for t in tablets]
    office = threading.Thread(target=dispatching, args=(bb_server, until, stop))
    for thread in [*threads, office]:
        thread.start()
    for thread in threads:
        thread.join(FLEET_SECONDS + 120)
    stop.set()
    office.join(30)
    assert [t.failure for t in tablets if t.failure] == []

    acked = [a for t in tablets for a in t.acked]
    assert len(acked) > 20 * FLEET_SECONDS  # the fleet really worked
    found = door.account(bb_server, acked)
    door.record_account(found)
    differ = []
    for t in tablets:
        t.pull()
        expected = server_scope(bb_server, t.dev.username)
        missing = expected.keys() - t.state.keys()
        extra = t.state.keys() - expected.keys()
        stale = [k for k in expected.keys() & t.state.keys()
                 if not _same_rows(t.state[k], expected[k])]
        if missing or extra or stale:
            differ.append((t.dev.username, sorted(missing)[:3], sorted(extra)[:3], stale[:3]))
    assert differ == []
    assert (found.lost, found.silent_overwrites) == (0, 0), found.notes[:10]
    assert tally.server_errors == 0, tally.notes[:10]
