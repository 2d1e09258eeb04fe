"""The sync API over real HTTP: auth errors, malformed input, idempotency, merge, scope."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests

from fieldapp.errors import AuthError, ServerRejected
from fieldapp.ids import new_id
from fieldapp.local_time import now_iso
from fieldapp.replica import Replica
from fieldapp.sync.client import SyncClient
from fieldapp.wire import PROTOCOL_VERSION, Mutation
from fieldapp.write_policy import Door
from sync_server.services.auth import Principal
from sync_server.storage.db import open_database
from sync_server.sync import merge
from tests.conftest import ServerProcess
from tests.world import PASSWORD


def login(server: ServerProcess, username: str, device: str) -> dict[str, str]:
    resp = requests.post(server.url + "/api/v1/auth/login", timeout=10, json={
        "username": username, "password": PASSWORD, "device_id": device})
    assert resp.status_code == 200, resp.text
    return {"Authorization": "Bearer " + resp.json()["token"]}


def mutation(table: str, record_id: str, fields: dict, old: dict | None = None,
             op: str = "update", base_version: int = 0, hlc: str | None = None) -> dict:
    return {"mutation_id": new_id(), "table": table, "record_id": record_id, "op": op,
            "fields": fields, "old": old or {}, "base_version": base_version,
            "hlc": hlc or f"{int(time.time() * 1000):018d}:00000:test", "at": now_iso()}


def version(server: ServerProcess, table: str, record_id: str) -> int:
    return server.scalar(f"SELECT version FROM {table} WHERE id = ?", [record_id])


def push(server: ServerProcess, headers: dict, device: str, mutations: list[dict],
         batch_id: str | None = None) -> requests.Response:
    """Push as ``device``; a mutation stamped by ``mutation()``'s placeholder node is
    stamped as this device's (the server takes only the pushing device's HLCs)."""
    for m in mutations:
        if m["hlc"].endswith(":test"):
            m["hlc"] = m["hlc"].removesuffix("test") + device
    return requests.post(server.url + "/api/v1/sync/push", headers=headers, timeout=10, json={
        "protocol": PROTOCOL_VERSION, "schema_version": 1, "device_id": device,
        "batch_id": batch_id or new_id(), "mutations": mutations})


def office_push(server: ServerProcess, username: str, mutations: list[dict]) -> list[dict]:
    """Changes made by an office service for ``username`` (as the back office's pages make
    them: through the merge, at the office door), while the server runs; the results."""
    db = open_database(server.data_dir, server.database_url)
    try:
        with db.write() as conn:
            row = conn.execute("SELECT * FROM users WHERE username = ?", [username]).fetchone()
            who = Principal(row["username"], row["display_name"], row["role"],
                            row["district"], "office-" + username)
            return [merge.apply_mutation(conn, Mutation(**m), who, "office-" + new_id(),
                                         door=Door.OFFICE).model_dump() for m in mutations]
    finally:
        db.close()


@pytest.mark.parametrize(("username", "password"), [("tech01", "wrong"), ("nobody", PASSWORD)])
def test_wrong_password_is_refused_without_saying_which_part(server, username, password):
    resp = requests.post(server.url + "/api/v1/auth/login", timeout=10, json={
        "username": username, "password": password, "device_id": "d1"})
    assert resp.status_code == 401
    assert resp.json() == {"error": "bad_credentials", "message": "wrong username or password",
                           "detail": None}


def test_client_reports_wrong_password_as_auth_error(server, tmp_path: Path):
    client = SyncClient(Replica.open(tmp_path), server.url)
    with pytest.raises(AuthError) as err:
        client.login("tech01", "nope")
    assert err.value.code == "bad_credentials"


def test_expired_token_gets_a_precise_error(tmp_path: Path):
    server = ServerProcess(tmp_path, token_ttl=1)
    server.seed_world()
    server.start()
    try:
        replica = Replica.open(tmp_path / "tablet")
        client = SyncClient(replica, server.url)
        client.login("tech01", PASSWORD)
        time.sleep(1.2)
        with pytest.raises(AuthError) as err:
            client.sync()
        assert err.value.code == "token_expired"
    finally:
        server.stop()


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer made-up"}])
def test_requests_without_a_valid_token_are_refused(server, headers):
    resp = requests.get(server.url + "/api/v1/sync/pull", headers=headers, timeout=10)
    assert resp.status_code == 401
    assert resp.json()["error"] in {"missing_token", "invalid_token"}


@pytest.mark.parametrize("body", [
    b"not json at all",
    b'{"protocol": 1}',
    json.dumps({"protocol": 1, "schema_version": 1, "device_id": "d1", "batch_id": "b",
                "mutations": [{"table": "jobs"}]}).encode(),
    json.dumps({"protocol": 1, "schema_version": 1, "device_id": "d1", "batch_id": "b",
                "mutations": "everything"}).encode(),
])
def test_malformed_push_is_refused_with_the_place_of_the_problem(server, body):
    headers = {**login(server, "tech01", "d1"), "Content-Type": "application/json"}
    resp = requests.post(server.url + "/api/v1/sync/push", data=body, headers=headers, timeout=10)
    assert resp.status_code == 422
    payload = resp.json()
    assert payload["error"] == "malformed_request" and payload["message"]
    assert server.scalar("SELECT count(*) FROM batches") == 0


def test_old_protocol_is_told_to_update(server):
    resp = requests.post(server.url + "/api/v1/auth/login", timeout=10, json={
        "username": "tech01", "password": PASSWORD, "device_id": "d1", "protocol": 0})
    assert resp.status_code == 426 and resp.json()["error"] == "client_outdated"


def test_repushed_batch_is_applied_once(server):
    headers = login(server, "tech01", "d1")
    m = mutation("jobs", "job-1", {"status": "accepted"}, {"status": "dispatched"})
    first = push(server, headers, "d1", [m], batch_id="batch-1")
    again = push(server, headers, "d1", [m], batch_id="batch-1")
    assert first.json()["results"] == again.json()["results"]
    assert again.json()["replayed"] is True
    same_in_new_batch = push(server, headers, "d1", [m], batch_id="batch-2")
    assert same_in_new_batch.json()["results"] == first.json()["results"]
    assert server.scalar("SELECT count(*) FROM changes WHERE record_id = 'job-1'"
                         " AND op = 'update'") == 1


def test_a_change_before_its_record_waits_for_it_and_is_applied_when_it_lands(server):
    headers = login(server, "tech01", "d1")
    history_id = new_id()
    sent = [
        mutation("jobs", "job-404", {"status": "accepted"}, {"status": "dispatched"}),
        mutation("job_status_history", history_id, {
            "job_id": "job-404", "customer_id": "cust-1", "from_status": "dispatched",
            "to_status": "accepted", "at": now_iso()}, op="insert", base_version=0),
        mutation("jobs", "job-1", {"status": "accepted"}, {"status": "dispatched"},
                 base_version=version(server, "jobs", "job-1")),
    ]
    results = push(server, headers, "d1", sent).json()["results"]
    assert [(r["status"], r["reason"]) for r in results] == [
        ("parked", "awaiting_parent"), ("parked", "awaiting_parent"), ("applied", None)]
    assert "job-404" in results[0]["message"]
    waiting = server.query("SELECT parent_table, parent_id, applied_at FROM parked ORDER BY id")
    assert waiting == [{"parent_table": "jobs", "parent_id": "job-404", "applied_at": None}] * 2
    assert server.scalar("SELECT count(*) FROM conflicts WHERE reason = 'awaiting_parent'"
                         " AND resolved_at IS NULL") == 2

    # The office creates job-404 for tech01: both wait no longer.
    office_push(server, "dispatcher", [mutation("jobs", "job-404", {
        "number": "GD202611240404", "kind": "inspection", "priority": 3, "customer_id": "cust-1",
        "district": "秦淮区", "due_at": now_iso(), "assignee": "tech01", "status": "dispatched",
        "created_at": now_iso()}, op="insert")])
    assert server.scalar("SELECT status FROM jobs WHERE id = 'job-404'") == "accepted"
    assert server.scalar("SELECT by_user FROM job_status_history WHERE id = ?",
                         [history_id]) == "tech01"
    assert server.scalar("SELECT count(*) FROM conflicts WHERE reason = 'awaiting_parent'"
                         " AND resolved_at IS NULL") == 0
    # A resend (its answer lost) is answered with what finally happened.
    resent = push(server, headers, "d1", sent[:2]).json()["results"]
    assert [r["status"] for r in resent] == ["merged", "applied"]  # after the office's insert


def test_technician_cannot_touch_another_technicians_job(server):
    headers = login(server, "tech01", "d1")
    result = push(server, headers, "d1", [
        mutation("jobs", "job-3", {"status": "accepted"}, {"status": "dispatched"})
    ]).json()["results"][0]
    assert (result["status"], result["reason"]) == ("rejected", "out_of_scope")


def test_disjoint_field_edits_merge(server):
    tech = login(server, "tech01", "d1")
    base = version(server, "jobs", "job-1")
    assert office_push(server, "dispatcher", [
        mutation("jobs", "job-1", {"summary": "带上检漏仪"}, {"summary": "年度入户安检"},
                 base_version=base)
    ])[0]["status"] == "applied"
    result = push(server, tech, "d1", [   # still based on the old version, edited offline
        mutation("jobs", "job-1", {"status": "accepted"}, {"status": "dispatched"},
                 base_version=base)
    ]).json()["results"][0]
    assert result["status"] == "merged"
    assert server.query("SELECT status, summary FROM jobs WHERE id = 'job-1'") == [
        {"status": "accepted", "summary": "带上检漏仪"}]


def hazard(server: ServerProcess, headers: dict, device: str, job: str = "job-1",
           customer: str = "cust-1") -> str:
    """A hazard a tablet found on ``job`` (status open); its id."""
    hazard_id = new_id()
    [result] = push(server, headers, device, [mutation("hazards", hazard_id, {
        "job_id": job, "customer_id": customer, "question": "hose_age", "label": "软管老化",
        "level": "major", "status": "open", "found_at": now_iso()}, op="insert")]
                   ).json()["results"]
    assert result["status"] == "applied", result
    return hazard_id


def test_same_field_last_writer_wins_and_the_loser_is_kept(server):
    tech = login(server, "tech01", "d1")
    hazard_id = hazard(server, tech, "d1")
    early = f"{int(time.time() * 1000) - 60_000:018d}:00000:d1"
    office_push(server, "supervisor", [
        mutation("hazards", hazard_id, {"status": "closed"}, {"status": "open"})])
    result = push(server, tech, "d1", [
        mutation("hazards", hazard_id, {"status": "rectified"}, {"status": "open"},
                 hlc=early)]).json()["results"][0]
    assert result["status"] == "conflict"
    assert result["kept"] == {"status": "closed"}
    assert result["preserved"] == {"status": "rectified"}
    [conflict] = server.query("SELECT * FROM conflicts")
    assert (conflict["field"], json.loads(conflict["preserved"]), conflict["preserved_by"]) == (
        "status", "rectified", "tech01")


def test_stale_status_never_reopens_a_completed_job(server):
    tech = login(server, "tech01", "d1")
    office_push(server, "dispatcher", [
        mutation("jobs", "job-1", {"status": "cancelled"}, {"status": "dispatched"})])
    result = push(server, tech, "d1", [
        mutation("jobs", "job-1", {"status": "accepted"}, {"status": "dispatched"})
    ]).json()["results"][0]
    assert (result["status"], result["reason"]) == ("rejected", "illegal_transition")
    assert server.scalar("SELECT status FROM jobs WHERE id = 'job-1'") == "cancelled"
    [kept] = server.query("SELECT preserved, preserved_by FROM conflicts")
    assert (json.loads(kept["preserved"]), kept["preserved_by"]) == ("accepted", "tech01")


@pytest.mark.usefixtures("first_sync")
def test_pull_is_scoped_to_the_technicians_jobs(server, tmp_path: Path):
    replica = Replica.open(tmp_path)
    client = SyncClient(replica, server.url)
    client.login("tech01", PASSWORD)
    client.sync()
    assert {r["id"] for r in replica.db.query("SELECT id FROM customers")} == {"cust-1", "cust-2"}
    # the customer's history comes along, even a past job of another technician
    assert {r["id"] for r in replica.db.query("SELECT id FROM jobs")} == {
        "job-1", "job-2", "job-old"}
    assert replica.db.execute("SELECT count(*) FROM form_definitions").fetchone()[0] >= 1


def test_pull_pages_resume_from_the_cursor(server):
    headers = login(server, "tech01", "d1")
    seen, cursor, more = [], 0, True
    while more:
        page = requests.get(server.url + "/api/v1/sync/pull", headers=headers, timeout=10,
                            params={"cursor": cursor, "limit": 5}).json()
        seen += [c["record_id"] for c in page["changes"]]
        cursor, more = page["cursor"], page["more"]
    whole = requests.get(server.url + "/api/v1/sync/pull", headers=headers, timeout=10,
                         params={"limit": 1000}).json()
    assert seen == [c["record_id"] for c in whole["changes"]]


def test_attachment_whose_bytes_do_not_match_is_refused_and_not_kept(server, tmp_path: Path):
    headers = login(server, "tech01", "d1")
    claimed = "a" * 64
    resp = requests.put(f"{server.url}/api/v1/attachments/{claimed}", data=b"hello",
                        params={"offset": 0, "total": 5}, headers=headers, timeout=10)
    assert resp.status_code == 422 and resp.json()["error"] == "hash_mismatch"
    status = requests.get(f"{server.url}/api/v1/attachments/{claimed}", headers=headers,
                          timeout=10).json()
    assert status == {"sha256": claimed, "size": 0, "complete": False}
    assert not list((server.data_dir / "attachments").glob("*/" + claimed))


def test_attachment_record_without_its_bytes_is_rejected(server):
    headers = login(server, "tech01", "d1")
    result = push(server, headers, "d1", [mutation("attachments", new_id(), {
        "sha256": "b" * 64, "job_id": "job-1", "customer_id": "cust-1", "kind": "photo",
        "mime": "image/jpeg", "size": 10}, op="insert", base_version=0)]).json()["results"][0]
    assert (result["status"], result["reason"]) == ("rejected", "attachment_missing")


def test_bad_attachment_name_and_offset(server):
    headers = login(server, "tech01", "d1")
    bad = requests.get(f"{server.url}/api/v1/attachments/..%2Fetc", headers=headers, timeout=10)
    assert bad.status_code in (400, 404)
    sha = "c" * 64
    resp = requests.put(f"{server.url}/api/v1/attachments/{sha}", data=b"xx",
                        params={"offset": 7, "total": 9}, headers=headers, timeout=10)
    assert resp.status_code == 409 and resp.json()["detail"] == {"size": 0}


def test_server_errors_reach_the_client_as_codes(server, tmp_path: Path):
    replica = Replica.open(tmp_path)
    client = SyncClient(replica, server.url)
    client.login("tech01", PASSWORD)
    with pytest.raises(ServerRejected) as err:
        client._call("GET", "/api/v1/sync/pull", params={"cursor": -1})
    assert (err.value.code, err.value.status) == ("malformed_request", 422)


@pytest.mark.usefixtures("first_sync")
def test_a_job_assigned_later_brings_its_customers_history(server, tmp_path: Path):
    replica = Replica.open(tmp_path)
    client = SyncClient(replica, server.url)
    client.login("tech01", PASSWORD)
    client.sync()
    assert replica.find("customers", "cust-3") is None
    result = office_push(server, "dispatcher", [
        mutation("jobs", "job-3", {"assignee": "tech01"}, {"assignee": "tech02"},
                 base_version=version(server, "jobs", "job-3"))])[0]
    assert result["status"] == "applied"
    client.sync()
    assert replica.get("customers", "cust-3")["name"] == "周强"
    assert replica.get("meters", "meter-3")["barcode"] == "GM0000000003"
    assert replica.db.execute("SELECT count(*) FROM readings WHERE customer_id = 'cust-3'"
                              ).fetchone()[0] == 3
    assert replica.get("jobs", "job-3")["assignee"] == "tech01"
