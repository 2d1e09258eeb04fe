"""The inspection reminder's link moves that one visit without signing in, until it
expires; a tampered or expired link changes nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import requests

from fieldapp.local_time import LOCAL_ZONE
from sync_server.clock import ServerClock
from sync_server.services import rules
from sync_server.storage.db import open_database
from tests.conftest import ServerProcess
from tests.portal.conftest import execute, reschedule_link


def _days(page: str) -> list[str]:
    return re.findall(r'<option value="(\d{4}-\d\d-\d\d)"', page)


def test_the_reminder_sms_links_to_moving_the_visit(portal: ServerProcess) -> None:
    tomorrow = (datetime.now(LOCAL_ZONE) + timedelta(days=3)).replace(hour=9, minute=0,
                                                                      second=0, microsecond=0)
    execute(portal, "UPDATE jobs SET due_at = ? WHERE id = 'job-1'", [tomorrow.isoformat()])
    db = open_database(portal.data_dir, portal.database_url)
    with db.write() as conn:
        rules.process(conn, datetime.now(UTC), ServerClock())
    db.close()
    text = portal.scalar("SELECT text FROM notifications WHERE job_id = 'job-1'")
    link = re.search(r"(http://\S+/portal/a/\S+)", text)[1]  # type: ignore[index]
    assert link.startswith(portal.url)  # the server's own address: no --public-url given
    page = requests.get(link, timeout=10)
    assert page.status_code == 200 and "陈**" in page.text
    number = portal.scalar("SELECT number FROM jobs WHERE id = 'job-1'")
    assert number in page.text and f"{tomorrow:%Y-%m-%d %H:%M}" in page.text
    day = _days(page.text)[4]
    moved = requests.post(link, data={"day": day, "slot": "pm"}, timeout=10)
    assert "已改约" in moved.text and f"{day} 14:00" in moved.text
    due = datetime.fromisoformat(portal.scalar("SELECT due_at FROM jobs WHERE id = 'job-1'"))
    assert due.astimezone(LOCAL_ZONE).strftime("%Y-%m-%d %H") == f"{day} 14"
    # The move went through the change log, so the technician's tablet gets it.
    assert portal.scalar("SELECT by_user FROM changes WHERE tbl = 'jobs' AND record_id ="
                         " 'job-1' ORDER BY seq DESC LIMIT 1") == "portal"


def test_tampered_expired_and_too_late_links_change_nothing(portal: ServerProcess) -> None:
    now = datetime.now(UTC)
    before = portal.scalar("SELECT due_at FROM jobs WHERE id = 'job-1'")
    good = reschedule_link(portal, "job-1", now + timedelta(days=5), now)
    body, tag = good.rsplit("/", 1)[1].split(".")
    forged_body = body[:-2] + ("AA" if body[-2:] != "AA" else "BB")
    for token in (f"{forged_body}.{tag}", f"{body}.{tag[:-3]}xyz", "nonsense", "a.b.c"):
        got = requests.get(f"{portal.url}/portal/a/{token}", timeout=10)
        assert got.status_code == 400 and "改约链接无效" in got.text, token
        posted = requests.post(f"{portal.url}/portal/a/{token}", timeout=10,
                               data={"day": "2030-01-01", "slot": "am"})
        assert posted.status_code == 400
    # Made for a visit that has passed: expired.
    old = reschedule_link(portal, "job-1", now - timedelta(minutes=1), now - timedelta(days=2))
    expired = requests.post(old, data={"day": "2030-01-01", "slot": "am"},
                            timeout=10)
    assert expired.status_code == 410 and "改约链接已过期" in expired.text
    # A bad choice on a good link.
    wrong = requests.post(good, data={"day": "1999-01-01", "slot": "am"},
                          timeout=10)
    assert wrong.status_code == 422 and "上门日期应在明天到 30 天内" in wrong.text
    assert portal.scalar("SELECT due_at FROM jobs WHERE id = 'job-1'") == before
    # Once the technician is on the way, the link explains instead of moving.
    day = _days(requests.get(good, timeout=10).text)[0]
    execute(portal, "UPDATE jobs SET status = 'en_route' WHERE id = 'job-1'")
    page = requests.get(good, timeout=10).text
    assert "无法在线改约" in page and 'id="move"' not in page
    late = requests.post(good, data={"day": day, "slot": "am"}, timeout=10)
    assert late.status_code == 409 and "安检员已出发" in late.text and portal.scalar(
        "SELECT due_at FROM jobs WHERE id = 'job-1'") == before
