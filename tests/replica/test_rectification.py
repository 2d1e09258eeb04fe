"""Hazard → rectification on the tablet: a submitted inspection with failed items writes the
notice, one hazard per failed item and a check job per deadline, all offline and queued."""

from __future__ import annotations

from datetime import datetime, timedelta

from fieldapp.replica import Replica
from tests.world import answer_checklist


def inspect(replica: Replica, failures: dict[str, str]) -> str:
    return answer_checklist(replica, "job-1", failures)


def test_failed_items_make_a_notice_hazards_and_check_jobs(fresh_replica: Replica):
    sub_id = inspect(fresh_replica, {"hose_age": "橡胶软管已龟裂", "hose_clamps": "缺卡箍",
                                     "leak_test_joints": "表前阀接头漏气"})
    changes = fresh_replica.submissions.submit(sub_id)
    submitted = datetime.fromisoformat(fresh_replica.get("submissions", sub_id)["submitted_at"])

    [notice] = list(fresh_replica.db.query("SELECT * FROM rectification_notices"))
    assert (notice["job_id"], notice["submission_id"], notice["hazard_count"]) == (
        "job-1", sub_id, 3)
    assert datetime.fromisoformat(notice["deadline"]) == submitted + timedelta(days=1)
    hazards = fresh_replica.submissions.hazards("job-1")
    assert [(h["question"], h["level"], h["note"]) for h in hazards] == [
        ("leak_test_joints", "critical", "表前阀接头漏气"),
        ("hose_age", "serious", "橡胶软管已龟裂"),
        ("hose_clamps", "serious", "缺卡箍")]
    assert [datetime.fromisoformat(h["due_at"]) - submitted for h in hazards] == [
        timedelta(days=1), timedelta(days=7), timedelta(days=7)]
    assert {h["notice_id"] for h in hazards} == {notice["id"]}

    checks = list(fresh_replica.db.query(
        "SELECT * FROM jobs WHERE kind = 'rectification_check' ORDER BY due_at"))
    assert [(c["priority"], c["assignee"], c["status"], c["customer_id"]) for c in checks] == [
        (1, "tech01", "dispatched", "cust-1"), (2, "tech01", "dispatched", "cust-1")]
    assert [h["check_job_id"] for h in hazards] == [checks[0]["id"], checks[1]["id"],
                                                    checks[1]["id"]]
    assert checks[0]["number"].startswith("ZG") and "2 处隐患" in checks[1]["summary"]

    queued = {(r["tbl"], r["op"]) for r in fresh_replica.db.query("SELECT tbl, op FROM outbox")}
    assert {("rectification_notices", "insert"), ("hazards", "insert"),
            ("jobs", "insert")} <= queued
    assert changes.touches("hazards", "jobs", "rectification_notices")


def test_an_inspection_without_hazards_writes_none(fresh_replica: Replica):
    sub_id = inspect(fresh_replica, {})
    fresh_replica.submissions.submit(sub_id)
    assert fresh_replica.submissions.hazards("job-1") == []
    assert list(fresh_replica.db.query("SELECT id FROM rectification_notices")) == []
    assert list(fresh_replica.db.query(
        "SELECT id FROM jobs WHERE kind = 'rectification_check'")) == []
