"""What the server refuses before applying anything, and how it bounds a device's clock."""

from __future__ import annotations

import hashlib
import time

import pytest
import requests

from fieldapp.hlc import Timestamp
from fieldapp.ids import new_id
from fieldapp.wire import MAX_SKEW_MS, PROTOCOL_VERSION, Mutation
from sync_server.clock import ServerClock
from sync_server.sync.push import bounded as _bounded
from tests.conftest import ServerProcess
from tests.server.test_sync_api import hazard, login, mutation, office_push, push, version


def applied_count(server: ServerProcess) -> int:
    return server.scalar("SELECT count(*) FROM changes WHERE mutation_id IS NOT NULL")


@pytest.mark.parametrize(("field", "value", "status", "code"), [
    ("protocol", PROTOCOL_VERSION + 1, 400, "unknown_protocol"),
    ("protocol", 0, 426, "client_outdated"),
    ("schema_version", 99, 400, "unknown_schema_version"),
    ("schema_version", 0, 400, "unknown_schema_version"),
])
def test_unknown_versions_are_refused_and_nothing_applied(server, field, value, status, code):
    headers = login(server, "tech01", "d1")
    body = {"protocol": PROTOCOL_VERSION, "schema_version": 1, "device_id": "d1",
            "batch_id": new_id(), "mutations": [
                mutation("jobs", "job-1", {"status": "accepted"}, {"status": "dispatched"})]}
    body[field] = value
    resp = requests.post(server.url + "/api/v1/sync/push", json=body, headers=headers,
                         timeout=10)
    assert (resp.status_code, resp.json()["error"]) == (status, code)
    assert applied_count(server) == 0


def test_a_revoked_device_may_only_hand_in_its_work(server):
    tech = login(server, "tech01", "pad-9")
    admin = login(server, "admin", "office-admin")
    forbidden = requests.post(server.url + "/api/v1/admin/devices/office-admin/revoke",
                              headers=tech, timeout=10)
    assert (forbidden.status_code, forbidden.json()["error"]) == (403, "forbidden")
    resp = requests.post(server.url + "/api/v1/admin/devices/pad-9/revoke", headers=admin,
                         timeout=10)
    assert resp.json() == {"device_id": "pad-9", "status": "revoked"}
    # what it holds is still taken (then it erases itself: test_remote_wipe.py), nothing else
    handed_in = push(server, tech, "pad-9", [
        mutation("jobs", "job-1", {"status": "accepted"}, {"status": "dispatched"})])
    assert handed_in.status_code == 200 and applied_count(server) == 1
    refused = requests.get(server.url + "/api/v1/sync/pull", headers=tech, timeout=10)
    assert (refused.status_code, refused.json()["error"]) == (401, "device_revoked")
    again = requests.post(server.url + "/api/v1/auth/login", timeout=10, json={
        "username": "tech01", "password": "s3cret-pass", "device_id": "pad-9"})
    assert (again.status_code, again.json()["error"]) == (403, "device_revoked")
    unknown = requests.post(server.url + "/api/v1/admin/devices/nope/revoke", headers=admin,
                            timeout=10)
    assert (unknown.status_code, unknown.json()["error"]) == (404, "unknown_device")


def test_full_disk_keeps_only_verified_bytes_and_the_upload_resumes(tmp_path):
    server = ServerProcess(tmp_path)
    server.seed_world()
    server.start(FIELDAPP_FAULTS="disk_full:2")
    try:
        headers = login(server, "tech01", "d1")
        data = bytes(range(256)) * 400
        sha = hashlib.sha256(data).hexdigest()
        url = f"{server.url}/api/v1/attachments/{sha}"

        def put(offset: int, size: int) -> requests.Response:
            return requests.put(url, data=data[offset:offset + size], headers=headers,
                                params={"offset": offset, "total": len(data)}, timeout=10)

        assert put(0, 40_000).json()["size"] == 40_000
        full = put(40_000, 40_000)
        assert (full.status_code, full.json()["error"]) == (507, "storage_full")
        partial = tmp_path / "attachments" / "partial" / sha
        assert partial.stat().st_size == 40_000  # the half-written chunk was cut back
        status = requests.get(url, headers=headers, timeout=10).json()
        assert status == {"sha256": sha, "size": 40_000, "complete": False}
        assert put(40_000, 62_400).json() == {"sha256": sha, "size": len(data),
                                              "complete": True}
        assert (tmp_path / "attachments" / sha[:2] / sha).read_bytes() == data
    finally:
        server.stop()


def _mutation(hlc: str) -> Mutation:
    return Mutation(mutation_id="m", table="jobs", record_id="j", op="update",
                    fields={"status": "accepted"}, hlc=hlc, at="2026-11-24T10:00:00+08:00")


def test_a_clock_hours_ahead_is_clamped_to_the_skew_bound():
    now = 1_800_000_000_000
    clock = ServerClock(wall=lambda: now)
    ahead = str(Timestamp(now + 3 * 3600_000, 4, "dev-fast"))
    bounded = Timestamp.parse(_bounded(_mutation(ahead), clock).hlc)
    assert bounded == Timestamp(now + MAX_SKEW_MS, 4, "dev-fast")
    assert Timestamp.parse(clock.now()).wall_ms == now + MAX_SKEW_MS  # server not dragged on
    slow = str(Timestamp(now - 3 * 3600_000, 0, "dev-slow"))
    assert _bounded(_mutation(slow), clock).hlc == slow  # behind is fine: HLC orders it


def test_fast_tablet_does_not_win_a_later_office_edit(server):
    tech = login(server, "tech01", "d1")
    hazard_id = hazard(server, tech, "d1")
    base = version(server, "hazards", hazard_id)
    three_hours_ahead = f"{int(time.time() * 1000) + 3 * 3600_000:018d}:00000:d1"
    push(server, tech, "d1", [mutation("hazards", hazard_id, {"status": "rectified"},
                                       {"status": "open"}, hlc=three_hours_ahead,
                                       base_version=base)])
    stored = Timestamp.parse(server.scalar("SELECT hlc FROM hazards WHERE id = ?", [hazard_id]))
    assert stored.wall_ms <= time.time() * 1000 + MAX_SKEW_MS + 5_000
    later_office = f"{int(time.time() * 1000) + MAX_SKEW_MS + 10_000:018d}:00000:office-1"
    result = office_push(server, "supervisor", [
        mutation("hazards", hazard_id, {"status": "closed"}, {"status": "open"},
                 hlc=later_office, base_version=base)])[0]
    assert result["status"] == "conflict"
    assert result["kept"] == {"status": "closed"}  # the later office edit wins
    assert server.query("SELECT preserved, preserved_by FROM conflicts") == [
        {"preserved": '"rectified"', "preserved_by": "tech01"}]


def test_reordered_batches_merge_forward_and_never_go_back(server):
    tech = login(server, "tech01", "d1")
    base = version(server, "jobs", "job-1")
    later = push(server, tech, "d1", [mutation("jobs", "job-1", {"status": "in_service"},
                                               {"status": "accepted"}, base_version=base)])
    assert later.json()["results"][0]["status"] == "applied"
    earlier = push(server, tech, "d1", [mutation("jobs", "job-1", {"status": "accepted"},
                                                 {"status": "dispatched"}, base_version=base)])
    assert (earlier.json()["results"][0]["status"],
            earlier.json()["results"][0]["reason"]) == ("rejected", "stale_transition")
    assert server.scalar("SELECT status FROM jobs WHERE id = 'job-1'") == "in_service"
    assert server.query("SELECT preserved FROM conflicts") == [{"preserved": '"accepted"'}]


@pytest.mark.parametrize(("value", "reason"), [
    ('"maybe"', "invalid_answer:invalid_choice"),
    ("{not json", "invalid_value"),
])
def test_answer_updates_are_validated_like_inserts(server, tmp_path, value, reason):
    from fieldapp.replica import Replica
    from fieldapp.sync.client import SyncClient
    from tests.world import PASSWORD, start_checklist

    replica = Replica.open(tmp_path / "tablet")
    client = SyncClient(replica, server.url)
    client.login("tech01", PASSWORD)
    client.sync()
    replica.jobs.transition("job-1", "accepted")
    replica.jobs.transition("job-1", "in_service")
    sub_id = start_checklist(replica, "job-1")
    replica.submissions.answer(sub_id, "leak_test_joints", "pass")
    client.sync()
    answer = next(iter(replica.submissions.answers(sub_id).values()))
    headers = login(server, "tech01", "d2")
    result = push(server, headers, "d2", [mutation(
        "answers", answer["id"], {"value": value}, {"value": '"pass"'},
        base_version=answer["version"])]).json()["results"][0]
    assert (result["status"], result["reason"]) == ("rejected", reason)
    stored = server.scalar("SELECT value FROM answers WHERE id = ?", [answer["id"]])
    assert stored == '"pass"'
