"""Customer tags tapped on the tablet reach the server through the outbox and sync like any
customer change; edited at the same time in the office, both sides' additions and removals
are kept (a three-way merge of the tag sets), with nothing left for review. A technician
tags only their own jobs' customers, and changes nothing else of theirs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fieldapp.errors import InvalidInput
from tests.conftest import ServerProcess, synced_tablet
from tests.server.test_conflict_review import csrf, office_session
from tests.server.test_sync_api import login, mutation, push

ADDRESS = "秦淮区 龙蟠中路 218号 金陵小区 3栋 2单元 502室"


def server_tags(server: ServerProcess, customer: str = "cust-1") -> list[str]:
    return json.loads(server.scalar("SELECT tags FROM customers WHERE id = ?", [customer]))


def office_tags(server: ServerProcess, chips: list[str], typed: str = "") -> None:
    desk = office_session(server, "dispatcher")
    page = desk.get(server.url + "/office/desk/cust-1", timeout=10).text
    saved = desk.post(server.url + "/office/desk/cust-1/details", timeout=10, data={
        "csrf": csrf(page), "phone": "13912345678", "address": ADDRESS, "chips": chips,
        "tags": typed})
    assert saved.status_code == 200


def test_a_tag_tapped_on_the_tablet_reaches_the_office(server: ServerProcess,
                                                        tmp_path: Path) -> None:
    replica, client = synced_tablet(server, tmp_path / "tablet")
    replica.customers.toggle_tag("cust-1", "新开通用户")
    assert replica.customers.view360("cust-1")["customer"]["tags"] == ["独居老人", "新开通用户"]
    assert client.sync().pushed == {"applied": 1}
    assert server_tags(server) == ["独居老人", "新开通用户"]
    [logged] = server.query("SELECT by_user, device_id FROM changes WHERE tbl = 'customers'"
                            " AND record_id = 'cust-1' ORDER BY seq DESC LIMIT 1")
    assert logged == {"by_user": "tech01", "device_id": replica.device_id}
    replica.customers.toggle_tag("cust-1", "独居老人")  # a second tap takes it off
    client.sync()
    assert server_tags(server) == ["新开通用户"]
    page = office_session(server, "dispatcher").get(server.url + "/office/desk/cust-1",
                                                    timeout=10).text
    assert 'value="新开通用户" checked' in page and 'value="独居老人" checked' not in page
    with pytest.raises(InvalidInput):
        replica.customers.toggle_tag("cust-1", "长" * 21)
    replica.close()


def test_office_and_tablet_editing_tags_at_once_keep_both(server: ServerProcess,
                                                          tmp_path: Path) -> None:
    replica, client = synced_tablet(server, tmp_path / "tablet")
    replica.customers.toggle_tag("cust-1", "商户")  # offline: not synced yet
    replica.customers.toggle_tag("cust-1", "独居老人")  # taken off on the tablet
    office_tags(server, ["独居老人", "重点关注"], "楼道窄")  # the office adds two meanwhile
    assert client.sync().pushed == {"merged": 2}  # each tap merged with the office's edit
    assert server_tags(server) == ["重点关注", "楼道窄", "商户"]  # the office's and the tablet's
    assert server.scalar("SELECT count(*) FROM conflicts WHERE tbl = 'customers'") == 0
    assert replica.customers.view360("cust-1")["customer"]["tags"] == ["重点关注", "楼道窄", "商户"]
    replica.close()


def test_a_technician_tags_only_their_own_jobs_customers(server: ServerProcess) -> None:
    tech = login(server, "tech01", "pad-1")
    theirs = push(server, tech, "pad-1", [mutation("customers", "cust-3",
                                                   {"tags": json.dumps(["商户"])},
                                                   {"tags": "[]"})])
    assert theirs.json()["results"][0]["reason"] == "out_of_scope"
    assert server_tags(server, "cust-3") == []
    renamed = push(server, tech, "pad-1", [mutation("customers", "cust-1",
                                                    {"name": "别人", "tags": "[]"},
                                                    {"name": "陈桂芳"})])
    assert renamed.json()["results"][0]["reason"] == "forbidden"
    for bad in (["x"] * 3, {"tags": 1}, "not json", 7):
        wrong = push(server, tech, "pad-1", [mutation("customers", "cust-1", {"tags": bad})])
        assert wrong.status_code in (200, 422), wrong.text
        if wrong.status_code == 200:
            assert wrong.json()["results"][0]["status"] == "rejected"
    assert server_tags(server) == ["独居老人"]
