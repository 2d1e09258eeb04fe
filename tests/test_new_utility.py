"""A new utility from nothing to a synced inspection, as its IT department and its staff would
do it: `init`, customers imported from the billing system's export (bad rows reported, then
the good ones taken) and their bills, the staff list imported, a form published from the
office, a job created and dispatched over the office API, a real tablet replica doing the
inspection offline and syncing, the report in the back office and on the customer's desk
page, then a backup restored into a new folder whose audit chain verifies."""

from __future__ import annotations

import csv
import io
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
import requests

from fieldapp.local_time import LOCAL_ZONE
from fieldapp.replica import Replica
from fieldapp.sync.client import SyncClient
from tests.conftest import TEST_PG, ServerProcess
from tests.forms.test_xlsform_import import KITCHEN_CHOICES, KITCHEN_SETTINGS, KITCHEN_SURVEY, xlsx
from tests.server.operator import ADMIN_PASSWORD, run_import, run_init
from tests.server.test_audit_anchor import verify_cli
from tests.server.test_backup import cli
from tests.server.test_conflict_review import csrf, sign_in
from tests.world import complete_inspection

CUSTOMERS = 10_000
KITCHEN = xlsx(KITCHEN_SURVEY, KITCHEN_CHOICES, KITCHEN_SETTINGS)
STAFF_PASSWORD = "Erste-Schicht-1"


def billing_export(path: Path) -> Path:
    """10,000 customers with a meter each, as a GBK CSV, and three bad rows among them."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["户号", "户名", "联系电话", "用气地址", "营业区域", "人口", "表条码",
                     "安装日期"])
    for i in range(CUSTOMERS):
        district = ("江宁区", "溧水区")[i % 2]
        writer.writerow([f"32011{i:07d}", f"用户{i}", f"1390000{i:04d}",
                         f"{district} 天元路 {i} 号", district, 1 + i % 4, f"JN{i:010d}",
                         "2018-06-01"])
        if i in (100, 5000, 9000):
            writer.writerow(["", "无户号", "", "某路", district, 2, f"BAD{i:07d}", ""])
    path.write_bytes(out.getvalue().encode("gbk"))
    return path


@pytest.mark.skipif(bool(TEST_PG), reason="restores with SQLite's backup (the PG recipe is"
                    " tested in tests/server/test_backup.py)")
def test_a_new_utility_goes_live_and_its_first_inspection_comes_home(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "server")
    assert run_init(server, "--utility-name", "江宁燃气有限公司", "--district", "江宁区",
                    "--district", "溧水区", "--admin", "chief").returncode == 0

    export = billing_export(tmp_path / "营收导出.csv")
    dry = run_import(server, "customers", export, "--dry-run")
    assert dry.returncode == 1 and "3 行有问题" in dry.stdout
    assert "第 103 行「户号」：缺少户号" in dry.stdout  # header, 101 customers, then the bad row
    took = run_import(server, "customers", export, "--good-rows")
    assert took.returncode == 0 and f"新客户 {CUSTOMERS}" in took.stdout, took.stdout

    staff = tmp_path / "人员.csv"
    staff.write_text("工号,姓名,角色,营业区域,技能,初始密码\n"
                     f"wang01,王建国,安检员,江宁区,安检,{STAFF_PASSWORD}\n"
                     f"zhao,赵敏,调度员,江宁区,,{STAFF_PASSWORD}\n", encoding="utf-8")
    assert run_import(server, "accounts", staff).returncode == 0
    bills = tmp_path / "账单.csv"
    bills.write_text("户号,起始日期,截止日期,应缴金额,缴费状态\n"
                     "320110000000,2026-09-01,2026-09-30,88.80,未缴\n", encoding="utf-8")
    assert "账单：新增 1" in run_import(server, "bills", bills).stdout

    server.start()
    try:
        chief = requests.Session()
        assert sign_in(chief, server.url, "chief", ADMIN_PASSWORD, "/office/forms"
                       ).status_code == 200
        preview = chief.post(server.url + "/office/forms", timeout=30, data={
            "csrf": csrf(chief.get(server.url + "/office/forms", timeout=10).text)},
            files={"file": ("后厨检查.xlsx", KITCHEN)})
        published = chief.post(preview.url + "/publish", timeout=30, data={
            "code": "commercial_kitchen", "csrf": csrf(preview.text)})
        assert "已发布 commercial_kitchen 第 1 版" in published.text
        office = requests.post(server.url + "/api/v1/auth/login", timeout=10, json={
            "username": "zhao", "password": STAFF_PASSWORD, "device_id": "desk-1"}).json()
        headers = {"Authorization": f"Bearer {office['token']}"}
        due = datetime.now(LOCAL_ZONE).replace(hour=23, minute=0).isoformat()
        job = requests.post(server.url + "/api/v1/office/jobs", headers=headers, timeout=10,
                            json={"kind": "inspection", "customer": "320110000000",
                                  "due_at": due, "summary": "年度入户安检"})
        assert job.status_code == 201, job.text
        job_id = job.json()["id"]
        assigned = requests.post(f"{server.url}/api/v1/office/jobs/{job_id}/assign",
                                 headers=headers, timeout=10, json={"username": "wang01"})
        assert assigned.status_code == 200, assigned.text

        tablet = Replica.open(tmp_path / "tablet")
        client = SyncClient(tablet, server.url)
        client.login("wang01", STAFF_PASSWORD)
        client.sync()
        assert [j["id"] for j in tablet.jobs.today()] == [job_id]
        assert tablet.submissions.definition("commercial_kitchen")["version"] == 1
        assert tablet.customers.view360(tablet.jobs.get(job_id)["customer_id"])["meters"]
        server.stop()  # the basement: no network
        complete_inspection(tablet, job_id, tmp_path / "hose.jpg")
        server.start()
        report = client.sync()
        tablet.close()
        assert report.uploaded_files >= 2 and "conflict" not in report.pushed
        assert server.scalar("SELECT status FROM jobs WHERE id = ?", [job_id]) == "completed"
        number = server.scalar("SELECT number FROM jobs WHERE id = ?", [job_id])
        desk = requests.Session()
        listed = sign_in(desk, server.url, "chief", ADMIN_PASSWORD, "/office/")
        assert listed.status_code == 200 and number in listed.text, listed.text[:500]
        sub_id = server.scalar("SELECT id FROM submissions WHERE job_id = ?", [job_id])
        shown = desk.get(f"{server.url}/office/reports/{sub_id}", timeout=10)
        assert shown.status_code == 200 and "用户0" in shown.text  # the imported customer
        pdf = desk.get(f"{server.url}/office/reports/{sub_id}/report.pdf", timeout=30)
        assert pdf.status_code == 200
        text = subprocess.run(["pdftotext", "-", "-"], input=pdf.content, capture_output=True,
                              check=True, timeout=60).stdout.decode()
        assert "江宁燃气有限公司" in text and "320110000000" in text  # its name, from init
        customer_id = server.scalar("SELECT customer_id FROM jobs WHERE id = ?", [job_id])
        page = desk.get(f"{server.url}/office/desk/{customer_id}", timeout=10).text
        assert number in page and "欠费 88.80 元" in page  # the call centre sees it all
    finally:
        server.stop()

    backup = cli("backup", "--data", str(server.data_dir), "--to", str(tmp_path / "backup"))
    assert backup.returncode == 0, backup.stderr
    restored = cli("restore", "--from", str(tmp_path / "backup"), "--data", str(tmp_path / "new"))
    assert restored.returncode == 0, restored.stderr
    checked = verify_cli(ServerProcess(tmp_path / "new"))
    assert checked.returncode == 0, checked.stdout
