"""经营指标 from the synced data: handling time, first-time fix, satisfaction, coverage,
rectification, load and overdue jobs, for a period and a district; the page and its CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from fieldapp.forms import signed_content
from fieldapp.ids import new_id
from fieldapp.local_time import now_iso
from sync_server.services import kpis, time_limits
from sync_server.services.auth import Principal
from sync_server.services.records import insert_records
from sync_server.storage.db import Storage
from tests.conftest import ServerProcess, synced_tablet
from tests.reports.reportkit import repair_done
from tests.server.test_conflict_review import office_session
from tests.server.test_rules import TECH01, TECH02, at, push
from tests.world import complete_inspection


def move(db: Storage, who: Principal, job_id: str, *statuses: str) -> None:
    """A tablet's status changes with their history rows, as ``jobs.transition`` writes them."""
    customer = {"job-1": "cust-1", "job-3": "cust-3"}[job_id]
    with db.read() as conn:
        current = conn.execute("SELECT status FROM jobs WHERE id = ?", [job_id]).fetchone()[0]
    for status in statuses:
        push(db, who, "jobs", job_id, {"status": status})
        push(db, who, "job_status_history", "h-" + new_id(), {
            "job_id": job_id, "customer_id": customer, "from_status": current,
            "to_status": status, "at": now_iso(), "by_user": who.username,
            "device_id": who.device_id}, op="insert")
        current = status


def repair_report(db: Storage, answers: dict[str, Any]) -> None:
    """tech02's submitted repair report for job-3, as its tablet pushes it: the draft, its
    answers, the customer's signature over them, then the submit."""
    sub = "sub-" + new_id()
    push(db, TECH02, "submissions", sub, {
        "job_id": "job-3", "customer_id": "cust-3", "form_code": "repair_report",
        "form_version": 1, "state": "draft", "started_at": now_iso(),
        "submitted_at": None, "by_user": "tech02", "device_id": "pad-2"}, op="insert")
    for question, value in answers.items():
        push(db, TECH02, "answers", "ans-" + new_id(), {
            "submission_id": sub, "job_id": "job-3", "customer_id": "cust-3",
            "question": question, "value": json.dumps(value), "note": None,
            "answered_at": now_iso(), "by_user": "tech02", "device_id": "pad-2"}, op="insert")
    signed_at = now_iso()
    with db.read() as conn:
        bound = signed_content.content_hash(
            lambda sql, params: [dict(r) for r in conn.execute(sql, list(params))], sub,
            signed_at)
    with db.write() as conn:  # the signature's image is beside the point here: no upload
        insert_records(conn, "signatures", [{
            "id": "sig-" + new_id(), "job_id": "job-3", "customer_id": "cust-3",
            "attachment_id": "att-" + new_id(), "signer_name": "户主", "strokes": "[]",
            "signed_at": signed_at, "by_user": "tech02", "device_id": "pad-2",
            "content_hash": bound}], "tech02")
    push(db, TECH02, "submissions", sub, {"state": "submitted", "submitted_at": now_iso()})


def hazard(db: Storage, status: str) -> None:
    push(db, TECH01, "hazards", "hz-" + new_id(), {
        "job_id": "job-1", "customer_id": "cust-1", "submission_id": None, "notice_id": None,
        "question": "hose_age", "label": "软管老化", "level": "serious", "deadline_days": 7,
        "due_at": at(9, day=7).isoformat(), "note": None, "status": status,
        "check_job_id": None, "found_at": now_iso(), "by_user": "tech01",
        "device_id": "pad-1"}, op="insert")


def period(district: str = "") -> kpis.Period:
    today = at(12).date()
    return kpis.Period(today - timedelta(days=6), today, district)


def test_the_figures_follow_the_work_done(db: Storage) -> None:
    move(db, TECH01, "job-1", "accepted", "in_service")
    hazard(db, "open")
    hazard(db, "rectified")
    move(db, TECH01, "job-1", "completed")
    move(db, TECH02, "job-3", "accepted", "in_service")
    repair_report(db, {"fixed": "yes", "satisfaction": 4})
    move(db, TECH02, "job-3", "completed")

    with db.read() as conn:
        f = kpis.figures(conn, period(), at(23))
    assert f.completed == 2
    # pushed one after another: service started moments before completion
    assert f.handling_minutes is not None and 0 <= f.handling_minutes < 5
    assert (f.first_time_fix, f.repairs, f.satisfaction, f.ratings) == (1.0, 1, 4.0, 1)
    assert (f.hazards_found, f.hazards_rectified, f.rectification_rate) == (2, 1, 0.5)
    assert {c["district"]: (c["households"], c["inspected"]) for c in f.coverage} == {
        "秦淮区": (2, 1), "鼓楼区": (1, 0)}
    assert [j["id"] for j in f.overdue] == ["job-2"]  # due at 11, still dispatched at 23
    load = {t["username"]: (t["open"], t["completed"]) for t in f.load}
    assert load["tech01"] == (1, 1) and load["tech02"] == (0, 1)

    with db.read() as conn:
        gulou = kpis.figures(conn, period("鼓楼区"), at(23))
        earlier = kpis.figures(conn, kpis.Period(period().since - timedelta(days=30),
                                                 period().since - timedelta(days=1)), at(23))
    assert (gulou.completed, gulou.hazards_found, gulou.overdue) == (1, 0, [])
    assert [c["district"] for c in gulou.coverage] == ["鼓楼区"]
    assert set(t["username"] for t in gulou.load) == {"tech02"}
    assert (earlier.completed, earlier.hazards_found, earlier.handling_minutes) == (0, 0, None)


def test_a_repair_not_fixed_and_a_low_rating_count(db: Storage) -> None:
    move(db, TECH02, "job-3", "accepted", "in_service")
    repair_report(db, {"fixed": "no", "satisfaction": 2})
    move(db, TECH02, "job-3", "completed")
    with db.read() as conn:
        f = kpis.figures(conn, period(), at(23))
    assert (f.first_time_fix, f.satisfaction) == (0.0, 2.0)


def test_the_dashboard_and_its_csv(server: ServerProcess, tmp_path: Path) -> None:
    tech01, client01 = synced_tablet(server, tmp_path / "tech01")
    complete_inspection(tech01, "job-1", tmp_path / "photo.jpg")
    client01.sync()
    tech02, client02 = synced_tablet(server, tmp_path / "tech02", "tech02")
    repair_done(tech02, "job-3", tmp_path)
    client02.sync()

    office = office_session(server, "supervisor")
    page = office.get(f"{server.url}/office/kpis", timeout=10).text
    assert 'id="kpi-ftf"><b>100%</b>' in page
    assert 'id="kpi-satisfaction"><b>4.0</b>' in page
    assert 'id="chart-coverage"' in page and "<rect" in page
    assert "完成 2 单" in page
    wrong = office.get(f"{server.url}/office/kpis", timeout=10,
                       params={"since": "昨天"}).text
    assert "日期格式应为" in wrong

    exported = office.get(f"{server.url}/office/kpis.csv", timeout=10,
                          params={"district": "秦淮区"})
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][2:] == ["区域", "秦淮区"]
    figures = {r[0]: r[1] for r in rows if len(r) >= 2}
    assert figures["完成工单"] == "1" and figures["秦淮区"] == "2"


def test_handling_time_runs_from_the_start_of_service(db: Storage) -> None:
    start = at(10)
    for n, (before, after, minutes) in enumerate([("dispatched", "accepted", -30),
                                                  ("accepted", "in_service", 0),
                                                  ("in_service", "completed", 45)]):
        push(db, TECH02, "jobs", "job-3", {"status": after})
        push(db, TECH02, "job_status_history", f"h-{n}", {
            "job_id": "job-3", "customer_id": "cust-3", "from_status": before,
            "to_status": after, "at": (start + timedelta(minutes=minutes)).isoformat(),
            "by_user": "tech02", "device_id": "pad-2"}, op="insert")
    with db.read() as conn:
        f = kpis.figures(conn, period(), at(23))
    assert (f.completed, f.handling_minutes) == (1, 45.0)


def test_handling_time_leaves_out_the_time_on_hold(db: Storage) -> None:
    """In service 10 min, on hold waiting for parts 60 min, then 20 min more: 30 min."""
    start = at(10)
    steps = [("dispatched", "accepted", -30), ("accepted", "in_service", 0),
             ("in_service", "suspended", 10), ("suspended", "in_service", 70),
             ("in_service", "completed", 90)]
    for n, (before, after, minutes) in enumerate(steps):
        push(db, TECH02, "jobs", "job-3", {"status": after})
        push(db, TECH02, "job_status_history", f"h-{n}", {
            "job_id": "job-3", "customer_id": "cust-3", "from_status": before,
            "to_status": after, "at": (start + timedelta(minutes=minutes)).isoformat(),
            "by_user": "tech02", "device_id": "pad-2"}, op="insert")
    with db.read() as conn:
        f = kpis.figures(conn, period(), at(23))
    assert (f.completed, f.handling_minutes) == (1, 30.0)


def test_emergency_response_runs_from_the_report_to_the_arrival(db: Storage) -> None:
    """Two leaks reported at 10:00: one reached in 30 minutes, one in 55; the shipped limits
    (派单 5 + 接单 5 + 到场 30) make the utility's target 40 minutes."""
    with db.write() as conn:
        time_limits.install_defaults(conn)
        insert_records(conn, "jobs", [{
            "id": f"leak-{n}", "number": f"WX-{n}", "kind": "repair", "priority": 1,
            "customer_id": "cust-3", "district": "鼓楼区", "due_at": at(12).isoformat(),
            "assignee": "tech02", "required_skill": "repair", "status": "accepted",
            "route_order": None, "summary": "燃气泄漏", "created_at": at(10).isoformat()}
            for n in (1, 2)])
    for n, minutes in ((1, 30), (2, 55)):
        for step, (before, after, offset) in enumerate(
                [("accepted", "in_service", minutes), ("in_service", "suspended", minutes + 5),
                 ("suspended", "in_service", minutes + 30)]):  # a second start: not an arrival
            push(db, TECH02, "job_status_history", f"leak-{n}-{step}", {
                "job_id": f"leak-{n}", "customer_id": "cust-3", "from_status": before,
                "to_status": after, "at": (at(10) + timedelta(minutes=offset)).isoformat(),
                "by_user": "tech02", "device_id": "pad-2"}, op="insert")
    with db.read() as conn:
        f = kpis.figures(conn, period(), at(23))
        elsewhere = kpis.figures(conn, period("秦淮区"), at(23))
    assert (f.emergencies, f.response_minutes, f.response_target, f.response_within) == (
        2, 42.5, 40, 0.5)
    assert (elsewhere.emergencies, elsewhere.response_minutes) == (0, None)
