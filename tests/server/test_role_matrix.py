"""Every route of the server × every role: who may use it and who is turned away.

The routes are read from the application itself, so a new route without a line in ``RULES``
fails this test until someone decides who may use it. "Allowed" means the role gets past
authorization (the answer may still be a 404 or a 422 for the made-up ids and empty forms
sent here); "refused" means a 403 (or, without a usable session, the sign-in redirect or a
401)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from fastapi.routing import APIRoute

from sync_server.app import create_app
from sync_server.config import Settings
from sync_server.services.auth import add_user
from sync_server.storage.db import open_database
from tests.conftest import ServerProcess
from tests.server.districts import OTHER_NAME, SCOPED, snapshot, two_districts
from tests.server.test_conflict_review import csrf, office_session
from tests.server.test_sync_api import login
from tests.world import PASSWORD

ROLES = ("anonymous", "technician", "auditor", "dispatcher", "supervisor", "admin")
VIEWERS = {"auditor", "dispatcher", "supervisor", "admin"}
OFFICE = {"dispatcher", "supervisor", "admin"}
SIGNED_IN = {"technician", *VIEWERS}
EVERYONE = set(ROLES)
CUSTOMER: set[str] = set()  # a portal customer, none of the staff roles

# (method, path) → roles allowed. Office pages use the browser session, the API tokens.
RULES: dict[tuple[str, str], set[str]] = {
    ("GET", "/"): EVERYONE,
    ("GET", "/api/v1/health"): EVERYONE,
    ("POST", "/api/v1/auth/refresh"): SIGNED_IN,
    ("POST", "/api/v1/sync/push"): {"technician", *OFFICE},
    ("GET", "/api/v1/sync/pull"): SIGNED_IN,
    ("GET", "/api/v1/sync/snapshot"): SIGNED_IN,  # an office account is told to pull (409)
    ("GET", "/api/v1/sync/wait"): SIGNED_IN,
    ("GET", "/api/v1/sync/epoch"): SIGNED_IN,
    ("GET", "/api/v1/attachments/{sha256}"): SIGNED_IN,
    ("GET", "/api/v1/kb/figures/{name}"): SIGNED_IN,
    ("GET", "/api/v1/network/{sha256}"): SIGNED_IN,  # its own district's: test_network_api
    ("GET", "/api/v1/basemap/{sha256}"): SIGNED_IN,  # its own district's: test_basemap_api
    ("POST", "/api/v1/positions"): {"technician"},  # their own fix only
    ("PUT", "/api/v1/attachments/{sha256}"): {"technician", *OFFICE},
    ("POST", "/api/v1/device/wiped"): set(),  # a revoked device only: test_remote_wipe.py
    ("POST", "/api/v1/admin/devices/{device_id}/revoke"): {"supervisor", "admin"},
    ("POST", "/api/v1/office/jobs"): OFFICE,
    ("GET", "/api/v1/office/jobs"): OFFICE,
    ("POST", "/api/v1/office/jobs/{job_id}/assign"): OFFICE,
    ("POST", "/api/v1/office/dispatch/auto"): OFFICE,
    ("GET", "/office/"): VIEWERS,
    ("GET", "/office/reports/{submission_id}"): VIEWERS,
    ("GET", "/office/reports/{submission_id}/{document}.pdf"): VIEWERS,
    ("GET", "/office/files/{sha256}"): VIEWERS,
    ("GET", "/office/conflicts"): VIEWERS,
    ("POST", "/office/conflicts/{conflict_id}/resolve"): {"supervisor", "admin"},
    ("GET", "/office/dispatch"): VIEWERS,
    ("GET", "/office/dispatch/map"): VIEWERS,
    ("GET", "/office/dispatch/map/tiles/{district}/{z}/{x}/{y}"): VIEWERS,
    ("POST", "/office/dispatch/auto"): OFFICE,
    ("GET", "/office/jobs/new"): VIEWERS,
    ("POST", "/office/jobs"): OFFICE,
    ("POST", "/office/jobs/import"): OFFICE,
    ("GET", "/office/jobs/{job_id}"): VIEWERS,
    ("POST", "/office/jobs/{job_id}/assign"): OFFICE,
    ("GET", "/office/alerts"): VIEWERS,
    ("POST", "/office/alerts/{alert_id}/ack"): {"supervisor", "admin"},
    ("GET", "/office/rules"): VIEWERS,
    ("POST", "/office/rules/{rule_id}"): {"admin"},
    ("GET", "/office/rules/{rule_id}/edit"): {"admin"},
    ("GET", "/office/rule-editor"): {"admin"},
    ("POST", "/office/rule-editor"): {"admin"},
    ("GET", "/office/time-limits"): VIEWERS,
    ("POST", "/office/time-limits"): {"supervisor", "admin"},
    ("POST", "/office/time-limits/chain"): {"supervisor", "admin"},
    ("GET", "/office/tasks"): VIEWERS,
    ("GET", "/office/parts"): VIEWERS,
    # 群发: everyone in the office reads the campaigns; supervisors and admins send them.
    ("GET", "/office/campaigns"): VIEWERS,
    ("GET", "/office/campaigns/{campaign_id}"): VIEWERS,
    ("POST", "/office/campaigns/send"): {"supervisor", "admin"},
    ("GET", "/office/desk"): VIEWERS,
    ("GET", "/office/desk/{customer_id}"): VIEWERS,
    ("POST", "/office/desk/{customer_id}/calls"): OFFICE,
    ("POST", "/office/desk/{customer_id}/details"): OFFICE,
    ("POST", "/office/desk/{customer_id}/opt-out"): OFFICE,
    ("POST", "/office/parts/{request_id}/decide"): OFFICE,
    ("GET", "/office/kb"): VIEWERS,
    ("GET", "/office/kb/new"): {"supervisor", "admin"},
    ("POST", "/office/kb"): {"supervisor", "admin"},
    ("GET", "/office/kb/figures/{name}"): VIEWERS,
    ("GET", "/office/kb/{article_id}"): VIEWERS,
    ("GET", "/office/kb/{article_id}/versions/{number}"): VIEWERS,
    ("POST", "/office/kb/{article_id}"): {"supervisor", "admin"},
    ("POST", "/office/kb/{article_id}/publish"): {"supervisor", "admin"},
    ("POST", "/office/kb/{article_id}/withdraw"): {"supervisor", "admin"},
    ("POST", "/office/tasks/{task_id}/done"): OFFICE,
    ("GET", "/office/audit"): VIEWERS,
    ("GET", "/office/verify"): VIEWERS,
    ("GET", "/verify/{kind}/{report_id}"): EVERYONE,  # a printout's QR code: no sign-in
    ("GET", "/office/audit.csv"): VIEWERS,
    ("GET", "/office/kpis"): VIEWERS,
    ("GET", "/office/kpis.csv"): VIEWERS,
    ("GET", "/office/billing"): VIEWERS,
    ("POST", "/office/billing/run"): OFFICE,
    ("GET", "/office/bills/{bill_id}"): VIEWERS,
    ("POST", "/office/bills/{bill_id}/pay"): OFFICE,
    ("GET", "/office/users"): {"admin"},
    ("POST", "/office/users"): {"admin"},
    ("POST", "/office/users/{username}/active"): {"admin"},
    ("POST", "/office/users/{username}/password"): {"admin"},
    ("POST", "/office/users/{username}/phone"): {"admin"},
    ("POST", "/office/devices/{device_id}/revoke"): {"admin"},
    ("POST", "/office/devices/{device_id}/release"): {"admin"},
    ("GET", "/office/forms"): VIEWERS,
    ("POST", "/office/forms"): {"admin"},
    ("GET", "/office/forms/uploads/{token}"): {"admin"},
    ("POST", "/office/forms/uploads/{token}/publish"): {"admin"},
    ("GET", "/office/forms/{code}/{version}"): VIEWERS,
    ("GET", "/office/forms/{code}/{version}/xlsform"): VIEWERS,
    ("GET", "/office/forms/{code}/{version}/files/{name}"): VIEWERS,
    ("POST", "/office/forms/choice"): {"admin"},
    ("GET", "/office/imports"): {"admin"},
    ("POST", "/office/imports"): {"admin"},
    ("GET", "/office/imports/{run_id}"): {"admin"},
    ("POST", "/office/imports/{run_id}/mapping"): {"admin"},
    ("POST", "/office/imports/{run_id}/run"): {"admin"},
    # The portal: a customer's session only, which no staff session or token is
    # (tests/portal/); signing in, help, the reminder's link and the payment provider's
    # callback are open to anyone and checked by what they carry.
    ("GET", "/portal/login"): EVERYONE,
    ("POST", "/portal/login"): EVERYONE,
    ("POST", "/portal/verify"): EVERYONE,
    ("GET", "/portal/help"): EVERYONE,
    ("GET", "/portal/help/{article_id}"): EVERYONE,
    ("GET", "/portal/help/figures/{name}"): EVERYONE,
    ("GET", "/portal/a/{token}"): EVERYONE,
    ("POST", "/portal/a/{token}"): EVERYONE,
    ("POST", "/portal/pay/callback/{provider}"): EVERYONE,
    ("POST", "/portal/logout"): CUSTOMER,
    ("GET", "/portal/"): CUSTOMER,
    ("POST", "/portal/notices"): CUSTOMER,
    ("GET", "/portal/usage"): CUSTOMER,
    ("GET", "/portal/bills"): CUSTOMER,
    ("POST", "/portal/bills/{bill_id}/pay"): CUSTOMER,
    ("GET", "/portal/pay/sim/{order_id}"): CUSTOMER,
    ("POST", "/portal/pay/sim/{order_id}"): CUSTOMER,
    ("GET", "/portal/pay/result/{order_id}"): CUSTOMER,
    ("GET", "/portal/requests"): CUSTOMER,
    ("GET", "/portal/requests/new/{kind}"): CUSTOMER,
    ("POST", "/portal/requests/new/{kind}"): CUSTOMER,
    ("GET", "/portal/requests/{request_id}"): CUSTOMER,
    ("POST", "/portal/requests/{request_id}/rate"): CUSTOMER,
}
# Signing in and out are for everyone by nature; they are tested on their own.
NOT_IN_MATRIX = {("GET", "/office/login"), ("POST", "/office/login"),
                 ("POST", "/api/v1/auth/login"), ("POST", "/office/logout"),
                 ("GET", "/portal/verify")}
SAMPLE = {"sha256": "0" * 64, "document": "report", "conflict_id": "1", "alert_id": "1",
          "task_id": "1", "username": "nobody", "device_id": "no-such-device"}


def routes(tmp_path: Path) -> set[tuple[str, str]]:
    app = create_app(Settings(data_dir=tmp_path, alert_scan=None, database_url=None))
    found = set()
    for route in app.routes:
        # Included routers appear as one entry holding their own routes (FastAPI ≥ 0.120).
        inner = getattr(route, "original_router", None)
        prefix = getattr(getattr(route, "include_context", None), "prefix", "")
        for r in inner.routes if inner is not None else [route]:
            if isinstance(r, APIRoute):
                found |= {(m, prefix + r.path) for m in r.methods}
    return found


def test_every_route_has_a_rule(tmp_path: Path) -> None:
    found = routes(tmp_path)
    assert found - NOT_IN_MATRIX - set(RULES) == set(), "routes nobody decided about"
    assert set(RULES) - found == set(), "rules for routes that no longer exist"


@pytest.fixture
def clients(server: ServerProcess) -> dict[str, tuple[requests.Session, str]]:
    """A session per role (office roles signed in to the office, with their CSRF token;
    a technician with only a tablet token) and the API token of each."""
    db = open_database(server.data_dir, server.database_url)
    with db.write() as conn:
        add_user(conn, "auditor", "钱审计", "auditor", PASSWORD)
    db.close()
    out: dict[str, tuple[requests.Session, str]] = {"anonymous": (requests.Session(), "")}
    tech = requests.Session()
    tech.headers.update(login(server, "tech01", "pad-1"))
    tech.cookies.set("fieldapp_office", tech.headers["Authorization"][7:])
    out["technician"] = (tech, "")
    for role in ("auditor", "dispatcher", "supervisor", "admin"):
        session = office_session(server, role)
        token = csrf(session.get(f"{server.url}/office/dispatch", timeout=10).text)
        session.headers.update(login(server, role, f"api-{role}"))
        out[role] = (session, token)
    return out


def outcome(resp: requests.Response) -> str:
    if resp.status_code in (401, 403):
        return "refused"
    if resp.status_code in (302, 303, 307) and resp.headers.get("location", "").endswith(
            ("/office/login", "/portal/login")) or "/office/login?" in resp.headers.get(
            "location", ""):
        return "refused"
    return "allowed"


def test_each_role_gets_exactly_its_routes(server: ServerProcess, clients: dict) -> None:
    wrong = []
    # The office's own writes first would change what later requests see; the ids here
    # are made up, so nothing real is touched except pending jobs being auto-dispatched.
    for (method, path), allowed in sorted(RULES.items()):
        url = server.url + re.sub(r"\{(\w+)\}", lambda m: SAMPLE.get(m[1], "x"), path)
        for role in ROLES:
            session, token = clients[role]
            kwargs: dict = {"timeout": 30, "allow_redirects": False}
            if method == "POST" and path.startswith("/office/"):
                kwargs["data"] = {"csrf": token}
            elif method == "POST":
                kwargs["json"] = {}
            elif method == "PUT":
                kwargs["params"] = {"offset": 0, "total": 1}
                kwargs["data"] = b"x"
            got = outcome(session.request(method, url, **kwargs))
            expected = "allowed" if role in allowed else "refused"
            if got != expected:
                wrong.append(f"{role} {method} {path}: {got}, expected {expected}")
    assert wrong == []


def test_a_district_dispatcher_sees_only_their_district(server: ServerProcess) -> None:
    db = open_database(server.data_dir, server.database_url)
    with db.write() as conn:
        add_user(conn, "gulou_dispatch", "鼓楼调度", "dispatcher", PASSWORD, "鼓楼区")
    db.close()
    office = office_session(server, "gulou_dispatch")
    board = office.get(f"{server.url}/office/dispatch", timeout=10).text
    assert "GD202611240003" in board and "GD202611240001" not in board  # 鼓楼区 / 秦淮区
    other = office.get(f"{server.url}/office/jobs/job-1", timeout=10,
                       headers={"Accept": "text/html"})
    assert other.status_code == 403 and "不在您负责的区域（鼓楼区）" in other.text
    page = office.get(f"{server.url}/office/jobs/new", timeout=10).text
    made = office.post(f"{server.url}/office/jobs", timeout=10, data={
        "csrf": csrf(page), "kind": "inspection", "customer": "320100000001",
        "due_at": "2026-12-01T09:00"})
    assert made.status_code == 422 and "不在您负责的区域" in made.text
    kpis = office.get(f"{server.url}/office/kpis", timeout=10).text
    assert 'value="鼓楼区" selected' in kpis and "秦淮区" not in kpis


# -- the district dimension ------------------------------------------------------------------
# Every staff route that names an object by id, asked by an account limited to 秦淮区 for
# 鼓楼区's object: refused (403 or 404), never 200 with its data, never 5xx, nothing changed.
# "refused" is the decision for each; a route whose id names no district's object says why
# instead. Derived from the routes: a new route with an id fails until someone decides.
REFUSED = "refused"
KB_ARTICLES = ("a knowledge-base article (or its figure) belongs to no district: every tablet"
               " pulls them all (kb_articles is not scoped), every office viewer reads them")
DISTRICT: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/admin/devices/{device_id}/revoke"): REFUSED,
    ("POST", "/api/v1/office/jobs/{job_id}/assign"): REFUSED,
    ("GET", "/office/reports/{submission_id}"): REFUSED,
    ("GET", "/office/reports/{submission_id}/{document}.pdf"): REFUSED,
    ("GET", "/office/files/{sha256}"): REFUSED,
    ("POST", "/office/conflicts/{conflict_id}/resolve"): REFUSED,
    ("GET", "/office/desk/{customer_id}"): REFUSED,
    ("GET", "/office/campaigns/{campaign_id}"): "another district's campaign is refused"
    " (403) and left out of the list: test_campaigns.py sends a real one to 鼓楼区",
    ("POST", "/office/desk/{customer_id}/calls"): REFUSED,
    ("POST", "/office/desk/{customer_id}/details"): REFUSED,
    ("POST", "/office/desk/{customer_id}/opt-out"): REFUSED,
    ("GET", "/office/jobs/{job_id}"): REFUSED,
    ("POST", "/office/jobs/{job_id}/assign"): REFUSED,
    ("POST", "/office/alerts/{alert_id}/ack"): REFUSED,
    ("POST", "/office/parts/{request_id}/decide"): REFUSED,
    **{route: KB_ARTICLES for route in [
        ("GET", "/office/kb/figures/{name}"), ("GET", "/office/kb/{article_id}"),
        ("GET", "/office/kb/{article_id}/versions/{number}"),
        ("POST", "/office/kb/{article_id}"), ("POST", "/office/kb/{article_id}/publish"),
        ("POST", "/office/kb/{article_id}/withdraw")]},
    ("POST", "/office/tasks/{task_id}/done"): REFUSED,
    ("GET", "/office/bills/{bill_id}"): REFUSED,
    ("POST", "/office/bills/{bill_id}/pay"): REFUSED,
    ("POST", "/office/users/{username}/active"): REFUSED,  # admins only: refused by role
    ("POST", "/office/users/{username}/password"): REFUSED,
    ("POST", "/office/users/{username}/phone"): REFUSED,
    ("POST", "/office/devices/{device_id}/revoke"): REFUSED,
    ("POST", "/office/devices/{device_id}/release"): REFUSED,  # admins only
    ("POST", "/office/rules/{rule_id}"): REFUSED,  # the utility's rules: admins only
    ("GET", "/office/rules/{rule_id}/edit"): REFUSED,
    ("GET", "/office/forms/uploads/{token}"): REFUSED,  # publishing forms: admins only
    ("POST", "/office/forms/uploads/{token}/publish"): REFUSED,
    ("GET", "/office/forms/{code}/{version}"): "a published form's questions: the utility's"
    " own, the same in every district, no customer data",
    ("GET", "/office/forms/{code}/{version}/xlsform"): "the same form as an XLSForm: no"
    " customer data",
    ("GET", "/office/forms/{code}/{version}/files/{name}"): "a table the form carries (a"
    " price list): the utility's own, no customer data",
    ("GET", "/office/imports/{run_id}"): REFUSED,  # the utility's data: admins only
    ("POST", "/office/imports/{run_id}/mapping"): REFUSED,
    ("POST", "/office/imports/{run_id}/run"): REFUSED,
    ("GET", "/api/v1/attachments/{sha256}"): "an upload's progress (bytes received) by its"
    " content hash, for the tablet resuming it: no customer data",
    ("PUT", "/api/v1/attachments/{sha256}"): "a chunk of content-addressed bytes; which"
    " record it belongs to is decided by the record's push",
    ("GET", "/api/v1/network/{sha256}"): REFUSED,  # another district's: test_network_api.py
    ("GET", "/api/v1/basemap/{sha256}"): REFUSED,  # another district's: test_basemap_api.py
    ("GET", "/office/dispatch/map/tiles/{district}/{z}/{x}/{y}"): REFUSED,  # see
    # test_office_basemap.py: another district's tiles are refused to a district account
    ("GET", "/api/v1/kb/figures/{name}"): "a figure of a published article: the"
    " utility's knowledge base is the same in every district, no customer data",
    ("GET", "/verify/{kind}/{report_id}"): "public, for a printout's QR code: it shows"
    " only whether the document matches, its number, date and the utility",
}
# What a request needs to get past the form's own validation to the object.
FORMS = {"/resolve": {"choice": "current"}, "/done": {"outcome": "用户满意"},
         "/decide": {"decision": "issued"}, "/pay": {"method": "counter", "amount": "1.00"},
         "/assign": {"username": "tech02"}, "/password": {"password": "n3w-Passw0rd!x"},
         "/active": {"active": "0"}, "/calls": {"text": "来电：查询账单"},
         "/details": {"phone": "13900001111", "address": "某路 1 号"}, "/opt-out": {"out": "1"}}
SAMPLE_OTHER = {"document": "report", "rule_id": "rule-completed-sms", "district": "鼓楼区",
                "z": "15", "x": "27195", "y": "13300"}


def test_every_object_route_has_a_district_decision(tmp_path: Path) -> None:
    with_ids = {(m, p) for m, p in routes(tmp_path) - NOT_IN_MATRIX
                if "{" in p and not p.startswith("/portal/")}
    assert with_ids - set(DISTRICT) == set(), "routes with an id nobody decided about"
    assert set(DISTRICT) - with_ids == set(), "decisions for routes that no longer exist"


def test_a_district_account_is_refused_another_districts_objects(
        server: ServerProcess, tmp_path: Path) -> None:
    objects = two_districts(server, tmp_path)
    admin = office_session(server, "admin")
    for path in ("/office/jobs/{job_id}", "/office/bills/{bill_id}",
                 "/office/reports/{submission_id}",
                 "/office/desk/{customer_id}"):  # the samples are real objects
        url = server.url + re.sub(r"\{(\w+)\}", lambda m: objects.other[m[1]], path)
        assert admin.get(url, timeout=30).status_code == 200, path
    before = snapshot(server)
    wrong = []
    for username in SCOPED:
        session = office_session(server, username)
        token = csrf(session.get(f"{server.url}/office/dispatch", timeout=10).text)
        api = login(server, username, f"api-{username}")
        for (method, path), decision in sorted(DISTRICT.items()):
            if decision != REFUSED:
                continue
            url = server.url + re.sub(r"\{(\w+)\}", lambda m: SAMPLE_OTHER.get(
                m[1], objects.other.get(m[1], "x")), path)
            form = next((f for end, f in FORMS.items() if path.endswith(end)), {})
            if path.startswith("/api/"):
                resp = session.request(method, url, headers=api, json=form, timeout=30,
                                       allow_redirects=False)
            else:
                resp = session.request(method, url, data={**form, "csrf": token},
                                       timeout=30, allow_redirects=False,
                                       headers={"Accept": "text/html"})
            if resp.status_code not in (403, 404) or OTHER_NAME in resp.text:
                wrong.append(f"{username} {method} {path}: {resp.status_code}")
    assert wrong == []
    assert snapshot(server) == before  # nothing of 鼓楼区's was changed by the attempts
