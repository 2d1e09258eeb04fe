"""The server SIGKILLed mid-push and answers lost after commit: whatever the server
acknowledged is in the database exactly once, and a resend gets the stored answer."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.blackbox import door
from tests.blackbox.conftest import start_server
from tests.blackbox.door import Device, note_on, reading
from tests.conftest import ServerProcess

# Delays after which the pushing thread's server dies: from before the first batch
# arrives to well into the run of batches.
DELAYS_MS = (0, 5, 10, 20, 40, 70, 120, 200)
BATCHES, PER_BATCH = 10, 4


def _work(dev: Device, n: int) -> list[dict[str, Any]]:
    """``n`` batches of tech01's evidence: notes on job-1 and readings of meter-1."""
    return [dev.batch([note_on(dev, "job-1", "cust-1", f"第{b}批 备注{i}") if i % 2
                       else reading(dev, "cust-1", "meter-1", 1300 + b + i / 10)
                       for i in range(PER_BATCH)]) for b in range(n)]


def _applied_once(server: ServerProcess, sent: list[tuple[dict, dict]]) -> None:
    """Every mutation of every batch applied, its record there, logged exactly once."""
    for body, answer in sent:
        for m, result in zip(body["mutations"], answer["results"], strict=True):
            assert result["status"] in ("applied", "merged"), result
            assert server.scalar("SELECT count(*) FROM changes WHERE mutation_id = ?",
                                 [m["mutation_id"]]) == 1
            assert server.scalar(f'SELECT count(*) FROM "{m["table"]}" WHERE id = ?',
                                 [m["record_id"]]) == 1
    acked = [(body["device_id"], m, r) for body, answer in sent
             for m, r in zip(body["mutations"], answer["results"], strict=True)]
    found = door.account(server, acked)
    door.record_account(found)
    assert (found.lost, found.silent_overwrites) == (0, 0), found.notes


def test_kill_mid_push_at_many_delays_applies_each_acknowledged_mutation_once(
        tmp_path: Path, tally: door.Tally) -> None:
    server = start_server(tmp_path / "server")
    try:
        dev = Device.sign_in(server, "tech01")
        sent: list[tuple[dict, dict]] = []
        acknowledged_before_kill = 0
        for delay in DELAYS_MS:
            batches = _work(dev, BATCHES)
            answers: dict[str, dict] = {}

            def pushing(batches: list[dict] = batches, answers: dict = answers) -> None:
                for body in batches:
                    try:
                        resp = dev.push_body(body, timeout=10)
                    except requests.RequestException:
                        return  # the server is gone
                    if resp.status_code == 200:
                        answers[body["batch_id"]] = resp.json()

            thread = threading.Thread(target=pushing)
            thread.start()
            time.sleep(delay / 1000)
            door.kill_hard(server)
            thread.join(30)
            server.start()
            acknowledged_before_kill += len(answers)
            for body in batches:  # the tablet resends everything it holds no answer for,
                resp = dev.push_body(body)  # and here also what it has: both must agree
                assert resp.status_code == 200, resp.text
                again = resp.json()
                if body["batch_id"] in answers:
                    assert again["replayed"] is True
                    assert again["results"] == answers[body["batch_id"]]["results"]
                sent.append((body, again))
        _applied_once(server, sent)
        # the kill landed both between batches and after some were acknowledged
        assert acknowledged_before_kill > 0
        assert server.scalar("SELECT count(*) FROM batches") == len(DELAYS_MS) * BATCHES
    finally:
        server.stop()
    assert tally.server_errors == 0, tally.notes


def test_killed_inside_a_batch_applies_none_of_it_until_resent(tmp_path: Path,
                                                               tally: door.Tally) -> None:
    server = start_server(tmp_path / "server", FIELDAPP_FAULTS="kill_in_push:3")
    try:
        dev = Device.sign_in(server, "tech01")
        body = _work(dev, 1)[0]
        with pytest.raises(requests.ConnectionError):
            requests.post(server.url + "/api/v1/sync/push", json=body, headers=dev.headers,
                          timeout=10)
        door.kill_hard(server)
        assert server.scalar("SELECT count(*) FROM changes WHERE batch_id = ?",
                             [body["batch_id"]]) == 0
        server.start()  # without the fault
        resp = dev.push_body(body)
        assert resp.status_code == 200 and resp.json()["replayed"] is False
        _applied_once(server, [(body, resp.json())])
    finally:
        server.stop()
    assert tally.server_errors == 0, tally.notes


def _push_and_hang_up(server: ServerProcess, dev: Device, body: dict) -> None:
    """Send the whole request, then close the socket without reading the answer: the
    answer is lost on the way back, after the server committed."""
    import json

    data = json.dumps(body, ensure_ascii=False).encode()
    head = (f"POST /api/v1/sync/push HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Authorization: {dev.headers['Authorization']}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head.encode() + data)
        sock.shutdown(socket.SHUT_WR)


def _wait_for_batch(server: ServerProcess, batch_id: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if server.scalar("SELECT count(*) FROM batches WHERE batch_id = ?", [batch_id]):
            return
        time.sleep(0.05)
    raise AssertionError(f"batch {batch_id} was never stored")


@pytest.mark.parametrize("size", [1, 25])
def test_answer_lost_after_commit_is_replayed_with_the_same_results(
        bb_server: ServerProcess, tally: door.Tally, size: int) -> None:
    dev = Device.sign_in(bb_server, "tech01")
    mutations = [dev.mutation("jobs", "job-1", {"status": "accepted"},
                              {"status": "dispatched"},
                              base_version=door.row(bb_server, "jobs", "job-1")["version"])]
    mutations += [note_on(dev, "job-1", "cust-1", f"备注{i}") for i in range(size - 1)]
    body = dev.batch(mutations)
    _push_and_hang_up(bb_server, dev, body)
    _wait_for_batch(bb_server, body["batch_id"])
    first = dev.push_body(body)
    second = dev.push_body(body)
    assert first.status_code == second.status_code == 200
    assert first.json()["replayed"] is True and second.json()["replayed"] is True
    assert first.json()["results"] == second.json()["results"]
    for m, result in zip(mutations, first.json()["results"], strict=True):
        assert result["mutation_id"] == m["mutation_id"]
        assert result["version"] == bb_server.scalar(
            "SELECT seq FROM changes WHERE mutation_id = ?", [m["mutation_id"]])
    _applied_once(bb_server, [(body, first.json())])
    assert tally.server_errors == 0, tally.notes
