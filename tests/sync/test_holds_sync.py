"""挂起 / 退单 through the real server: the tablet's reason reaches the office's board and
job page, the office reassigns a handed-back job, and a plain HTTP client cannot use a hold
to move a job backwards or do the office's reassignment itself."""

from __future__ import annotations

from pathlib import Path

from fieldapp.domain import holds
from tests.conftest import ServerProcess, synced_tablet
from tests.server.test_conflict_review import office_session
from tests.server.test_sync_api import login, mutation, push


def test_on_hold_for_parts_shows_in_the_office_then_resumes(server: ServerProcess,
                                                           tmp_path: Path) -> None:
    replica, client = synced_tablet(server, tmp_path / "tablet")
    replica.jobs.transition("job-1", "accepted")
    replica.jobs.transition("job-1", "in_service")
    replica.parts.request("job-1", "P-CLAMP", 1)
    [part] = replica.parts.for_job("job-1")
    replica.holds.suspend("job-1", holds.WAITING_PARTS, "卡箍缺货", part_request_id=part["id"])
    report = client.sync()
    assert report.pushed.get("applied", 0) >= 6, report.pushed
    assert server.scalar("SELECT status FROM jobs WHERE id = 'job-1'") == "suspended"
    office = office_session(server, "dispatcher")
    board = office.get(server.url + "/office/dispatch", timeout=30).text
    held = board.split('id="col-held"')[1].split("</section>")[0]
    assert "GD202611240001" in held and "挂起：待料（卡箍缺货）" in held
    page = office.get(server.url + "/office/jobs/job-1", timeout=30).text
    assert 'id="hold-reason"' in page and "挂起：待料（卡箍缺货）" in page

    replica.holds.resume("job-1", "配件已到")
    client.sync()
    assert server.scalar("SELECT status FROM jobs WHERE id = 'job-1'") == "in_service"
    page = office.get(server.url + "/office/jobs/job-1", timeout=30).text
    assert 'id="hold-reason"' not in page and "恢复处理：配件已到" in page


def test_a_job_handed_back_is_reassigned_by_the_office(server: ServerProcess,
                                                       tmp_path: Path) -> None:
    replica, client = synced_tablet(server, tmp_path / "tablet")
    replica.holds.hand_back("job-2", "wrong_skill", "需要带压开孔设备")
    client.sync()
    assert server.scalar("SELECT status FROM jobs WHERE id = 'job-2'") == "returned"
    office = office_session(server, "dispatcher")
    page = office.get(server.url + "/office/jobs/job-2", timeout=30).text
    assert "退单：技能或工具不符（需要带压开孔设备）。请改派或取消。" in page
    boss = login(server, "dispatcher", "desk-1")
    resp = office.post(server.url + "/api/v1/office/jobs/job-2/assign", timeout=30,
                       headers=boss, json={"username": "tech02"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["job"] == {"id": "job-2", "number": "GD202611240002",
                                  "status": "dispatched", "assignee": "tech02"}
    history = server.query("SELECT from_status, to_status FROM job_status_history"
                           " WHERE job_id = 'job-2' ORDER BY at")
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        ("dispatched", "returned"), ("returned", "dispatched")]
    report = client.sync()
    assert "job-2" in report.left_jobs  # gone from the first technician's tablet


def test_holds_cannot_move_a_job_backwards_or_reassign_it(server: ServerProcess) -> None:
    tech = login(server, "tech01", "pad-1")
    server.query("UPDATE jobs SET status = 'in_service' WHERE id = 'job-1' RETURNING id")
    stale = push(server, tech, "pad-1", [mutation("jobs", "job-1", {"status": "accepted"})])
    [result] = stale.json()["results"]
    assert result["status"] == "rejected" and result["reason"] == "stale_transition"
    server.query("UPDATE jobs SET status = 'returned' WHERE id = 'job-2' RETURNING id")
    again = push(server, tech, "pad-1", [mutation("jobs", "job-2", {"status": "dispatched"})])
    [result] = again.json()["results"]
    assert result["status"] == "rejected"
    assert server.scalar("SELECT status FROM jobs WHERE id = 'job-2'") == "returned"
    odd = push(server, tech, "pad-1", [mutation("interactions", "i-x", {
        "job_id": "job-1", "customer_id": server.scalar(
            "SELECT customer_id FROM jobs WHERE id = 'job-1'"), "kind": "teleport",
        "text": "{}", "at": "2026-12-06T09:00:00+08:00", "by_user": "tech01",
        "device_id": "pad-1"}, op="insert")])
    assert odd.status_code in (200, 422), odd.text
    assert server.scalar("SELECT count(*) FROM interactions WHERE id = 'i-x'") == 0
