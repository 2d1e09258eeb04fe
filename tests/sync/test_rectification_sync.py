"""The notice, hazards and check job written offline reach the server; a tablet cannot
create any other job."""

from __future__ import annotations

from pathlib import Path

import pytest

from fieldapp.ids import new_id
from fieldapp.local_time import now_iso
from tests.conftest import ServerProcess, synced_tablet
from tests.server.test_sync_api import login, mutation, push
from tests.world import complete_inspection


def test_an_offline_inspection_schedules_its_check_on_the_server(server: ServerProcess,
                                                                 tmp_path: Path):
    replica, client = synced_tablet(server, tmp_path / "tablet")
    complete_inspection(replica, "job-1", tmp_path / "photo.jpg")  # hose_age failed: serious
    report = client.sync()
    assert replica.outbox.problems() == [], report

    [notice] = server.query("SELECT * FROM rectification_notices WHERE job_id = 'job-1'")
    [hazard] = server.query("SELECT * FROM hazards WHERE job_id = 'job-1'")
    assert (hazard["question"], hazard["level"], hazard["note"], hazard["notice_id"]) == (
        "hose_age", "serious", "橡胶软管已龟裂", notice["id"])
    [check] = server.query("SELECT * FROM jobs WHERE kind = 'rectification_check'")
    assert (check["id"], check["assignee"], check["status"], check["due_at"]) == (
        hazard["check_job_id"], "tech01", "dispatched", hazard["due_at"])
    assert check["version"] > 0 and replica.get("jobs", check["id"])["version"] == \
        check["version"]


@pytest.mark.parametrize(("kind", "assignee", "status"), [
    ("repair", "tech01", "dispatched"),
    ("rectification_check", "tech02", "dispatched"),
    ("rectification_check", "tech01", "completed"),
])
def test_a_tablet_cannot_create_other_jobs(server: ServerProcess, kind: str, assignee: str,
                                           status: str):
    tech = login(server, "tech01", "pad-1")
    job_id = new_id()
    result = push(server, tech, "pad-1", [mutation("jobs", job_id, {
        "number": "ZG1", "kind": kind, "priority": 2, "customer_id": "cust-1",
        "assignee": assignee, "status": status, "created_at": now_iso()}, op="insert")]).json()
    assert result["results"][0]["reason"] == "forbidden"
    assert server.query("SELECT id FROM jobs WHERE id = ?", [job_id]) == []
