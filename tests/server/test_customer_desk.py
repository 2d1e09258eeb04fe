"""客服中心 over plain HTTP against the real server: a caller found as they describe
themselves, their whole record on one page, and another district's customer never shown to
an account limited to its own."""

from __future__ import annotations

import pytest
import requests

from tests.conftest import ServerProcess, synced_tablet
from tests.server.districts import OTHER_NAME, OTHER_PHONE, add_scoped_accounts
from tests.server.test_conflict_review import csrf, office_session
from tests.world import complete_inspection


def found(session: requests.Session, server: ServerProcess, q: str) -> list[str]:
    page = session.get(server.url + "/office/desk", params={"q": q}, timeout=10)
    assert page.status_code == 200, page.text
    return [row.split('">', 1)[1].split("<", 1)[0] for row in
            page.text.split('<tr class="found-row"><td><a href="/office/desk/')[1:]]


@pytest.mark.parametrize(("q", "accounts"), [
    ("陈桂芳", ["320100000001"]),  # the name
    ("139-1234-5678", ["320100000001"]),  # the phone, as a caller reads it out
    ("5678", ["320100000001"]),  # its last four digits
    ("320100000002", ["320100000002"]),  # the account number
    ("龙蟠中路 金陵小区", ["320100000001"]),  # address words, in any order of the address
    ("GM0000000003", ["320100000003"]),  # a meter's barcode
    ("秦淮区", ["320100000001", "320100000002"]),
    ("没有这个人", []),
    ("%%", []),  # a LIKE wildcard is a character, not "everything"
    ("陈", []),  # one character is too little to search by
])
def test_a_caller_is_found_as_they_describe_themselves(server: ServerProcess, q: str,
                                                       accounts: list[str]) -> None:
    office = office_session(server, "dispatcher")
    assert sorted(found(office, server, q)) == accounts


def test_the_customer_page_shows_the_whole_record(server: ServerProcess, tmp_path) -> None:
    replica, client = synced_tablet(server, tmp_path / "tablet")
    complete_inspection(replica, "job-1", tmp_path / "hose.jpg")
    replica.interactions.add("job-1", "call", "用户说晚上在家")
    client.sync()
    replica.close()
    office = office_session(server, "dispatcher")
    page = office.get(server.url + "/office/desk/cust-1", timeout=10)
    assert page.status_code == 200
    text = page.text
    assert "陈桂芳" in text and "独居老人" in text and "GM0000000001" in text
    number = server.scalar("SELECT number FROM jobs WHERE id = 'job-1'")
    assert number in text and "已完成" in text  # the job, with its status history
    sub_id = server.scalar("SELECT id FROM submissions WHERE job_id = 'job-1'")
    assert f"/office/reports/{sub_id}" in text  # the inspection opens as its report
    assert "用户说晚上在家" in text  # the call the technician logged
    assert "待整改" in text  # the hazard the inspection found
    assert office.get(server.url + "/office/desk/nobody", timeout=10).status_code == 404


def test_an_account_of_one_district_finds_and_opens_only_its_own(
        server: ServerProcess) -> None:
    add_scoped_accounts(server)
    mine = office_session(server, "qh_dispatch")
    assert found(mine, server, OTHER_NAME) == []
    assert found(mine, server, OTHER_PHONE) == []
    page = mine.get(server.url + "/office/desk/cust-3", timeout=10)
    assert page.status_code == 403 and OTHER_NAME not in page.text
    assert found(office_session(server, "supervisor"), server, OTHER_NAME) == ["320100000003"]


def test_the_desk_needs_a_signed_in_office_user(server: ServerProcess) -> None:
    anonymous = requests.get(server.url + "/office/desk", params={"q": "陈"}, timeout=10,
                             allow_redirects=False)
    assert anonymous.status_code in (302, 303, 401) and "陈桂芳" not in anonymous.text
    long = office_session(server, "dispatcher").get(server.url + "/office/desk",
                                                    params={"q": "x" * 101}, timeout=10)
    assert long.status_code == 422 and "Traceback" not in long.text


def test_a_call_is_logged_and_a_gas_smell_opens_an_emergency_repair(
        server: ServerProcess, tmp_path) -> None:
    office = office_session(server, "dispatcher")
    page = office.get(server.url + "/office/desk/cust-1", timeout=10).text
    token = csrf(page)
    empty = office.post(server.url + "/office/desk/cust-1/calls", timeout=10,
                        data={"csrf": token, "text": "   "})
    assert "请写下来电内容" in empty.text
    assert server.scalar("SELECT count(*) FROM interactions") == 0

    said = office.post(server.url + "/office/desk/cust-1/calls", timeout=10,
                       data={"csrf": token, "text": "厨房有燃气味，用户已关阀"})
    assert said.status_code == 200 and "已记录来电" in said.text
    [call] = server.query("SELECT * FROM interactions")
    assert (call["customer_id"], call["kind"], call["by_user"]) == ("cust-1", "call",
                                                                    "dispatcher")
    assert server.scalar("SELECT count(*) FROM changes WHERE tbl = 'interactions'") == 1
    repair = said.text.split('id="open-repair"')[0].rsplit('href="', 1)[1].split('"')[0]
    form = office.get(server.url + repair.replace("&amp;", "&"), timeout=10).text
    assert 'value="repair" selected' in form and 'value="320100000001"' in form
    assert 'value="1" selected' in form and "厨房有燃气味" in form  # priority 1: a leak

    other = office.post(server.url + "/office/desk/cust-2/calls", timeout=10,
                        data={"csrf": token, "text": "查询上月账单"})
    assert 'value="3" selected' in office.get(
        server.url + other.text.split('id="open-repair"')[0].rsplit('href="', 1)[1]
        .split('"')[0].replace("&amp;", "&"), timeout=10).text  # no smell: a normal job

    replica, client = synced_tablet(server, tmp_path / "tablet")  # tech01 serves cust-1
    try:
        texts = [r["text"] for r in replica.db.query(
            "SELECT text FROM interactions WHERE customer_id = 'cust-1'")]
        assert texts == ["厨房有燃气味，用户已关阀"]  # the technician sees the call
    finally:
        replica.close()


def test_contact_details_and_tags_are_corrected_and_logged(server: ServerProcess) -> None:
    office = office_session(server, "dispatcher")
    token = csrf(office.get(server.url + "/office/desk/cust-2", timeout=10).text)
    before = server.query("SELECT * FROM customers WHERE id = 'cust-2'")[0]
    bad = office.post(server.url + "/office/desk/cust-2/details", timeout=10, data={
        "csrf": token, "phone": "call me", "address": " ", "household_size": "99"})
    assert "不是电话号码" in bad.text and "地址不能为空" in bad.text and "人口应是" in bad.text
    assert server.query("SELECT * FROM customers WHERE id = 'cust-2'")[0] == before

    saved = office.post(server.url + "/office/desk/cust-2/details", timeout=10, data={
        "csrf": token, "phone": "138-0000-2222", "address": before["address"],
        "tags": "独居老人，行动不便", "household_size": "2"})
    assert saved.status_code == 200
    after = server.query("SELECT * FROM customers WHERE id = 'cust-2'")[0]
    assert (after["phone"], after["tags"], after["household_size"]) == (
        "13800002222", '["独居老人", "行动不便"]', 2)
    [logged] = server.query("SELECT by_user, fields FROM changes WHERE tbl = 'customers'"
                            " AND record_id = 'cust-2' AND by_user = 'dispatcher'")
    assert "13800002222" in logged["fields"] and "address" not in logged["fields"]
    assert "行动不便" in saved.text  # shown on the page at once
