"""超时预警: each step of a job has its limit per kind × priority; a breach alerts once and
climbs the escalation chain (dispatcher → supervisor → manager) by text until someone
acknowledges it; limits and chains that make no sense are refused in words, unchanged."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fieldapp.ids import new_id
from fieldapp.local_time import LOCAL_ZONE
from sync_server.clock import ServerClock
from sync_server.services import alerts, dispatch, escalation, time_limits
from sync_server.services.auth import Principal, add_user
from sync_server.storage.db import Storage
from tests.server.test_dispatch import DISPATCHER
from tests.server.test_dispatch import new_job as new_job_due_today

ADMIN = Principal("admin", "孙立", "admin", None, "web-admin")
SUPERVISOR = Principal("supervisor", "马国栋", "supervisor", None, "web-sup")


def created_at(db: Storage, job_id: str) -> datetime:
    with db.read() as conn:
        return datetime.fromisoformat(conn.execute(
            "SELECT created_at FROM jobs WHERE id = ?", [job_id]).fetchone()[0])


def new_job(db: Storage, **fields: Any) -> str:
    """A job due ten days from now: its deadline (an overdue alert of its own) never falls
    inside these tests' scans, whatever the time of day they run at."""
    due = (datetime.now(LOCAL_ZONE) + timedelta(days=10)).isoformat(timespec="seconds")
    return new_job_due_today(db, **{"due_at": due, **fields})


def scan(db: Storage, now: datetime) -> set[tuple[str, str]]:
    with db.write() as conn:
        alerts.scan(conn, now)
        return {(a.kind, a.job_id or "") for a in alerts.open_alerts(conn)}


def move(db: Storage, job_id: str, status: str, at: datetime) -> None:
    """A step the tablet synced: the job's status and its history row."""
    with db.write() as conn:
        row = conn.execute("SELECT status, customer_id FROM jobs WHERE id = ?",
                           [job_id]).fetchone()
        conn.execute("UPDATE jobs SET status = ? WHERE id = ?", [status, job_id])
        conn.execute("INSERT INTO job_status_history(id, job_id, customer_id, from_status,"
                     " to_status, at, by_user) VALUES (?, ?, ?, ?, ?, ?, 'tech01')",
                     [new_id(), job_id, row[1], row[0], status,
                      at.isoformat(timespec="seconds")])


@pytest.fixture
def shipped(db: Storage) -> Storage:
    with db.write() as conn:
        time_limits.install_defaults(conn)
        escalation.install_defaults(conn)
    return db


def test_an_emergency_not_dispatched_in_five_minutes_alerts_a_normal_job_does_not(
        shipped: Storage) -> None:
    leak, read = new_job(shipped, kind="repair", priority=1), new_job(shipped, priority=3)
    start = created_at(shipped, leak)
    assert ("not_dispatched", leak) not in scan(shipped, start + timedelta(minutes=4))
    raised = scan(shipped, start + timedelta(minutes=6))
    assert ("not_dispatched", leak) in raised and ("not_dispatched", read) not in raised
    with shipped.read() as conn:
        [message] = [a.message for a in alerts.open_alerts(conn)
                     if a.job_id == leak and a.kind == "not_dispatched"]
    assert "仍未派单" in message and "维修·紧急时限 5 分钟" in message
    assert ("not_dispatched", read) not in scan(shipped, start + timedelta(days=3))


def test_a_limit_set_for_a_kind_replaces_the_two_hours_only_there(shipped: Storage) -> None:
    with shipped.write() as conn:
        assert time_limits.save(conn, ADMIN, "repair", 3, {"accept": 30}, datetime.now(UTC)) \
            == []
    repair, inspection = new_job(shipped, kind="repair"), new_job(shipped)
    with shipped.write() as conn:
        for job_id in (repair, inspection):
            dispatch.assign(conn, DISPATCHER, ServerClock(), job_id, "tech01", "手动")
        sent = datetime.fromisoformat(conn.execute(
            "SELECT max(at) FROM dispatch_log WHERE job_id = ?", [repair]).fetchone()[0])
    half_hour = scan(shipped, sent + timedelta(minutes=31))
    assert ("not_accepted", repair) in half_hour and ("not_accepted", inspection) \
        not in half_hour
    assert ("not_accepted", inspection) in scan(shipped, sent + timedelta(hours=2, minutes=1))


def test_arriving_completing_and_following_up_are_watched_from_their_own_start(
        shipped: Storage) -> None:
    leak = new_job(shipped, kind="repair", priority=1)
    start = created_at(shipped, leak)
    with shipped.write() as conn:
        dispatch.assign(conn, DISPATCHER, ServerClock(), leak, "tech01", "手动")
        time_limits.save(conn, ADMIN, "repair", 1, {"dispatch": 5, "accept": 5, "arrive": 30,
                                                     "complete": 240, "follow_up": 60}, start)
    move(shipped, leak, "accepted", start + timedelta(minutes=3))
    assert ("not_arrived", leak) not in scan(shipped, start + timedelta(minutes=32))
    assert ("not_arrived", leak) in scan(shipped, start + timedelta(minutes=34))
    move(shipped, leak, "in_service", start + timedelta(minutes=40))
    move(shipped, leak, "completed", start + timedelta(minutes=200))
    later = scan(shipped, start + timedelta(minutes=250))
    assert ("not_completed", leak) not in later  # completed in time
    assert ("not_followed_up", leak) not in later
    assert ("not_followed_up", leak) in scan(shipped, start + timedelta(minutes=261))


def test_a_job_handed_back_waits_for_dispatch_from_then_one_on_hold_waits_for_nothing(
        shipped: Storage) -> None:
    leak, held = new_job(shipped, kind="repair", priority=1), new_job(shipped, kind="repair",
                                                                      priority=1)
    start = created_at(shipped, leak)
    with shipped.write() as conn:
        for job_id in (leak, held):
            dispatch.assign(conn, DISPATCHER, ServerClock(), job_id, "tech01", "手动")
        time_limits.save(conn, ADMIN, "repair", 1, {"dispatch": 5, "accept": 5, "arrive": 30,
                                                     "complete": 240}, start)
    for job_id in (leak, held):
        move(shipped, job_id, "accepted", start + timedelta(minutes=2))
    move(shipped, leak, "returned", start + timedelta(minutes=20))  # 退单
    move(shipped, held, "suspended", start + timedelta(minutes=20))  # 挂起: waiting for parts
    soon = scan(shipped, start + timedelta(minutes=24))
    assert ("not_dispatched", leak) not in soon  # back 4 minutes ago, not since its creation
    later = scan(shipped, start + timedelta(minutes=26))
    assert ("not_dispatched", leak) in later
    assert not {kind for kind, job in scan(shipped, start + timedelta(minutes=300))
                if job == held}  # on hold: no step runs, not even completion


@pytest.mark.parametrize(("values", "problem"), [
    ({"accept": -5}, "接单时限应大于 0 分钟"),
    ({"arrive": 0}, "到场时限应大于 0 分钟"),
    ({"complete": 50_000}, "完工时限超过 30 天"),
    ({"dispatch": 60, "accept": 200, "complete": 240}, "接单不能晚于完工"),
    ({"arrive": 300, "complete": 240}, "到场不能晚于完工"),
])
def test_limits_that_make_no_sense_are_refused_and_change_nothing(
        shipped: Storage, values: dict[str, int], problem: str) -> None:
    with shipped.write() as conn:
        before = time_limits.limits(conn)
        problems = time_limits.save(conn, ADMIN, "repair", 1, values, datetime.now(UTC))
        assert problem in "；".join(problems)
        assert time_limits.limits(conn) == before


def test_typed_limits_are_read_or_named() -> None:
    values, problems = time_limits.parse({"accept": "30", "arrive": "", "complete": "两小时",
                                          "dispatch": "１５"})
    assert values["accept"] == 30 and values["arrive"] is None
    assert any("两小时" in p for p in problems) and any("１５" in p for p in problems)


def test_a_change_of_limits_is_audited(shipped: Storage) -> None:
    with shipped.write() as conn:
        time_limits.save(conn, ADMIN, "inspection", 4, {"accept": 600}, datetime.now(UTC))
        [row] = conn.execute("SELECT record_id, fields, by_user FROM changes"
                             " WHERE op = 'time_limits_changed'").fetchall()
    assert row[0] == "inspection/4" and row[2] == "admin"
    assert json.loads(row[1]) == {"before": {}, "after": {"accept": 600}}


def staff(db: Storage) -> None:
    with db.write() as conn:
        add_user(conn, "disp-qh", "秦淮调度", "dispatcher", "pw-123456", "秦淮区", [])
        add_user(conn, "disp-gl", "鼓楼调度", "dispatcher", "pw-123456", "鼓楼区", [])
        for username, phone in (("disp-qh", "13900000001"), ("disp-gl", "13900000002"),
                                ("supervisor", "13900000003"), ("admin", "13900000004")):
            conn.execute("UPDATE users SET phone = ? WHERE username = ?", [phone, username])


def texts(db: Storage, job_id: str) -> list[str]:
    """The staff texted about a job (the world's own jobs, dispatched days ago, alert too)."""
    with db.read() as conn:
        return [r[0] for r in conn.execute("SELECT recipient FROM notifications"
                                           " WHERE job_id = ? ORDER BY id", [job_id])]


def test_an_alert_climbs_the_chain_until_it_is_acknowledged(shipped: Storage) -> None:
    staff(shipped)
    leak = new_job(shipped, kind="repair", priority=1)  # 秦淮区's customer
    start = created_at(shipped, leak)
    scan(shipped, start + timedelta(minutes=6))
    assert texts(shipped, leak) == ["13900000001"]  # level 1: the district's dispatcher, at once
    scan(shipped, start + timedelta(minutes=6 + 29))
    assert texts(shipped, leak) == ["13900000001"]
    scan(shipped, start + timedelta(minutes=6 + 31))
    assert texts(shipped, leak)[1:] == ["13900000003"]  # level 2: the supervisor
    with shipped.write() as conn:
        [alert] = [a for a in alerts.open_alerts(conn) if a.kind == "not_dispatched"]
        assert escalation.reached(conn, [alert.id]) == {alert.id: (2, "supervisor")}
        alerts.acknowledge(conn, alert.id, SUPERVISOR, start + timedelta(minutes=40))
        [text] = [r[0] for r in conn.execute(
            "SELECT text FROM notifications WHERE recipient = '13900000003' AND job_id = ?",
            [leak])]
    assert "第 2 级" in text and "仍未派单" in text
    scan(shipped, start + timedelta(hours=5))
    assert "13900000004" not in texts(shipped, leak)  # acknowledged: the manager is not texted
    with shipped.read() as conn:
        steps = conn.execute("SELECT fields FROM changes WHERE op = 'alert_escalated'"
                             " AND record_id = ?", [str(alert.id)]).fetchall()
    assert [json.loads(s[0])["level"] for s in steps] == [1, 2]


def test_each_level_is_texted_once_however_often_the_chain_is_scanned(shipped: Storage) -> None:
    staff(shipped)
    leak = new_job(shipped, kind="repair", priority=1)
    now = created_at(shipped, leak) + timedelta(minutes=10)
    scan(shipped, now)  # raised, level 1 texted
    with shipped.write() as conn:
        assert escalation.escalate(conn, now) == 0
    later = now + timedelta(hours=2)
    with shipped.write() as conn:
        first = escalation.escalate(conn, later)
    with shipped.write() as conn:
        assert escalation.escalate(conn, later) == 0
    assert first >= 2  # levels 2 and 3 of this alert (and the world's own alerts')
    assert sorted(texts(shipped, leak)) == ["13900000001", "13900000003", "13900000004"]


@pytest.mark.parametrize(("levels", "problem"), [
    ([], "至少要有一级"),
    ([("technician", 0)], "角色应为调度员、主管或管理员"),
    ([("dispatcher", 30), ("supervisor", 10)], "第 2 级（10 分钟）早于第 1 级"),
    ([("dispatcher", -1)], "延迟应在 0 到"),
    ([("dispatcher", 0)] * 6, "最多 5 级"),
])
def test_a_chain_that_makes_no_sense_is_refused(shipped: Storage,
                                                levels: list[tuple[str, int]],
                                                problem: str) -> None:
    with shipped.write() as conn:
        problems = escalation.save_chain(conn, ADMIN, levels, datetime.now(UTC))
        assert problem in "；".join(problems)
        assert escalation.chain(conn) == escalation.DEFAULT_CHAIN
