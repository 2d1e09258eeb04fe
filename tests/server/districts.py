"""Two districts' worth of office objects for district-scope tests: accounts limited to
秦淮区 (cust-1, cust-2, job-1, job-2), and for 鼓楼区 (cust-3, job-3) one object of every kind
an office route takes by id — a submission with its photo, a conflict (a new row naming its
customer and an old one that does not), a follow-up task, a bill, an alert, a part request,
a tablet — made the way the server makes them, or written as the server writes them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from PIL import Image

from sync_server.clock import ServerClock
from sync_server.services import alerts, auth, billing
from sync_server.services.records import insert_records
from sync_server.storage.db import open_database, utc_now
from tests.conftest import ServerProcess, synced_tablet
from tests.server.test_sync_api import login
from tests.world import PASSWORD, answer_checklist

SCOPED = {"qh_dispatch": ("秦淮调度", "dispatcher"), "qh_super": ("秦淮主管", "supervisor")}
HOME, OTHER = "秦淮区", "鼓楼区"
OTHER_NAME, OTHER_PHONE = "周强", "13700002222"  # cust-3: must never reach a 秦淮区 account


def add_scoped_accounts(server: ServerProcess) -> None:
    db = open_database(server.data_dir, server.database_url)
    try:
        with db.write() as conn:
            for username, (name, role) in SCOPED.items():
                auth.add_user(conn, username, name, role, PASSWORD, HOME)
    finally:
        db.close()


def add_conflict(conn: object, tbl: str, record_id: str, customer_id: str | None,
                 field: str = "summary", reason: str = "kept_server_value",
                 resolved: bool = False) -> int:
    """A conflict row as conflict_rows.preserve writes it (``customer_id`` None: a row from
    before migration 18, whose customer is derived from its record)."""
    return conn.execute(  # type: ignore[attr-defined]
        "INSERT INTO conflicts(tbl, record_id, field, reason, kept, preserved, preserved_hlc,"
        " preserved_by, preserved_device, mutation_id, at, customer_id, resolved_at,"
        " resolved_by, resolution) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
        [tbl, record_id, field, reason, json.dumps("年度入户安检"), json.dumps("设备上的值"),
         None, "tech02", "pad-2", None, utc_now(), customer_id,
         utc_now() if resolved else None, "admin" if resolved else None,
         json.dumps({"choice": "current", "value": "x", "mutation_id": None})
         if resolved else None]).fetchone()[0]


@dataclass
class Objects:
    """The ids of 鼓楼区's objects (``other``) and 秦淮区's (``home``) by kind."""
    other: dict[str, str]
    home: dict[str, str]


def two_districts(server: ServerProcess, tmp_path: Path) -> Objects:
    add_scoped_accounts(server)
    replica, client = synced_tablet(server, tmp_path / "tablet-gulou", "tech02")
    submission = answer_checklist(replica, "job-3", {"hose_age": "橡胶软管已龟裂"})
    replica.submissions.submit(submission)
    Image.new("RGB", (64, 48), (180, 90, 30)).save(tmp_path / "gulou.jpg")
    replica.evidence.add_photo("job-3", tmp_path / "gulou.jpg", question="hose_age")
    client.sync()
    replica.close()
    sha256 = server.scalar("SELECT sha256 FROM attachments WHERE job_id = 'job-3'"
                           " AND kind = 'photo'")
    device = server.scalar("SELECT device_id FROM devices WHERE username = 'tech02'")
    login(server, "tech01", "pad-1")
    db = open_database(server.data_dir, server.database_url)
    ids: dict[str, dict[str, str]] = {}
    try:
        with db.write() as conn:  # the world's readings billed, every district's
            billing.set_billing_from(conn, date.today() - timedelta(days=90))
            billing.run(conn, billing.SYSTEM, ServerClock(), date.today())
            bills = {r["customer_id"]: r["id"] for r in conn.execute(
                "SELECT customer_id, min(id) AS id FROM bills GROUP BY customer_id")}
            for side, customer, job in (("other", "cust-3", "job-3"), ("home", "cust-1", "job-1")):
                conflict = add_conflict(conn, "jobs", job, customer)
                old = add_conflict(conn, "jobs", job, None)  # from before migration 18
                task = conn.execute(
                    "INSERT INTO tasks(kind, job_id, customer_id, title, due_at, created_at)"
                    " VALUES ('follow_up', ?, ?, ?, ?, ?) RETURNING id",
                    [job, customer, f"回访 {job}", utc_now(), utc_now()]).fetchone()[0]
                alerts.raise_alert(conn, "overdue", job, utc_now(), f"工单 {job} 已超过期限",
                                   job_id=job)
                alert = conn.execute("SELECT id FROM alerts WHERE subject = ?",
                                     [job]).fetchone()[0]
                insert_records(conn, "part_requests", [{
                    "id": f"part-{job}", "job_id": job, "customer_id": customer,
                    "part": "hose", "quantity": 1, "state": "requested",
                    "requested_at": utc_now(), "by_user": "tech02", "device_id": "pad-2"}])
                conn.execute("INSERT INTO notifications(channel, recipient, text, customer_id,"
                             " job_id, created_at) VALUES ('sms', ?, ?, ?, ?, ?)",
                             ["13700002222" if side == "other" else "13912345678",
                              f"尊敬的用户，工单 {job} 已完成", customer, job, utc_now()])
                ids[side] = {"job_id": job, "customer_id": customer,
                             "conflict_id": str(conflict), "old_conflict_id": str(old),
                             "task_id": str(task), "alert_id": str(alert),
                             "request_id": f"part-{job}", "bill_id": bills[customer]}
    finally:
        db.close()
    ids["other"].update({"submission_id": submission, "sha256": sha256, "device_id": device,
                         "username": "tech02"})
    ids["home"].update({"device_id": "pad-1", "username": "tech01"})
    return Objects(other=ids["other"], home=ids["home"])


def snapshot(server: ServerProcess) -> dict[str, list[dict]]:
    """What an office action on an object would change, to compare before and after."""
    return {
        "conflicts": server.query("SELECT id, resolved_at, resolution FROM conflicts"
                                  " ORDER BY id"),
        "tasks": server.query("SELECT id, done_at, outcome FROM tasks ORDER BY id"),
        "interactions": server.query("SELECT id, customer_id FROM interactions ORDER BY id"),
        "customers": server.query("SELECT id, phone, address, tags, version FROM customers"
                                  " ORDER BY id"),
        "alerts": server.query("SELECT id, acknowledged_at FROM alerts ORDER BY id"),
        "bills": server.query("SELECT id, status, version FROM bills ORDER BY id"),
        "revoked": server.query("SELECT device_id FROM devices WHERE revoked_at IS NOT NULL"
                                " ORDER BY device_id"),  # (signing in adds devices)
        "jobs": server.query("SELECT id, assignee, status, version FROM jobs ORDER BY id"),
        "parts": server.query("SELECT id, state, version FROM part_requests ORDER BY id"),
    }
