"""A job reassigned while its technician works offline: the work is pushed and kept,
the job leaves the tablet only where nothing of the technician's is at stake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from tests.conftest import ServerProcess, synced_tablet
from tests.server.test_sync_api import mutation, office_push, version
from tests.world import start_checklist


def test_offline_work_on_a_reassigned_job_is_kept_and_the_user_told(server: ServerProcess,
                                                                    tmp_path: Path):
    replica, client = synced_tablet(server, tmp_path / "tablet")
    assert replica.find("meters", "meter-1") is not None

    replica.jobs.transition("job-1", "accepted")  # offline
    replica.jobs.transition("job-1", "in_service")
    sub_id = start_checklist(replica, "job-1")
    replica.submissions.answer(sub_id, "leak_test_joints", "fail", "接头处有气泡")

    result = office_push(server, "dispatcher", [
        mutation("jobs", "job-1", {"assignee": "tech02"}, {"assignee": "tech01"},
                 base_version=version(server, "jobs", "job-1"))])[0]
    assert result["status"] == "applied"

    report = client.sync()
    reasons = {(p["tbl"], p["reason"]) for p in replica.outbox.problems()}
    assert reasons == {("jobs", "reassigned")}
    answer = server.query("SELECT value, note, by_user FROM answers WHERE submission_id = ?",
                          [sub_id])
    assert answer == [{"value": '"fail"', "note": "接头处有气泡", "by_user": "tech01"}]  # kept
    assert server.scalar("SELECT count(*) FROM job_status_history WHERE job_id = 'job-1'"
                         " AND by_user = 'tech01'") == 2
    assert server.query("SELECT status, assignee FROM jobs WHERE id = 'job-1'") == [
        {"status": "dispatched", "assignee": "tech02"}]
    kept = server.query("SELECT kept, preserved, preserved_by, reason FROM conflicts"
                        " WHERE record_id = 'job-1' ORDER BY id")
    assert [(json.loads(c["kept"]), json.loads(c["preserved"]), c["preserved_by"], c["reason"])
            for c in kept] == [
        ("dispatched", "accepted", "tech01", "reassigned"),
        ("dispatched", "in_service", "tech01", "reassigned")]

    # cust-1 left the tablet's scope: what was synced goes, the refused job stays visible
    assert replica.find("meters", "meter-1") is None
    assert replica.find("customers", "cust-1") is None
    assert replica.get("jobs", "job-1")["status"] == "in_service"
    assert "job-1" in report.kept_despite_tombstone
    assert replica.find("customers", "cust-2") is not None


@pytest.mark.usefixtures("first_sync")
def test_a_job_reassigned_away_without_local_work_leaves_the_tablet(server: ServerProcess,
                                                                    tmp_path: Path):
    replica, client = synced_tablet(server, tmp_path / "tablet")
    office_push(server, "dispatcher", [
        mutation("jobs", "job-2", {"assignee": "tech02"}, {"assignee": "tech01"},
                 base_version=version(server, "jobs", "job-2"))])
    report = client.sync()
    assert report.left_jobs == {"job-2"}
    assert replica.find("jobs", "job-2") is None and replica.find("customers", "cust-2") is None
    assert [j["id"] for j in replica.jobs.today()] == ["job-1"]


def test_a_pull_with_an_unchanged_scope_only_reads(server: ServerProcess, tmp_path: Path):
    """The morning rush: pulls must not queue behind the single writer unless the
    device's customers changed."""
    replica, client = synced_tablet(server, tmp_path / "tablet")
    headers = {"Authorization": f"Bearer {replica.state('token')}"}
    with server.writer_blocked():
        answer = requests.get(server.url + "/api/v1/sync/pull", headers=headers,
                              params={"cursor": 0}, timeout=10)
    assert answer.status_code == 200
    assert {c["record_id"] for c in answer.json()["changes"]} >= {"job-1", "cust-1"}

    office_push(server, "dispatcher", [
        mutation("jobs", "job-3", {"assignee": "tech01"}, {"assignee": "tech02"},
                 base_version=version(server, "jobs", "job-3"))])
    report = client.sync()  # the scope grew: this pull writes, and backfills cust-3
    assert replica.find("customers", "cust-3") is not None, report
    assert server.scalar("SELECT count(*) FROM device_scope WHERE customer_id = 'cust-3'"
                         " AND removed_cursor IS NULL") == 1
