"""An office account limited to a district (秦淮区 here) sees and acts on only that district's
customers and their records: pull, the conflict review (paged and filtered), follow-up tasks,
billing totals and runs, alerts, the rules' messages and device revocation — over HTTP
against a real server. Unscoped accounts (admin, a dispatcher without a district) see all."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests

from fieldapp.billing.tariff import yuan
from fieldapp.wire import PROTOCOL_VERSION
from sync_server.services import billing
from sync_server.storage.db import open_database
from sync_server.sync.pull import GLOBAL_TABLES
from tests.conftest import ServerProcess
from tests.server.districts import (
    OTHER_NAME,
    OTHER_PHONE,
    add_conflict,
    add_scoped_accounts,
    two_districts,
)
from tests.server.test_conflict_review import csrf, office_session
from tests.server.test_sync_api import login

HOME_CUSTOMERS = {"cust-1", "cust-2"}


def pull_all(server: ServerProcess, headers: dict) -> tuple[list[dict], str]:
    """Every change a fresh device pulls, and the raw answers' text."""
    changes, text, cursor, more = [], "", 0, True
    while more:
        resp = requests.get(f"{server.url}/api/v1/sync/pull", headers={
            **headers, "X-FieldApp-Protocol": str(PROTOCOL_VERSION)},
            params={"cursor": cursor, "limit": 200}, timeout=30)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        changes += body["changes"]
        text += resp.text
        cursor, more = body["cursor"], body["more"]
    return changes, text


def customer_of(change: dict) -> str | None:
    if change["table"] == "customers":
        return change["record_id"]
    return (change["row"] or {}).get("customer_id")


def test_a_district_account_pulls_only_its_district_and_the_global_tables(
        server: ServerProcess):
    add_scoped_accounts(server)
    scoped, text = pull_all(server, login(server, "qh_dispatch", "qh-pad"))
    customers = {customer_of(c) for c in scoped if c["table"] not in GLOBAL_TABLES}
    assert customers == HOME_CUSTOMERS
    assert {"customers", "meters", "readings", "payments", "contracts", "jobs"} <= {
        c["table"] for c in scoped}
    assert {c["table"] for c in scoped} & set(GLOBAL_TABLES)  # the forms come along
    assert OTHER_NAME not in text and OTHER_PHONE not in text
    # An unscoped office account (no district) and the admin keep seeing every district.
    for username in ("dispatcher", "admin"):
        everything, _ = pull_all(server, login(server, username, f"pad-{username}"))
        assert {customer_of(c) for c in everything if c["table"] not in GLOBAL_TABLES} == {
            "cust-1", "cust-2", "cust-3"}


def conflict_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'id="conflict-(\d+)"', page)]


def walk(session: requests.Session, server: ServerProcess, query: str) -> list[list[int]]:
    """The pages of the review from the newest, following the "older" links."""
    pages, url = [], f"{server.url}/office/conflicts?{query}"
    while url:
        resp = session.get(url, timeout=30)
        assert resp.status_code == 200, resp.text
        pages.append(conflict_ids(resp.text))
        older = re.search(r'id="older" href="([^"]+)"', resp.text)
        url = server.url + older[1].replace("&amp;", "&") if older else ""
    return pages


@pytest.fixture
def many_conflicts(server: ServerProcess) -> dict[str, list[int]]:
    """230 conflicts about 秦淮区's records (half from before migration 18, naming no
    customer), 20 about 鼓楼区's, 5 about a global setting; ids by what they concern."""
    add_scoped_accounts(server)
    db = open_database(server.data_dir, server.database_url)
    out: dict[str, list[int]] = {"home": [], "other": [], "global": [], "reassigned": [],
                                 "customers": [], "resolved": []}
    with db.write() as conn:
        for n in range(250):
            home = n % 25 not in (3, 17)  # 20 of the 250 are 鼓楼区's, spread among the rest
            record = ("customers", "cust-2") if home and n % 5 == 0 else (
                ("jobs", "job-1") if home else ("jobs", "job-3"))
            customer = None if n % 2 else ("cust-3" if not home else
                                            "cust-2" if record[0] == "customers" else "cust-1")
            reason = "reassigned" if n % 7 == 0 else "kept_server_value"
            resolved = n % 11 == 0
            cid = add_conflict(conn, *record, customer, reason=reason, resolved=resolved)
            out["home" if home else "other"].append(cid)
            if home and reason == "reassigned":
                out["reassigned"].append(cid)
            if home and record[0] == "customers":
                out["customers"].append(cid)
            if home and resolved:
                out["resolved"].append(cid)
        for _ in range(5):
            out["global"].append(add_conflict(conn, "org_settings", "utility_name", None,
                                              field="value"))
    db.close()
    assert len(out["home"]) == 230 and len(out["other"]) == 20
    return out


def test_the_review_pages_back_and_forth_within_the_district(
        server: ServerProcess, many_conflicts: dict[str, list[int]]):
    home = sorted(many_conflicts["home"], reverse=True)
    session = office_session(server, "qh_super")
    pages = walk(session, server, "show=all")
    assert [len(p) for p in pages] == [100, 100, 30]
    assert [i for p in pages for i in p] == home  # newest first, none twice, none missing

    # Back from the oldest page by the "newer" links: the same pages.
    last = session.get(f"{server.url}/office/conflicts?show=all&before={home[199]}",
                       timeout=30).text
    assert conflict_ids(last) == pages[2] and 'id="older"' not in last
    newer = re.search(r'id="newer" href="([^"]+)"', last)[1].replace("&amp;", "&")
    middle = session.get(server.url + newer, timeout=30).text
    assert conflict_ids(middle) == pages[1]
    newer = re.search(r'id="newer" href="([^"]+)"', middle)[1].replace("&amp;", "&")
    first = session.get(server.url + newer, timeout=30).text
    assert conflict_ids(first) == pages[0] and 'id="newer"' not in first

    # The unscoped admin sees every district's and the global ones.
    everything = [i for p in walk(office_session(server, "admin"), server, "show=all")
                  for i in p]
    assert sorted(everything) == sorted(home + many_conflicts["other"]
                                        + many_conflicts["global"])


def test_the_review_filters_by_state_reason_and_table(
        server: ServerProcess, many_conflicts: dict[str, list[int]]):
    session = office_session(server, "qh_super")
    resolved = set(many_conflicts["resolved"])
    opened = [i for p in walk(session, server, "") for i in p]
    assert set(opened) == set(many_conflicts["home"]) - resolved
    assert {i for p in walk(session, server, "show=resolved") for i in p} == resolved
    assert {i for p in walk(session, server, "show=all&reason=reassigned")
            for i in p} == set(many_conflicts["reassigned"])
    assert {i for p in walk(session, server, "show=all&table=customers")
            for i in p} == set(many_conflicts["customers"])
    # The header's badge counts the open conflicts of the district, not every one.
    page = session.get(f"{server.url}/office/tasks", timeout=10).text
    badge = re.search(r'id="nav-conflicts">冲突审核 <span class="badge">(\d+)</span>', page)
    assert int(badge[1]) == len(opened)
    admin = office_session(server, "admin").get(f"{server.url}/office/tasks", timeout=10).text
    assert int(re.search(r'id="nav-conflicts">冲突审核 <span class="badge">(\d+)', admin)[1]) \
        == server.scalar("SELECT count(*) FROM conflicts WHERE resolved_at IS NULL") > len(opened)


@pytest.mark.parametrize("query", [
    "show=bogus", "before=-1", "before=abc", "after=1.5", f"before={2**64}",
    "before=5&after=3", "reason=%27%20OR%201%3D1", "table=jobs%3B", "reason=" + "a" * 65,
    "failed=-3", "error=" + "x" * 3000])
def test_a_bad_query_parameter_is_a_clear_4xx(server: ServerProcess, query: str):
    session = office_session(server, "supervisor")
    resp = session.get(f"{server.url}/office/conflicts?{query}", timeout=10)
    assert 400 <= resp.status_code < 500, resp.text
    assert resp.json()["error"] in ("malformed_request", "bad_cursor")


def test_another_districts_conflict_cannot_be_resolved(
        server: ServerProcess, many_conflicts: dict[str, list[int]]):
    session = office_session(server, "qh_super")
    token = csrf(session.get(f"{server.url}/office/conflicts", timeout=10).text)
    open_other = [i for i in many_conflicts["other"] if server.scalar(
        "SELECT resolved_at FROM conflicts WHERE id = ?", [i]) is None]
    named = next(i for i in open_other if server.scalar(
        "SELECT customer_id FROM conflicts WHERE id = ?", [i]) == "cust-3")
    old = next(i for i in open_other if server.scalar(
        "SELECT customer_id FROM conflicts WHERE id = ?", [i]) is None)
    for conflict_id in (named, old, many_conflicts["global"][0], 10**9):
        resp = session.post(f"{server.url}/office/conflicts/{conflict_id}/resolve",
                            data={"choice": "current", "csrf": token}, timeout=10,
                            allow_redirects=False)
        assert resp.status_code == 404 and resp.json()["error"] == "unknown_conflict"
        assert resp.json()["message"] == f"没有编号为 {conflict_id} 的冲突"  # same for all
    assert server.scalar("SELECT count(*) FROM conflicts WHERE id IN (?, ?)"
                         " AND resolved_at IS NOT NULL", [named, old]) == 0
    mine = next(i for i in many_conflicts["home"] if i not in many_conflicts["resolved"]
                and server.scalar("SELECT customer_id FROM conflicts WHERE id = ?", [i])
                is None)
    done = session.post(f"{server.url}/office/conflicts/{mine}/resolve",
                        data={"choice": "current", "csrf": token}, timeout=10,
                        allow_redirects=False)
    assert done.status_code == 303
    assert server.scalar("SELECT resolved_by FROM conflicts WHERE id = ?", [mine]) == "qh_super"


def test_tasks_alerts_and_messages_keep_to_the_district(server: ServerProcess, tmp_path: Path):
    objects = two_districts(server, tmp_path)
    office = office_session(server, "qh_dispatch")
    tasks = office.get(f"{server.url}/office/tasks", timeout=10).text
    assert f'id="task-{objects.home["task_id"]}"' in tasks
    assert f'id="task-{objects.other["task_id"]}"' not in tasks and OTHER_PHONE not in tasks
    refused = office.post(f"{server.url}/office/tasks/{objects.other['task_id']}/done",
                          data={"csrf": csrf(tasks), "outcome": "用户满意"}, timeout=10,
                          allow_redirects=False)
    assert refused.status_code == 404 and refused.json()["error"] == "unknown_task"
    assert server.scalar("SELECT done_at FROM tasks WHERE id = ?",
                         [objects.other["task_id"]]) is None
    done = office.post(f"{server.url}/office/tasks/{objects.home['task_id']}/done",
                       data={"csrf": csrf(tasks), "outcome": "用户满意"}, timeout=10)
    assert done.status_code == 200 and "用户满意" in done.text  # in the recently done list
    admin = office_session(server, "admin")
    page = admin.get(f"{server.url}/office/tasks", timeout=10).text
    admin.post(f"{server.url}/office/tasks/{objects.other['task_id']}/done",
               data={"csrf": csrf(page), "outcome": "鼓楼用户满意"}, timeout=10)
    assert "鼓楼用户满意" not in office.get(f"{server.url}/office/tasks", timeout=10).text

    supervisor = office_session(server, "qh_super")
    page = supervisor.get(f"{server.url}/office/alerts?show=all", timeout=10).text
    assert f"工单 {objects.home['job_id']} 已超过期限" in page
    assert "job-3" not in page and "GD202611240003" not in page
    badge = int(re.search(r'id="nav-alerts">提醒 <span class="badge">(\d+)', page)[1])
    assert badge == server.scalar(
        "SELECT count(*) FROM alerts a JOIN jobs j ON j.id = a.job_id JOIN customers c"
        " ON c.id = j.customer_id WHERE a.acknowledged_at IS NULL AND c.district = '秦淮区'")
    ack = supervisor.post(f"{server.url}/office/alerts/{objects.other['alert_id']}/ack",
                          data={"csrf": csrf(page)}, timeout=10, allow_redirects=False)
    assert ack.status_code == 404 and ack.json()["error"] == "unknown_alert"
    assert server.scalar("SELECT acknowledged_at FROM alerts WHERE id = ?",
                         [objects.other["alert_id"]]) is None

    rules = office.get(f"{server.url}/office/rules", timeout=10).text
    assert "工单 job-1 已完成" in rules and "工单 job-3 已完成" not in rules


def test_a_district_account_bills_and_totals_only_its_district(server: ServerProcess):
    add_scoped_accounts(server)
    db = open_database(server.data_dir, server.database_url)
    with db.write() as conn:
        billing.set_billing_from(conn, date.today() - timedelta(days=90))
    db.close()
    office = office_session(server, "qh_dispatch")
    page = office.get(f"{server.url}/office/billing", timeout=10).text
    ran = office.post(f"{server.url}/office/billing/run", data={"csrf": csrf(page)},
                      timeout=60)
    assert "出账完成：新账单 4 张" in ran.text  # two meters, two periods each
    assert {r["customer_id"] for r in server.query("SELECT customer_id FROM bills")} == \
        HOME_CUSTOMERS
    admin = office_session(server, "admin")
    page = admin.get(f"{server.url}/office/billing", timeout=10).text
    assert "新账单 2 张" in admin.post(f"{server.url}/office/billing/run",
                                     data={"csrf": csrf(page)}, timeout=60).text
    assert "待缴 <b>6</b> 张" in admin.get(f"{server.url}/office/billing", timeout=10).text
    mine = office.get(f"{server.url}/office/billing", timeout=10).text
    cents = server.scalar("SELECT sum(amount_cents) FROM bills WHERE customer_id IN"
                          " ('cust-1', 'cust-2')")
    assert f"待缴 <b>4</b> 张 ¥{yuan(cents)}" in mine
    assert OTHER_NAME not in mine


def test_a_district_supervisor_revokes_only_its_districts_tablets(server: ServerProcess):
    add_scoped_accounts(server)
    login(server, "tech01", "pad-1")
    login(server, "tech02", "pad-2")  # 鼓楼区
    supervisor = login(server, "qh_super", "qh-api")
    other = requests.post(f"{server.url}/api/v1/admin/devices/pad-2/revoke",
                          headers=supervisor, timeout=10)
    assert other.status_code == 404 and other.json()["error"] == "unknown_device"
    assert server.scalar("SELECT revoked_at FROM devices WHERE device_id = 'pad-2'") is None
    mine = requests.post(f"{server.url}/api/v1/admin/devices/pad-1/revoke",
                         headers=supervisor, timeout=10)
    assert mine.status_code == 200 and mine.json()["status"] == "revoked"
    admin = requests.post(f"{server.url}/api/v1/admin/devices/pad-2/revoke",
                          headers=login(server, "admin", "admin-api"), timeout=10)
    assert admin.status_code == 200
    assert server.scalar("SELECT revoked_at FROM devices WHERE device_id = 'pad-2'")
