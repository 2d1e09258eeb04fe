"""Opting out of campaign notices (退订), the standard tag chips at 客服中心 and every
message on the customer's page, over HTTP against the real server; and, against the
storage, that an opted-out customer still gets the messages of their own service."""

from __future__ import annotations

import json

import requests

from sync_server.services import opt_outs
from sync_server.storage.db import Storage
from tests.conftest import ServerProcess
from tests.server.campaign_helpers import campaign_messages, preview, send, send_form
from tests.server.districts import add_scoped_accounts
from tests.server.test_conflict_review import csrf, office_session
from tests.server.test_rules import TECH01, complete, installed, rows, run


def opt_out(session: requests.Session, server: ServerProcess, customer: str,
            out: str = "1", token: str | None = None) -> requests.Response:
    if token is None:
        token = csrf(session.get(f"{server.url}/office/desk/{customer}", timeout=10).text)
    return session.post(f"{server.url}/office/desk/{customer}/opt-out", timeout=10,
                        data={"csrf": token,
                              "out": out})


def test_an_opted_out_customer_is_left_out_of_campaigns(server: ServerProcess) -> None:
    desk = office_session(server, "dispatcher")
    done = opt_out(desk, server, "cust-2")
    assert done.status_code == 200 and 'id="opted-out"' in done.text and "客服中心" in done.text
    assert opt_out(desk, server, "cust-2").status_code == 200  # twice: still one row
    assert server.scalar("SELECT count(*) FROM campaign_opt_outs") == 1
    audit = server.query("SELECT op, by_user, record_id FROM changes WHERE tbl = 'security'"
                         " AND op LIKE 'campaign_opt%'")
    assert audit == [{"op": "campaign_opt_out", "by_user": "dispatcher", "record_id": "cust-2"}]
    office = office_session(server, "supervisor")
    page = preview(office, server, districts=["秦淮区"])
    assert 'id="recipients">1<' in page.text and 'id="excluded-opted_out">1<' in page.text
    send(office, server, send_form(page.text))
    assert [m["customer_id"] for m in campaign_messages(server)] == ["cust-1"]
    back = opt_out(desk, server, "cust-2", "0")
    assert 'id="opted-out"' not in back.text
    assert server.scalar("SELECT count(*) FROM campaign_opt_outs") == 0


def test_opting_out_is_refused_without_csrf_to_others_and_for_nonsense(
        server: ServerProcess) -> None:
    add_scoped_accounts(server)
    desk = office_session(server, "dispatcher")
    assert opt_out(desk, server, "cust-2", token="0" * 64).status_code == 403
    assert opt_out(desk, server, "cust-2", token="").status_code == 403
    for value in ("2", "yes", ""):
        refused = opt_out(desk, server, "cust-2", value)
        assert refused.status_code in (400, 422) and "Traceback" not in refused.text
    token = csrf(desk.get(f"{server.url}/office/desk", timeout=10).text)
    assert opt_out(desk, server, "nobody", token=token).status_code == 404
    local = office_session(server, "qh_dispatch")
    token = csrf(local.get(f"{server.url}/office/desk", timeout=10).text)
    other = local.post(f"{server.url}/office/desk/cust-3/opt-out", timeout=10,
                       data={"csrf": token, "out": "1"})
    assert other.status_code == 403
    assert server.scalar("SELECT count(*) FROM campaign_opt_outs") == 0


def test_the_customer_page_lists_every_message_newest_first(server: ServerProcess) -> None:
    office = office_session(server, "admin")
    send(office, server, send_form(preview(office, server, districts=["秦淮区"]).text))
    server.query("INSERT INTO notifications(channel, recipient, text, customer_id, job_id,"
                 " rule_id, created_at) VALUES ('sms', '13912345678', '【江宁】安检已完成',"
                 " 'cust-1', 'job-1', 'rule-completed-sms', '2099-01-01T00:00:00+00:00')"
                 " RETURNING id")
    page = office.get(server.url + "/office/desk/cust-1", timeout=10).text
    listed = page.split('id="messages"', 1)[1].split("</table>", 1)[0]
    assert listed.count('class="message-row"') == 2
    assert listed.index("安检已完成") < listed.index("寒潮将至")  # newest first
    assert "/office/campaigns/" in listed and "规则：" in listed
    assert "139****5678" in listed and "13912345678" not in listed
    other = office.get(server.url + "/office/desk/cust-3", timeout=10).text
    assert "寒潮将至" not in other.split('id="messages"', 1)[1]


def test_standard_tags_are_chips_beside_the_free_ones(server: ServerProcess) -> None:
    desk = office_session(server, "dispatcher")
    page = desk.get(server.url + "/office/desk/cust-1", timeout=10).text
    assert 'name="chips" value="独居老人" checked' in page
    assert 'name="chips" value="新开通用户" >' in page or 'value="新开通用户" ' in page
    saved = desk.post(server.url + "/office/desk/cust-1/details", timeout=10, data={
        "csrf": csrf(page), "phone": "13912345678", "address": "秦淮区 龙蟠中路 218号",
        "chips": ["独居老人", "有老人小孩的家庭"], "tags": "低保户、 楼道窄"})
    assert saved.status_code == 200
    stored = json.loads(server.scalar("SELECT tags FROM customers WHERE id = 'cust-1'"))
    assert stored == ["独居老人", "有老人小孩的家庭", "低保户", "楼道窄"]
    page = desk.get(server.url + "/office/desk/cust-1", timeout=10).text
    assert 'value="有老人小孩的家庭" checked' in page and 'value="低保户" checked' in page
    assert 'maxlength="200" value="楼道窄"' in page  # only the free tag is typed
    too_many = desk.post(server.url + "/office/desk/cust-1/details", timeout=10, data={
        "csrf": csrf(page), "phone": "13912345678", "address": "秦淮区 龙蟠中路 218号",
        "tags": "、".join(f"标签{i}" for i in range(25))})
    assert "标签最多 20 个" in too_many.text
    assert json.loads(server.scalar("SELECT tags FROM customers WHERE id = 'cust-1'")) == stored


def test_service_messages_still_reach_an_opted_out_customer(db: Storage) -> None:
    engine = installed(db)
    with engine.write() as conn:
        opt_outs.set_opt_out(conn, "tester", "cust-1", True, "office")
    complete(engine, TECH01, "job-1")
    run(engine)
    texts = rows(engine, "SELECT customer_id, text FROM notifications WHERE job_id = 'job-1'")
    assert texts and texts[0]["customer_id"] == "cust-1" and "已完成" in texts[0]["text"]
