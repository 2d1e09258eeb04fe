"""审计日志: a tablet's and the office's changes with who, device and when, filtered by job
number, user and day, page by page, and exported as CSV that Excel reads."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from pathlib import Path

from fieldapp.local_time import LOCAL_ZONE, now_iso
from tests.conftest import ServerProcess, synced_tablet
from tests.server.test_conflict_review import office_session
from tests.server.test_sync_api import login, mutation, push


def test_the_log_shows_who_changed_what_and_exports_it(server: ServerProcess, tmp_path: Path):
    replica, client = synced_tablet(server, tmp_path / "tablet")
    replica.jobs.transition("job-1", "accepted")
    client.sync()

    office = office_session(server, "supervisor")
    page = office.get(f"{server.url}/office/audit", timeout=10,
                      params={"record": "GD202611240001"}).text
    assert "status → accepted" in page and "tech01" in page
    assert page.count("<tr>") == 2 + 1  # header, the seeded job, the tablet's change
    by_user = office.get(f"{server.url}/office/audit", timeout=10,
                         params={"user": "tech01", "table": "jobs"}).text
    assert "status → accepted" in by_user and "seed" not in by_user
    today = datetime.now(LOCAL_ZONE).date().isoformat()
    none = office.get(f"{server.url}/office/audit", timeout=10,
                      params={"user": "tech01", "until": "2020-01-01"}).text
    assert "没有符合条件的变更" in none

    exported = office.get(f"{server.url}/office/audit.csv", timeout=10,
                          params={"user": "tech01", "since": today})
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["序号", "服务器时间", "设备时间", "用户"]
    assert {r[3] for r in rows[1:]} == {"tech01"}
    assert any(r[5] == "工单" and r[7] == "修改" and '"accepted"' in r[8] for r in rows[1:])


def test_the_log_pages_back(server: ServerProcess):
    tech = login(server, "tech01", "pad-1")
    scans = [mutation("scans", f"scan-{i}", {
        "job_id": "job-1", "customer_id": "cust-1", "code": f"GM{i:010d}", "symbology": "CODE128",
        "meter_id": None, "matched_customer_id": None, "source": "manual",
        "scanned_at": now_iso(), "by_user": "tech01", "device_id": "pad-1"}, op="insert")
        for i in range(120)]
    assert push(server, tech, "pad-1", scans).status_code == 200
    office = office_session(server, "dispatcher")
    first = office.get(f"{server.url}/office/audit", timeout=10, params={"table": "scans"}).text
    assert first.count("GM0000000119") == 1 and "GM0000000000" not in first
    older = re.search(r'href="([^"]+)" id="older"', first)[1].replace("&amp;", "&")
    second = office.get(server.url + older, timeout=10).text
    assert "GM0000000000" in second and "GM0000000119" not in second
    assert 'id="older"' not in second
