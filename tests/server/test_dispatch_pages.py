"""调度中心 over HTTP: a dispatcher creates a job on the page, takes the suggestion, and the
technician's tablet has it after its next sync; CSV import is all or nothing; the JSON API
answers dispatchers only."""

from __future__ import annotations

from pathlib import Path

import requests

from tests.conftest import ServerProcess, synced_tablet
from tests.server.test_conflict_review import csrf, office_session
from tests.server.test_sync_api import login


def new_job_form(office: requests.Session, server: ServerProcess, **fields: str
                 ) -> requests.Response:
    page = office.get(f"{server.url}/office/jobs/new", timeout=10).text
    return office.post(f"{server.url}/office/jobs", timeout=30, data={
        "csrf": csrf(page), "kind": "inspection", "customer": "320100000002", "priority": "2",
        "due_at": "2026-12-01T09:30", "summary": "用户来电预约安检", **fields})


def test_a_job_created_and_dispatched_on_the_page_reaches_the_tablet(server: ServerProcess,
                                                                     tmp_path: Path):
    replica, client = synced_tablet(server, tmp_path / "tablet")
    office = office_session(server, "dispatcher")
    board = office.get(f"{server.url}/office/dispatch", timeout=10).text
    for column in ("待受理", "已派单", "服务中", "已完成", "已回访"):
        assert column in board

    created = new_job_form(office, server)
    assert created.status_code == 200 and "/office/jobs/" in created.url
    page = created.text
    assert "工单已创建" in page and "待受理" in page
    assert "建议指派给 王建国：秦淮区，具备“安检”技能" in page
    job_id = created.url.split("/office/jobs/")[1].split("?")[0]

    done = office.post(f"{server.url}/office/jobs/{job_id}/assign", timeout=30,
                       data={"csrf": csrf(page), "username": "tech01"})
    assert done.status_code == 200
    assert "采纳系统建议" in done.text and 'id="assignee">tech01' in done.text
    assert "已派单" in office.get(f"{server.url}/office/dispatch", timeout=10).text

    client.sync()
    on_tablet = replica.get("jobs", job_id)
    assert (on_tablet["status"], on_tablet["assignee"], on_tablet["priority"]) == (
        "dispatched", "tech01", 2)
    assert on_tablet["summary"] == "用户来电预约安检"
    assert [h["to_status"] for h in replica.jobs.history(job_id)] == ["dispatched"]


def test_a_wrong_job_form_comes_back_with_the_problems(server: ServerProcess):
    office = office_session(server, "dispatcher")
    before = server.scalar("SELECT count(*) FROM jobs")
    refused = new_job_form(office, server, customer="000", due_at="")
    assert refused.status_code == 422
    assert "没有客户 000" in refused.text and "预约时间格式" in refused.text
    assert 'value="用户来电预约安检"' in refused.text  # what was typed is kept
    assert server.scalar("SELECT count(*) FROM jobs") == before


def test_csv_import_is_all_or_nothing(server: ServerProcess):
    office = office_session(server, "dispatcher")
    token = csrf(office.get(f"{server.url}/office/jobs/new", timeout=10).text)
    before = server.scalar("SELECT count(*) FROM jobs")
    header = "kind,customer,priority,due_at,summary\n"
    bad = (header + "inspection,320100000001,3,2026-12-02 09:00,年度安检\n"
           "repair,320100009999,1,2026-12-02 10:00,漏气\n")
    refused = office.post(f"{server.url}/office/jobs/import", timeout=30, data={"csrf": token},
                          files={"file": ("jobs.csv", bad.encode("utf-8-sig"), "text/csv")})
    assert refused.status_code == 422 and "第 3 行：没有客户 320100009999" in refused.text
    assert server.scalar("SELECT count(*) FROM jobs") == before

    gbk = office.post(f"{server.url}/office/jobs/import", timeout=30, data={"csrf": token},
                      files={"file": ("jobs.csv", bad.encode("gbk"), "text/csv")})
    assert gbk.status_code == 422 and "CSV UTF-8" in gbk.text

    good = (header + "inspection,320100000001,3,2026-12-02 09:00,年度安检\n"
            "repair,320100000003,1,2026-12-02 10:00,漏气\n")
    imported = office.post(f"{server.url}/office/jobs/import", timeout=30, data={"csrf": token},
                           files={"file": ("jobs.csv", good.encode("utf-8-sig"), "text/csv")})
    assert imported.status_code == 200 and "已导入 2 个工单" in imported.text
    assert server.scalar("SELECT count(*) FROM jobs WHERE status = 'pending'") == 2


def test_the_dispatch_api_is_for_the_office(server: ServerProcess):
    office = login(server, "dispatcher", "hotline-1")
    tech = login(server, "tech01", "pad-1")
    body = {"kind": "repair", "customer": "320100000003", "priority": 1,
            "due_at": "2026-12-01T10:00:00+08:00", "summary": "表前阀漏气"}
    for headers, expected in (({}, 401), (tech, 403)):
        assert requests.post(f"{server.url}/api/v1/office/jobs", json=body, headers=headers,
                             timeout=10).status_code == expected
    made = requests.post(f"{server.url}/api/v1/office/jobs", json=body, headers=office,
                         timeout=10)
    assert made.status_code == 201, made.text
    job = made.json()
    assert (job["status"], job["assignee"]) == ("pending", None)
    wrong = requests.post(f"{server.url}/api/v1/office/jobs", headers=office, timeout=10,
                          json={**body, "priority": 7})
    assert wrong.status_code == 422 and wrong.json()["error"] == "malformed_request"

    auto = requests.post(f"{server.url}/api/v1/office/dispatch/auto", headers=office,
                         timeout=30)
    assert auto.status_code == 200
    [decided] = auto.json()["unassigned"]  # nobody in the test world repairs
    assert decided["job"]["id"] == job["id"] and "维修" in decided["explanation"]
    assigned = requests.post(f"{server.url}/api/v1/office/jobs/{job['id']}/assign",
                             headers=office, json={"username": "tech02"}, timeout=10)
    assert assigned.status_code == 200
    assert assigned.json()["job"]["assignee"] == "tech02"
    assert "手动指派" in assigned.json()["explanation"]
    listed = requests.get(f"{server.url}/api/v1/office/jobs?status=dispatched",
                          headers=office, timeout=10).json()
    assert job["id"] in {j["id"] for j in listed}
    assert "/api/v1/office/jobs" in requests.get(f"{server.url}/openapi.json",
                                                 timeout=10).json()["paths"]


def test_the_map_shows_the_jobs_as_links(server: ServerProcess):
    office = office_session(server, "dispatcher")
    page = office.get(f"{server.url}/office/dispatch/map", timeout=10).text
    assert page.count("<circle") == 3  # the world's three open jobs
    assert 'href="/office/jobs/job-1"' in page and "<title>GD202611240001 安检" in page
    gulou = office.get(f"{server.url}/office/dispatch/map", params={"district": "鼓楼区"},
                       timeout=10).text
    assert gulou.count("<circle") == 1 and 'href="/office/jobs/job-3"' in gulou
