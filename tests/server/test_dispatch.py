"""调度: creating jobs, the suggested technician and its reasons, assigning and reassigning,
auto-dispatch with emergencies first; on the server's own storage (SQLite or PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from fieldapp.local_time import LOCAL_ZONE
from sync_server.clock import ServerClock
from sync_server.errors import ApiError
from sync_server.services import auth, dispatch
from sync_server.services.auth import Principal
from sync_server.storage.db import Storage
from tests.world import PASSWORD

DISPATCHER = Principal("dispatcher", "赵敏", "dispatcher", None, "web-test")
def today(hour: int, minute: int = 0) -> str:
    """A time today as a dispatcher types it: the world's jobs are due today too."""
    return datetime.now(LOCAL_ZONE).replace(hour=hour, minute=minute).strftime(
        "%Y-%m-%d %H:%M")


DUE = today(15, 30)


def new_job(db: Storage, **fields: Any) -> str:
    with db.write() as conn:
        return dispatch.create_job(conn, DISPATCHER, ServerClock(), {
            "kind": "inspection", "customer": "320100000001", "due_at": DUE, **fields})


def job(db: Storage, job_id: str) -> dict[str, Any]:
    with db.read() as conn:
        return dispatch.job_row(conn, job_id)


def add_technician(db: Storage, username: str, district: str, skills: list[str]) -> None:
    with db.write() as conn:
        auth.add_user(conn, username, f"技师{username[-2:]}", "technician", PASSWORD,
                      district, skills)


def test_a_new_job_is_pending_numbered_and_logged_for_the_tablets(db: Storage) -> None:
    first, second = new_job(db, summary="年度入户安检"), new_job(db, priority=1)
    made = job(db, first)
    assert (made["status"], made["assignee"], made["district"], made["customer_id"]) == (
        "pending", None, "秦淮区", "cust-1")
    assert made["due_at"] == DUE.replace(" ", "T") + ":00+08:00"  # in the utility's zone
    assert made["number"][:2] == "GD" and int(job(db, second)["number"][-4:]) == \
        int(made["number"][-4:]) + 1
    with db.read() as conn:
        logged = conn.execute("SELECT by_user FROM changes WHERE record_id = ?",
                              [first]).fetchall()
    assert [r[0] for r in logged] == ["dispatcher"]


def test_a_wrong_job_names_every_problem_and_writes_nothing(db: Storage) -> None:
    with db.read() as conn:
        before = conn.execute("SELECT count(*) FROM jobs").fetchone()[0]
    with pytest.raises(ApiError) as refused:
        new_job(db, kind="teleport", customer="999", priority="9", due_at="明天")
    assert refused.value.status == 422
    assert len(refused.value.detail) == 4
    assert any("teleport" in p for p in refused.value.detail)
    assert any("999" in p for p in refused.value.detail)
    with db.read() as conn:
        assert conn.execute("SELECT count(*) FROM jobs").fetchone()[0] == before


def test_the_suggestion_weighs_district_skill_load_and_distance(db: Storage) -> None:
    job_id = new_job(db)
    with db.read() as conn:
        only = dispatch.suggest(conn, job_id)
    # tech01 is the only inspector in 秦淮区, even with two jobs in hand
    assert only.username == "tech01"
    assert "秦淮区" in only.explanation and "当天在手 2 单" in only.explanation

    add_technician(db, "tech03", "秦淮区", ["inspection"])
    add_technician(db, "tech04", "秦淮区", ["repair"])
    with db.read() as conn:
        lighter = dispatch.suggest(conn, job_id)
    assert lighter.username == "tech03"  # same district, fewer jobs, skill matches
    assert [c.username for c in lighter.candidates] == ["tech03", "tech01"]
    assert "当天在手 0 单（候选人中最少）" in lighter.explanation

    tomorrow = new_job(db, due_at=(datetime.now(LOCAL_ZONE) + timedelta(days=1)).strftime(
        "%Y-%m-%d 09:00"))
    with db.read() as conn:  # a busy today does not count against tomorrow
        assert [c.load for c in dispatch.suggest(conn, tomorrow).candidates] == [0, 0]


def test_nearer_wins_between_equal_loads(db: Storage) -> None:
    add_technician(db, "tech03", "秦淮区", ["inspection"])
    add_technician(db, "tech04", "秦淮区", ["inspection"])
    with db.write() as conn:  # one job each: tech03 at cust-2 nearby, tech04 at cust-3 afar
        conn.execute("UPDATE jobs SET assignee = 'tech03' WHERE id = 'job-2'")
        conn.execute("UPDATE jobs SET assignee = 'tech04' WHERE id = 'job-3'")
        conn.execute("UPDATE users SET district = '鼓楼区' WHERE username = 'tech01'")
    job_id = new_job(db)  # at cust-1, 32.02 118.80: cust-2 is about 1 km away
    with db.read() as conn:
        pick = dispatch.suggest(conn, job_id)
    assert pick.username == "tech03"
    assert "同等负荷中最近" in pick.explanation and "km" in pick.explanation


def test_nobody_with_the_skill_is_said_so(db: Storage) -> None:
    job_id = new_job(db, kind="installation")
    with db.read() as conn:
        pick = dispatch.suggest(conn, job_id)
    assert pick.username is None and "安装" in pick.explanation


def test_assigning_dispatches_reassigning_moves_an_unaccepted_job_only(db: Storage) -> None:
    job_id = new_job(db)
    clock = ServerClock()
    with db.write() as conn:
        dispatch.assign(conn, DISPATCHER, clock, job_id, "tech01", "调度员手动指派")
    assigned = job(db, job_id)
    assert (assigned["status"], assigned["assignee"]) == ("dispatched", "tech01")
    with db.write() as conn:
        dispatch.assign(conn, DISPATCHER, clock, job_id, "tech02", "改派：王建国请假")
        history = conn.execute("SELECT from_status, to_status FROM job_status_history"
                               " WHERE job_id = ?", [job_id]).fetchall()
        log = conn.execute("SELECT assignee, previous, explanation FROM dispatch_log"
                           " WHERE job_id = ? ORDER BY id", [job_id]).fetchall()
    assert [tuple(r) for r in history] == [("pending", "dispatched")]
    assert [tuple(r) for r in log] == [("tech01", None, "调度员手动指派"),
                                       ("tech02", "tech01", "改派：王建国请假")]
    assert job(db, job_id)["assignee"] == "tech02"

    with db.write() as conn:
        conn.execute("UPDATE jobs SET status = 'accepted' WHERE id = ?", [job_id])
    for who in ("tech01", "dispatcher"):
        with pytest.raises(ApiError) as refused, db.write() as conn:
            dispatch.assign(conn, DISPATCHER, clock, job_id, who, "")
        assert refused.value.code in ("not_assignable", "not_a_technician")
    assert job(db, job_id)["assignee"] == "tech02"


def test_auto_dispatch_sends_emergencies_first_and_spreads_the_load(db: Storage) -> None:
    add_technician(db, "tech03", "秦淮区", ["inspection", "repair"])
    normal = new_job(db, due_at=today(8))
    leak = new_job(db, kind="repair", priority=1, due_at=today(12),
                   summary="厨房有燃气味")
    third = new_job(db, due_at=today(10))
    nobody = new_job(db, kind="meter_reading", due_at=today(11))
    with db.write() as conn:
        decided = dispatch.auto_dispatch(conn, DISPATCHER, ServerClock())
    assert [j["id"] for j, _ in decided] == [leak, normal, third, nobody]
    assert [pick.username for _, pick in decided] == ["tech03", "tech03", "tech01", None]
    assert job(db, leak)["status"] == "dispatched"
    assert job(db, nobody)["status"] == "pending"
    with db.read() as conn:
        auto = conn.execute("SELECT count(*) FROM dispatch_log WHERE auto = 1").fetchone()[0]
    assert auto == 3


def test_an_emergency_goes_to_the_nearest_even_if_busier(db: Storage) -> None:
    add_technician(db, "tech03", "秦淮区", ["inspection", "repair"])
    add_technician(db, "tech04", "秦淮区", ["repair"])
    with db.write() as conn:  # tech03 works at cust-1 with two jobs, tech04 afar with none
        conn.execute("UPDATE jobs SET assignee = 'tech03', kind = 'repair' WHERE id IN"
                     " ('job-1', 'job-2')")
        conn.execute("UPDATE jobs SET status = 'in_service' WHERE id = 'job-1'")
        conn.execute("UPDATE jobs SET assignee = 'tech04', status = 'completed'"
                     " WHERE id = 'job-3'")
    leak = new_job(db, kind="repair", priority=1, summary="燃气泄漏")
    routine = new_job(db, kind="repair", priority=3)
    with db.read() as conn:
        urgent, normal = dispatch.suggest(conn, leak), dispatch.suggest(conn, routine)
    assert urgent.username == "tech03" and "紧急工单，就近派出" in urgent.explanation
    assert normal.username == "tech04"  # no hurry: the one with nothing to do
