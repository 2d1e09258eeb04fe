"""提醒: a dispatched job not accepted within two hours and a job past its deadline alert the
supervisor, once each; a supervisor acknowledges; the server raises them on its own timer."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from fieldapp.local_time import LOCAL_ZONE
from sync_server.clock import ServerClock
from sync_server.services import alerts, dispatch
from sync_server.services.auth import Principal
from sync_server.storage.db import Storage
from tests.conftest import ServerProcess
from tests.server.test_conflict_review import csrf, office_session
from tests.server.test_dispatch import DISPATCHER, new_job

SUPERVISOR = Principal("supervisor", "马国栋", "supervisor", None, "web-sup")


def at(hour: int, day: int = 0) -> datetime:
    """A moment of today (the world's jobs are due today), in the utility's zone."""
    today = datetime.now(LOCAL_ZONE).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=day, hours=hour)


def scan(db: Storage, now: datetime) -> list[tuple[str, str]]:
    with db.write() as conn:
        alerts.scan(conn, now)
        return [(a.kind, a.job_id) for a in alerts.open_alerts(conn)]


def test_jobs_waiting_too_long_or_past_their_deadline_alert_once(db: Storage) -> None:
    # The world's three open jobs were dispatched days ago and are due at 9, 10 and 11 today.
    early = scan(db, at(8))
    assert sorted(early) == [("not_accepted", "job-1"), ("not_accepted", "job-2"),
                             ("not_accepted", "job-3")]
    late = scan(db, at(10) + timedelta(minutes=30))
    assert sorted(a for a in late if a[0] == "overdue") == [("overdue", "job-1"),
                                                             ("overdue", "job-3")]
    assert len(scan(db, at(23))) == 6  # job-2 overdue too; nothing raised twice
    with db.read() as conn:
        [message] = [a.message for a in alerts.open_alerts(conn)
                     if a.kind == "not_accepted" and a.job_id == "job-1"]
    assert "李秀英" not in message and "王建国" in message and "仍未接单" in message


def test_the_two_hours_run_from_the_dispatch(db: Storage) -> None:
    job_id = new_job(db)
    with db.write() as conn:
        dispatch.assign(conn, DISPATCHER, ServerClock(), job_id, "tech01", "手动")
        sent = datetime.fromisoformat(conn.execute(
            "SELECT at FROM dispatch_log WHERE job_id = ?", [job_id]).fetchone()[0])
    assert ("not_accepted", job_id) not in scan(db, sent + timedelta(hours=1, minutes=59))
    assert ("not_accepted", job_id) in scan(db, sent + timedelta(hours=2, minutes=1))


def test_an_acknowledged_alert_leaves_the_list(db: Storage) -> None:
    scan(db, at(8))
    with db.write() as conn:
        first = alerts.open_alerts(conn)[0]
        assert alerts.acknowledge(conn, first.id, SUPERVISOR, at(8))
        assert not alerts.acknowledge(conn, first.id, SUPERVISOR, at(9))
        assert first.id not in {a.id for a in alerts.open_alerts(conn)}
        [seen] = [a for a in alerts.open_alerts(conn, include_acknowledged=True)
                  if a.id == first.id]
    assert seen.acknowledged_by == "supervisor"
    assert len(scan(db, at(8, day=1))) >= 2  # the acknowledged one is not raised again
    with db.read() as conn:
        kinds = conn.execute("SELECT count(*) FROM alerts WHERE job_id = ? AND kind = ?",
                             [first.job_id, first.kind]).fetchone()[0]
    assert kinds == 1


@pytest.mark.server_env(FIELDAPP_ALERT_SCAN_S="0.3")
def test_the_server_raises_alerts_itself_and_a_supervisor_acknowledges(
        server: ServerProcess, tmp_path: Path) -> None:
    deadline = time.monotonic() + 15
    while server.scalar("SELECT count(*) FROM alerts") < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.scalar("SELECT count(*) FROM alerts WHERE kind = 'not_accepted'") == 3

    dispatcher = office_session(server, "dispatcher")
    page = dispatcher.get(f"{server.url}/office/alerts", timeout=10).text
    assert "超时未接单" in page and 'id="nav-alerts">提醒 <span class="badge">' in page
    assert "/ack" not in page  # a dispatcher sees them; the supervisor confirms
    alert_id = server.scalar("SELECT min(id) FROM alerts")
    refused = dispatcher.post(f"{server.url}/office/alerts/{alert_id}/ack", timeout=10,
                              data={"csrf": csrf(page)})
    assert "由主管或管理员确认" in refused.text

    supervisor = office_session(server, "supervisor")
    page = supervisor.get(f"{server.url}/office/alerts", timeout=10).text
    done = supervisor.post(f"{server.url}/office/alerts/{alert_id}/ack", timeout=10,
                           data={"csrf": csrf(page)})
    assert done.status_code == 200 and f'id="alert-{alert_id}"' not in done.text
    assert server.scalar("SELECT acknowledged_by FROM alerts WHERE id = ?",
                         [alert_id]) == "supervisor"
