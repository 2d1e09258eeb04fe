"""群发安全提示 over HTTP against the real server: the preview's counts and sample, the send
written once however often it is submitted, every refusal in words with nothing written,
roles, districts, CSRF, and the daily limits holding when two sends race."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import requests

from tests.conftest import ServerProcess
from tests.server.campaign_helpers import (
    NOTICE,
    add_customers,
    campaign_messages,
    preview,
    problems,
    send,
    send_form,
)
from tests.server.districts import add_scoped_accounts
from tests.server.test_conflict_review import csrf, office_session


def test_a_notice_previews_its_recipients_and_is_sent_once(server: ServerProcess) -> None:
    office = office_session(server, "supervisor")
    page = preview(office, server, tags=["独居老人"], districts=["秦淮区"])
    assert page.status_code == 200, page.text
    assert 'id="recipients">1<' in page.text  # cust-1 only: 刘洋 has no such tag
    assert "139****5678" in page.text and "13912345678" not in page.text  # masked
    assert "陈桂芳您好" in page.text  # the sample shows the text each receives
    assert campaign_messages(server) == []  # a preview writes nothing
    form = send_form(page.text)
    done = send(office, server, form)
    assert done.status_code == 200 and "已写入 1 条短信" in done.text, done.text
    again = send(office, server, form)  # a double submit, a retry after a lost answer
    assert again.status_code == 200
    sent = campaign_messages(server)
    assert len(sent) == 1 and sent[0]["customer_id"] == "cust-1"
    assert sent[0]["text"].startswith("【") and "陈桂芳您好" in sent[0]["text"]
    assert "{" not in sent[0]["text"]
    assert server.scalar("SELECT count(*) FROM campaigns") == 1
    audit = server.query("SELECT op, by_user, fields FROM changes WHERE tbl = 'security'"
                         " AND op LIKE 'campaign%' ORDER BY seq")
    assert [a["op"] for a in audit] == ["campaign_created", "campaign_sent"]
    assert audit[0]["by_user"] == "supervisor"
    assert json.loads(audit[0]["fields"])["tags"] == ["独居老人"]
    listed = office.get(server.url + "/office/campaigns", timeout=10)
    assert listed.text.count('class="campaign-row"') == 1 and "独居老人" in listed.text


def test_a_second_notice_today_skips_who_already_had_one(server: ServerProcess) -> None:
    office = office_session(server, "admin")
    send(office, server, send_form(preview(office, server, districts=["秦淮区"]).text))
    assert len(campaign_messages(server)) == 2
    page = preview(office, server, districts=["秦淮区", "鼓楼区"])
    assert 'id="recipients">1<' in page.text and 'id="excluded-messaged_today">2<' in page.text
    send(office, server, send_form(page.text))
    assert sorted(m["customer_id"] for m in campaign_messages(server)) == \
        ["cust-1", "cust-2", "cust-3"]
    nobody = preview(office, server, districts=["秦淮区"])
    assert nobody.status_code == 400 and "没有可发送的对象" in problems(nobody.text)[0]


@pytest.mark.parametrize(("text", "says"), [
    ("", "请填写短信内容"),
    ("   ", "请填写短信内容"),
    ("寒潮将至，请注意用气安全", "签名"),
    ("【江宁燃气】{name}您好", "未知的占位符 {name}"),
    ("【江宁燃气】{customer_name您好", "花括号不成对"),
    ("【江宁燃气】" + "注" * 300, "超过 300 字"),
])
def test_a_bad_text_is_refused_in_words(server: ServerProcess, text: str, says: str) -> None:
    office = office_session(server, "supervisor")
    page = preview(office, server, text=text, districts=["秦淮区"])
    assert page.status_code == 400 and any(says in p for p in problems(page.text)), page.text
    assert 'id="send-form"' not in page.text
    # Posted anyway (a form built by hand): refused the same, nothing written.
    token = csrf(office.get(server.url + "/office/campaigns", timeout=10).text)
    forged = send(office, server, {"csrf": [token], "text": [text], "districts": ["秦淮区"],
                                   "campaign_id": ["0190a000-0000-7000-8000-000000000001"]})
    assert forged.status_code == 400 and any(says in p for p in problems(forged.text))
    assert server.scalar("SELECT count(*) FROM campaigns") == 0 and not campaign_messages(server)


def test_nobody_to_send_to_and_bad_choices_are_refused(server: ServerProcess) -> None:
    office = office_session(server, "supervisor")
    none = preview(office, server, tags=["没有人有的标签"], districts=["秦淮区"])
    assert none.status_code == 400 and "没有可发送的对象" in problems(none.text)[0]
    no_district = preview(office, server)
    assert no_district.status_code == 400 and "请至少选择一个区域" in problems(no_district.text)
    bad = preview(office, server, match="everything", districts=["火星区"])
    said = problems(bad.text)
    assert bad.status_code == 400 and "没有这个区域：火星区" in said
    assert any("含任一标签" in p for p in said)
    huge = preview(office, server, districts=["区" * 100_00], tags=["x" * 5000] * 200)
    assert huge.status_code in (400, 414, 422) and "区" * 41 not in huge.text
    many = preview(office, server, more_tags="、".join(f"标签{i}" for i in range(30)),
                   districts=["秦淮区"])
    assert many.status_code == 400 and any("标签最多" in p for p in problems(many.text))
    token = csrf(office.get(server.url + "/office/campaigns", timeout=10).text)
    for campaign_id in ("", "1", "'; DROP TABLE campaigns; --", "x" * 64):
        wrong = send(office, server, {"csrf": [token], "campaign_id": [campaign_id],
                                      "text": [NOTICE], "districts": ["秦淮区"]})
        assert wrong.status_code in (400, 422) and "Traceback" not in wrong.text
    assert server.scalar("SELECT count(*) FROM campaigns") == 0


def test_only_supervisors_send_and_only_to_their_district(server: ServerProcess) -> None:
    add_scoped_accounts(server)
    dispatcher = office_session(server, "dispatcher")
    assert preview(dispatcher, server, districts=["秦淮区"]).status_code == 403
    admin = office_session(server, "admin")
    form = send_form(preview(admin, server, districts=["鼓楼区"]).text)
    form["csrf"] = [csrf(dispatcher.get(server.url + "/office/campaigns", timeout=10).text)]
    assert send(dispatcher, server, form).status_code == 403
    assert dispatcher.get(server.url + "/office/campaigns", timeout=10).status_code == 200
    form["csrf"] = ["0" * 64]  # a form posted from another site
    assert send(admin, server, form).status_code == 403
    del form["csrf"]
    assert send(admin, server, form).status_code == 403
    assert server.scalar("SELECT count(*) FROM campaigns") == 0

    local = office_session(server, "qh_super")  # a supervisor of 秦淮区
    page = local.get(server.url + "/office/campaigns", timeout=10)
    assert 'value="鼓楼区"' not in page.text
    assert preview(local, server, districts=["鼓楼区"]).status_code == 403
    theirs = send_form(preview(local, server, districts=["秦淮区"]).text)
    theirs["districts"] = ["秦淮区", "鼓楼区"]  # edited on the way
    refused = send(local, server, theirs)
    assert refused.status_code == 403 and "秦淮区" in refused.text
    assert server.scalar("SELECT count(*) FROM campaigns") == 0

    form["csrf"] = [csrf(admin.get(server.url + "/office/campaigns", timeout=10).text)]
    send(admin, server, form)  # 鼓楼区's campaign
    gulou = server.scalar("SELECT id FROM campaigns")
    assert local.get(f"{server.url}/office/campaigns/{gulou}", timeout=10).status_code == 403
    assert gulou not in local.get(server.url + "/office/campaigns", timeout=10).text
    theirs["districts"] = ["秦淮区"]
    theirs["campaign_id"] = [gulou]  # another's campaign id, to add to it
    assert send(local, server, theirs).status_code == 403
    assert len(campaign_messages(server)) == 1
    assert local.get(server.url + "/office/campaigns/nope", timeout=10).status_code == 404
    send(local, server, send_form(preview(local, server, districts=["秦淮区"]).text))
    mine = local.get(server.url + "/office/campaigns", timeout=10).text
    assert mine.count('class="campaign-row"') == 1 and gulou not in mine
    assert len(campaign_messages(server)) == 3  # 鼓楼区's one and 秦淮区's two


def test_a_million_customers_are_refused_before_anything_is_written(
        server: ServerProcess) -> None:
    add_customers(server, 1_000_000, "六合区", json.dumps(["独居老人"]), "lh")
    office = office_session(server, "admin")
    page = preview(office, server, tags=["独居老人"], districts=["六合区"])
    said = problems(page.text)
    assert page.status_code == 400 and any("1,000,000" in p and "50,000" in p for p in said)
    forged = send(office, server, {
        "csrf": [csrf(page.text)], "text": [NOTICE], "tags": ["独居老人"],
        "districts": ["六合区"], "campaign_id": ["0190a000-0000-7000-8000-000000000002"]})
    assert forged.status_code == 400 and "1,000,000" in forged.text
    assert server.scalar("SELECT count(*) FROM campaigns") == 0 and not campaign_messages(server)


@pytest.fixture
def limited(tmp_path: Path) -> ServerProcess:
    """Two worker processes, at most one campaign message per customer a day and 12 for the
    whole server, with 15 customers in 六合区: 1–10 tagged 独居老人, 6–15 tagged 商户."""
    data = tmp_path / "limited"
    data.mkdir()
    server = ServerProcess(data, workers=2)
    server.seed_world()
    add_customers(server, 5, "六合区", json.dumps(["独居老人"]), "lh")
    add_customers(server, 5, "六合区", json.dumps(["独居老人", "商户"]), "lh", start=6)
    add_customers(server, 5, "六合区", json.dumps(["商户"]), "lh", start=11)
    server.start(FIELDAPP_CAMPAIGN_DAILY_TOTAL="12", FIELDAPP_CAMPAIGN_PER_CUSTOMER_DAY="1")
    yield server
    server.discard()


def test_two_sends_racing_never_pass_the_daily_limits(limited: ServerProcess) -> None:
    sessions = [office_session(limited, "admin"), office_session(limited, "supervisor")]
    forms = [send_form(preview(s, limited, tags=[tag], districts=["六合区"]).text)
             for s, tag in zip(sessions, ["独居老人", "商户"], strict=True)]
    answers: list[requests.Response] = []
    start = threading.Barrier(2)

    def go(i: int) -> None:
        start.wait()
        answers.append(send(sessions[i], limited, forms[i]))

    threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(a.status_code in (200, 400) for a in answers), [a.text for a in answers]
    sent = campaign_messages(limited)
    per_customer = [m["customer_id"] for m in sent]
    assert len(per_customer) == len(set(per_customer))  # nobody twice
    assert len(sent) <= 12  # the server's day
    assert len(sent) >= 10  # the first to write got all of its own
    held = limited.scalar("SELECT coalesce(sum(held_back), 0) FROM campaigns")
    planned = limited.scalar("SELECT coalesce(sum(planned), 0) FROM campaigns")
    assert len(sent) + held <= planned
