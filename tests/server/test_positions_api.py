"""Technicians' positions: reported over plain HTTP as a tablet (or an attacker) would, refused
in words when they cannot be right, flagged when they jump, used by dispatch only when fresh
and trusted, and shown on the office's map with their age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from sync_server.services import dispatch, positions
from sync_server.services.auth import Principal
from sync_server.storage.db import open_database
from tests.conftest import ServerProcess
from tests.server.test_conflict_review import office_session
from tests.server.test_sync_api import login

NEAR_CUST_1 = (32.0391, 118.7952)  # a few hundred metres from the world's cust-1


def fix(lat: float = NEAR_CUST_1[0], lon: float = NEAR_CUST_1[1], *, ago_s: float = 0,
        **extra) -> dict:
    at = datetime.now(UTC) - timedelta(seconds=ago_s)
    return {"lat": lat, "lon": lon, "accuracy_m": 8.0, "fix_time": at.isoformat(),
            "source": "nmea", **extra}


def post(server: ServerProcess, headers: dict, body) -> requests.Response:
    kwargs = {"data": body} if isinstance(body, (str, bytes)) else {"json": body}
    return requests.post(server.url + "/api/v1/positions", headers=headers, timeout=10,
                         **kwargs)


def stored(server: ServerProcess) -> list[dict]:
    return server.query("SELECT username, lat, lon, doubtful FROM technician_positions")


@pytest.mark.parametrize(("body", "code"), [
    (fix(accuracy_m=0), "position_unreliable"),
    (fix(accuracy_m=-5), "position_unreliable"),
    (fix(accuracy_m=50_000), "position_unreliable"),
    (fix(ago_s=-3600), "position_in_future"),
    (fix(ago_s=13 * 3600), "position_stale"),
    (fix(lat=91), "malformed_request"),
    (fix(lon="东经118度"), "malformed_request"),
    ({**fix(), "fix_time": "2026-12-07T10:00:00"}, "malformed_request"),  # no zone: no moment
    ({**fix(), "user": "tech02"}, "malformed_request"),
    ('{"lat": NaN, "lon": 118.7, "fix_time": "2026-12-07T10:00:00Z", "source": "x"}',
     "malformed_request"),
    ("not json", "malformed_request"),
    ([fix()], "malformed_request"),
])
def test_a_fix_that_cannot_be_right_is_refused_in_words_and_nothing_is_kept(
        server: ServerProcess, body, code):
    resp = post(server, login(server, "tech01", "dev-1"), body)
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"] == code and resp.json()["message"]
    assert stored(server) == []


def test_only_a_signed_in_technician_reports_and_only_their_own(server: ServerProcess):
    assert post(server, {}, fix()).status_code == 401
    office = post(server, login(server, "dispatcher", "dev-o"), fix())
    assert office.status_code == 403 and office.json()["error"] == "not_a_technician"
    assert post(server, login(server, "tech01", "dev-1"), fix()).json() == {
        "kept": True, "doubtful": None}
    assert [(r["username"], r["doubtful"]) for r in stored(server)] == [("tech01", None)]


def test_a_jump_is_kept_as_doubtful_and_an_older_fix_changes_nothing(server: ServerProcess):
    tech = login(server, "tech01", "dev-1")
    assert post(server, tech, fix(ago_s=600)).json()["kept"] is True
    assert post(server, tech, fix(ago_s=900, lat=31.0)).json() == {"kept": False,
                                                                  "doubtful": None}
    jumped = post(server, tech, fix(lat=33.4)).json()  # 150 km in ten minutes
    assert jumped["kept"] is True and "位置跳变 151 公里（10 分钟内）" in jumped["doubtful"]
    db = open_database(server.data_dir, server.database_url)
    try:
        with db.read() as conn:
            assert positions.fresh(conn) == {}  # not trusted for dispatch
            assert positions.latest(conn)["tech01"].doubtful == jumped["doubtful"]
    finally:
        db.close()
    page = office_session(server, "dispatcher").get(server.url + "/office/dispatch/map",
                                                     timeout=10)
    assert page.status_code == 200 and "定位 刚刚 · 精度 8 米" in page.text
    assert jumped["doubtful"] in page.text  # far off the plan, but said under it


def test_dispatch_measures_from_a_fresh_fix_and_the_map_says_how_old_it_is(
        server: ServerProcess):
    db = open_database(server.data_dir, server.database_url)
    dispatcher = Principal("dispatcher", "赵敏", "dispatcher", None, "web-test")
    try:
        with db.write() as conn:
            job_id = dispatch.create_job(conn, dispatcher, server_clock(), {
                "kind": "inspection", "customer": "320100000001", "priority": 1,
                "due_at": datetime.now(UTC).strftime("%Y-%m-%d 18:00")})
        with db.read() as conn:
            guessed = dispatch.suggest(conn, job_id)
        assert "按其工单地址估计" in guessed.explanation
        assert post(server, login(server, "tech01", "dev-1"), fix(ago_s=120)).ok
        with db.read() as conn:
            located = dispatch.suggest(conn, job_id)
            [tech] = [t for t in dispatch.technicians(conn) if t["username"] == "tech01"]
        assert located.username == "tech01" and "按实时定位" in located.explanation
        assert tech["position"] == pytest.approx(NEAR_CUST_1)
        with db.write() as conn:  # the same fix, twenty minutes on: no longer fresh
            conn.execute("UPDATE technician_positions SET fix_at = ?", [
                (datetime.now(UTC) - timedelta(minutes=20)).isoformat()])
        with db.read() as conn:
            assert "按其工单地址估计" in dispatch.suggest(conn, job_id).explanation
    finally:
        db.close()
    page = office_session(server, "dispatcher").get(server.url + "/office/dispatch/map",
                                                     timeout=10)
    assert "王建国 · 20 分钟前" in page.text  # on the plan, at the fix
    assert "定位已超过 15 分钟，派单按其工单地址估计" in page.text


def server_clock():
    from sync_server.clock import ServerClock

    return ServerClock()
