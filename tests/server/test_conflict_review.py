"""The supervisor's conflict review in the back office: sign-in, both values shown,
resolve by keeping, taking the device's value or entering one; audited; tablets follow."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import requests

from tests.conftest import ServerProcess, synced_tablet
from tests.server.test_sync_api import login, mutation, office_push, push, version
from tests.world import PASSWORD, complete_inspection


def office_session(server: ServerProcess, username: str) -> requests.Session:
    session = requests.Session()
    page = sign_in(session, server.url, username, PASSWORD, "/office/conflicts")
    assert page.status_code == 200 and page.url.endswith("/office/conflicts"), page.text
    return session


def sign_in(session: requests.Session, url: str, username: str, password: str,
            next_url: str = "/office/", **kwargs) -> requests.Response:
    """The sign-in form as a browser sends it: fetched first, for its CSRF token."""
    form = session.get(url + "/office/login", timeout=10, **kwargs)
    return session.post(url + "/office/login", timeout=30, **kwargs, data={
        "username": username, "password": password, "next": next_url,
        "csrf": csrf(form.text)})


def csrf(page: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page)[1]


def phone_conflict(server: ServerProcess) -> int:
    """The office changes cust-1's phone, then a tablet asks to change it too: the phone
    signs the customer in, so the tablet's value waits for the office to verify it."""
    tech = login(server, "tech01", "pad-1")
    base = {"phone": server.scalar("SELECT phone FROM customers WHERE id = 'cust-1'")}
    office_push(server, "admin", [mutation("customers", "cust-1", {"phone": "13900000000"},
                                               base, base_version=version(server, "customers",
                                                                          "cust-1"))])
    early = f"{int(time.time() * 1000) - 60_000:018d}:00000:pad-1"
    push(server, tech, "pad-1", [mutation("customers", "cust-1", {"phone": "13811112222"}, base,
                                          hlc=early)])
    return server.scalar("SELECT id FROM conflicts WHERE record_id = 'cust-1'")


def resolve(session: requests.Session, server: ServerProcess, conflict_id: int, choice: str,
            value: str = "") -> requests.Response:
    page = session.get(server.url + "/office/conflicts", timeout=10).text
    return session.post(server.url + f"/office/conflicts/{conflict_id}/resolve", timeout=10,
                        data={"choice": choice, "value": value, "csrf": csrf(page)})


def test_office_pages_need_an_office_sign_in(server: ServerProcess):
    for path in ("/office/", "/office/conflicts", "/office/reports/x", "/office/files/" + "a" * 64):
        first = requests.get(server.url + path, timeout=10, allow_redirects=False)
        assert first.status_code == 303
        assert first.headers["location"].startswith("/office/login?next=")
    wrong = sign_in(requests.Session(), server.url, "supervisor", "nope")
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
    tech = sign_in(requests.Session(), server.url, "tech01", PASSWORD)
    assert tech.status_code == 401 and "平板应用" in tech.text
    assert "fieldapp_office" not in tech.cookies
    # a sign-in link cannot send the user to another site
    away = sign_in(requests.Session(), server.url, "supervisor", PASSWORD,
                   "//evil.example/office/", allow_redirects=False)
    assert away.headers["location"] == "/office/"
    cookie = away.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie


def test_sign_out_ends_the_session(server: ServerProcess):
    session = office_session(server, "dispatcher")
    page = session.get(server.url + "/office/", timeout=10).text
    token = session.cookies["fieldapp_office"]
    session.post(server.url + "/office/logout", data={"csrf": csrf(page)}, timeout=10)
    again = requests.get(server.url + "/office/", cookies={"fieldapp_office": token},
                         timeout=10, allow_redirects=False)
    assert again.status_code == 303  # the old cookie no longer opens anything


def test_supervisor_takes_the_devices_value_audited_and_the_tablet_follows(
        server: ServerProcess, tmp_path: Path):
    replica, client = synced_tablet(server, tmp_path / "tablet")
    conflict_id = phone_conflict(server)
    assert server.scalar("SELECT phone FROM customers WHERE id = 'cust-1'") == "13900000000"

    session = office_session(server, "supervisor")
    page = session.get(server.url + "/office/conflicts", timeout=10).text
    assert "13900000000" in page and "13811112222" in page and "pad-1" in page
    assert "核实" in page

    forged = session.post(server.url + f"/office/conflicts/{conflict_id}/resolve",
                          data={"choice": "preserved", "csrf": "0" * 64}, timeout=10)
    assert forged.status_code == 403 and forged.json()["error"] == "csrf_failed"
    assert server.scalar("SELECT resolved_at FROM conflicts WHERE id = ?", [conflict_id]) is None

    assert resolve(session, server, conflict_id, "preserved").status_code == 200
    assert server.scalar("SELECT phone FROM customers WHERE id = 'cust-1'") == "13811112222"
    [row] = server.query("SELECT * FROM conflicts WHERE id = ?", [conflict_id])
    resolution = json.loads(row["resolution"])
    assert (row["resolved_by"], resolution["choice"], resolution["value"]) == (
        "supervisor", "preserved", "13811112222")
    [audit] = server.query("SELECT * FROM changes WHERE mutation_id = ?",
                           [resolution["mutation_id"]])
    assert (audit["by_user"], audit["batch_id"], json.loads(audit["fields"])) == (
        "supervisor", f"review-{conflict_id}", {"phone": "13811112222"})
    assert json.loads(row["kept"]) == "13900000000"  # both values stay on record

    client.sync()
    assert replica.get("customers", "cust-1")["phone"] == "13811112222"
    listed = session.get(server.url + "/office/conflicts", timeout=10).text
    assert f'id="conflict-{conflict_id}"' not in listed
    assert "已由 supervisor" in session.get(server.url + "/office/conflicts?show=all",
                                            timeout=10).text
    again = resolve(session, server, conflict_id, "current")
    assert "已由 supervisor" in again.text  # a second resolution is refused, said in words


def test_keeping_the_current_value_changes_nothing_but_is_recorded(server: ServerProcess):
    conflict_id = phone_conflict(server)
    session = office_session(server, "admin")  # its sign-in is chained: count after it
    seq = server.scalar("SELECT max(seq) FROM changes")
    resolve(session, server, conflict_id, "current")
    assert server.scalar("SELECT max(seq) FROM changes") == seq
    assert server.scalar("SELECT phone FROM customers WHERE id = 'cust-1'") == "13900000000"
    assert json.loads(server.scalar("SELECT resolution FROM conflicts WHERE id = ?",
                                    [conflict_id]))["choice"] == "current"


def test_a_dispatcher_sees_conflicts_but_cannot_resolve_them(server: ServerProcess):
    conflict_id = phone_conflict(server)
    session = office_session(server, "dispatcher")
    page = session.get(server.url + "/office/conflicts", timeout=10).text
    assert f'id="conflict-{conflict_id}"' in page and 'class="resolve"' not in page
    answer = resolve(session, server, conflict_id, "preserved")
    assert "只有主管或管理员" in answer.text
    assert server.scalar("SELECT phone FROM customers WHERE id = 'cust-1'") == "13900000000"


def test_a_job_cancelled_while_completed_offline_can_be_reinstated(server: ServerProcess,
                                                                   tmp_path: Path):
    replica, client = synced_tablet(server, tmp_path / "tablet")
    complete_inspection(replica, "job-1", tmp_path / "photo.jpg")  # offline
    office_push(server, "dispatcher", [mutation("jobs", "job-1", {"status": "cancelled"},
                                               {"status": "dispatched"},
                                               base_version=version(server, "jobs", "job-1"))])
    client.sync()
    assert server.scalar("SELECT status FROM jobs WHERE id = 'job-1'") == "cancelled"
    conflicts = server.query("SELECT id, preserved FROM conflicts WHERE record_id = 'job-1'"
                             " AND field = 'status'")
    completed = [c["id"] for c in conflicts if json.loads(c["preserved"]) == "completed"]
    stale = [c["id"] for c in conflicts if json.loads(c["preserved"]) != "completed"]
    assert len(completed) == 1 and stale  # accepted and in_service were refused too

    session = office_session(server, "supervisor")
    refused = resolve(session, server, stale[0], "preserved")  # cancelled → accepted: never
    assert "未能采用该值" in refused.text
    assert server.scalar("SELECT resolved_at FROM conflicts WHERE id = ?", [stale[0]]) is None
    resolve(session, server, completed[0], "preserved")
    assert server.scalar("SELECT status FROM jobs WHERE id = 'job-1'") == "completed"
    client.sync()
    assert replica.get("jobs", "job-1")["status"] == "completed"


def test_an_entered_answer_is_checked_against_its_form(server: ServerProcess, tmp_path: Path):
    replica, client = synced_tablet(server, tmp_path / "tablet")
    sub_id = complete_inspection(replica, "job-1", tmp_path / "photo.jpg")
    client.sync()
    answer = server.query("SELECT id, value, version FROM answers WHERE submission_id = ?"
                          " AND question = 'hose_age'", [sub_id])[0]
    tech = login(server, "tech01", "pad-2")  # a second tablet's differing finding
    push(server, tech, "pad-2", [mutation("answers", answer["id"], {"value": '"pass"'},
                                          {"value": '"na"'}, base_version=answer["version"])])
    conflict_id = server.scalar("SELECT id FROM conflicts WHERE record_id = ?", [answer["id"]])

    session = office_session(server, "supervisor")
    page = session.get(server.url + "/office/conflicts", timeout=10).text
    assert "采集的证据不覆盖" in page
    bad = resolve(session, server, conflict_id, "edit", "maybe")
    assert "未能采用该值：hose_age: invalid_choice" in bad.text
    assert server.scalar("SELECT value FROM answers WHERE id = ?", [answer["id"]]) == '"fail"'
    resolve(session, server, conflict_id, "edit", "na")
    assert server.scalar("SELECT value FROM answers WHERE id = ?", [answer["id"]]) == '"na"'
