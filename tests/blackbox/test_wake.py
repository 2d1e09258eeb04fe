"""The long poll that wakes an online tablet (GET /api/v1/sync/wait), called as a plain HTTP
client would: it answers at once when news is already there, within seconds of a dispatch
to the waiting technician, never for another technician's or another district's work, and
refuses bad cursors, bad holds, missing and revoked tokens with a clear 4xx."""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.blackbox import door
from tests.blackbox.conftest import WORKERS
from tests.conftest import ServerProcess
from tests.server.districts import add_scoped_accounts

WAIT = "/api/v1/sync/wait"


def wait(dev: door.Device, cursor: int, hold: int) -> tuple[requests.Response, float]:
    """One wait and how long it was held (seconds)."""
    start = time.monotonic()
    resp = door.call(dev.server, "GET", WAIT, headers=dev.headers,
                     params={"cursor": cursor, "hold": hold}, timeout=hold + 10)
    return resp, time.monotonic() - start


def caught_up(dev: door.Device) -> int:
    return dev.pull_all()[1]


def emergency(server: ServerProcess, office: dict[str, str], customer: str) -> str:
    resp = door.call(server, "POST", "/api/v1/office/jobs", headers=office, json={
        "kind": "repair", "customer": customer, "priority": 1,
        "due_at": "2026-12-06T18:00:00+08:00", "summary": "燃气泄漏报警"})
    assert resp.status_code == 201, resp.text
    job_id: str = resp.json()["id"]
    return job_id


def assign(server: ServerProcess, office: dict[str, str], job_id: str, user: str) -> float:
    resp = door.office_assign(server, office, job_id, user)
    assert resp.status_code == 200, resp.text
    return time.monotonic()


def test_bad_calls_are_refused_plainly(bb_server: ServerProcess) -> None:
    tech = door.Device.sign_in(bb_server, "tech01")
    assert door.call(bb_server, "GET", WAIT, params={"cursor": 0}).status_code == 401
    bad_token = {"Authorization": "Bearer not-a-token"}
    assert door.call(bb_server, "GET", WAIT, headers=bad_token).status_code == 401
    for params in ({"cursor": -1}, {"cursor": "x"}, {"cursor": 2 ** 70}, {"hold": 0},
                   {"hold": 26}, {"hold": "soon"}, {"hold": 2.5}):
        resp = door.call(bb_server, "GET", WAIT, headers=tech.headers, params=params)
        assert resp.status_code == 422, (params, resp.text)
        assert resp.json()["error"] == "malformed_request"


def test_news_already_there_answers_at_once(bb_server: ServerProcess) -> None:
    tech = door.Device.sign_in(bb_server, "tech01")
    resp, held = wait(tech, 0, 20)
    assert resp.status_code == 200 and resp.json() == {"wake": True, "cursor": 0}
    assert held < 5
    # caught up, nothing happens: held for the whole hold, then "no news"
    cursor = caught_up(tech)
    resp, held = wait(tech, cursor, 2)
    assert resp.json() == {"wake": False, "cursor": cursor}
    assert held >= 1.9


def test_a_dispatch_wakes_its_technician_and_nobody_else(bb_server: ServerProcess) -> None:
    add_scoped_accounts(bb_server)
    office = door.login(bb_server, "dispatcher", "office-desk-1")
    waiters = {name: door.Device.sign_in(bb_server, name)
               for name in ("tech01", "tech05", "tech06", "qh_dispatch")}
    # a 鼓楼区 office account: the emergency below is at a 秦淮区 customer
    other = door.Device.sign_in(bb_server, "tech02")
    cursors = {name: caught_up(dev) for name, dev in waiters.items()}
    other_cursor = caught_up(other)
    job_id = emergency(bb_server, office, "cust-f4")  # tech04's customer; pending, nobody's
    cursors["qh_dispatch"] = caught_up(waiters["qh_dispatch"])
    with ThreadPoolExecutor(6) as pool:
        futures: dict[str, Future[tuple[requests.Response, float]]] = {
            name: pool.submit(wait, dev, cursors[name], 12) for name, dev in waiters.items()}
        fut_other = pool.submit(wait, other, other_cursor, 12)
        time.sleep(1.5)  # every wait is being held
        assert not any(f.done() for f in futures.values())
        assigned_at = assign(bb_server, office, job_id, "tech01")
        woke, held = futures["tech01"].result()
        latency = time.monotonic() - assigned_at
        district, _ = futures["qh_dispatch"].result()
        results: dict[str, Any] = {name: futures[name].result()[0].json()
                                   for name in ("tech05", "tech06")}
        results["tech02"] = fut_other.result()[0].json()
    assert woke.json() == {"wake": True, "cursor": cursors["tech01"]}
    assert latency < 3, latency  # the watcher looks twice a second
    assert district.json()["wake"] is True  # the district's own customer's job changed
    assert all(r["wake"] is False for r in results.values()), results
    # the pull it was woken for carries the emergency
    changes, _ = waiters["tech01"].pull_all(cursors["tech01"])
    job = next(c for c in changes if c["record_id"] == job_id)
    assert job["row"]["priority"] == 1 and job["row"]["assignee"] == "tech01"


@pytest.mark.skipif(WORKERS > 1, reason="each worker process knows only its own waits")
def test_a_second_wait_of_one_device_answers_the_first(bb_server: ServerProcess) -> None:
    tech = door.Device.sign_in(bb_server, "tech01")
    cursor = caught_up(tech)
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(wait, tech, cursor, 20)
        time.sleep(1)
        second = pool.submit(wait, tech, cursor, 2)
        resp, held = first.result()
        assert resp.json()["wake"] is False and held < 5
        assert second.result()[0].json()["wake"] is False


def test_a_revoked_tablet_is_refused(bb_server: ServerProcess) -> None:
    tech = door.Device.sign_in(bb_server, "tech01")
    boss = door.login(bb_server, "supervisor", "office-desk-2")
    resp = door.call(bb_server, "POST", f"/api/v1/admin/devices/{tech.device_id}/revoke",
                     headers=boss)
    assert resp.status_code == 200, resp.text
    resp, _ = wait(tech, 0, 2)
    assert (resp.status_code, resp.json()["error"]) == (401, "device_revoked")


def test_a_held_wait_does_not_hold_a_stopping_server_up(bb_server: ServerProcess) -> None:
    tech = door.Device.sign_in(bb_server, "tech01")
    cursor = caught_up(tech)
    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(wait, tech, cursor, 25)
        time.sleep(1.5)
        start = time.monotonic()
        bb_server.stop()
        stopped_in = time.monotonic() - start
        resp, _ = held.result()
    assert stopped_in < 3, stopped_in  # not the 5 s grace, let alone the 25 s hold
    assert resp.json() == {"wake": False, "cursor": cursor}
