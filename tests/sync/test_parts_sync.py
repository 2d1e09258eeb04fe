"""A parts request goes from the tablet to the office's 领料 page; the office issues or
refuses it, and the answer comes back to the tablet. A tablet cannot issue its own."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ServerProcess, synced_tablet
from tests.server.test_conflict_review import csrf, office_session
from tests.server.test_sync_api import login, mutation, push


def test_request_issue_and_refuse_round_trip(server: ServerProcess, tmp_path: Path) -> None:
    replica, client = synced_tablet(server, tmp_path / "tablet")
    replica.parts.request("job-1", "P-CLAMP", 2, "卡箍锈蚀")
    replica.parts.request("job-1", "P-METER-G25", 1, "表具进水")
    client.sync()
    office = office_session(server, "dispatcher")
    page = office.get(server.url + "/office/parts", timeout=30).text
    assert "软管卡箍" in page and "G2.5 膜式燃气表" in page and "待处理" in page
    ids = {r["part"]: r["id"] for r in server.query("SELECT id, part FROM part_requests")}
    token = csrf(page)
    empty = office.post(f"{server.url}/office/parts/{ids['P-METER-G25']}/decide", timeout=30,
                        data={"csrf": token, "decision": "refused", "reply": " "})
    assert "驳回时请写明原因" in empty.text
    for part, decision, reply in (("P-CLAMP", "issued", "库房已备，明早领取"),
                                  ("P-METER-G25", "refused", "先报表具检定")):
        resp = office.post(f"{server.url}/office/parts/{ids[part]}/decide", timeout=30,
                           data={"csrf": token, "decision": decision, "reply": reply})
        assert resp.status_code == 200 and "已发料" in resp.text
    again = office.post(f"{server.url}/office/parts/{ids['P-CLAMP']}/decide", timeout=30,
                        data={"csrf": token, "decision": "refused", "reply": "x"})
    assert "已处理或不存在" in again.text  # decided once

    client.sync()
    answers = {r["part"]: (r["state"], r["reply"], r["decided_by"])
               for r in replica.parts.for_job("job-1")}
    assert answers == {"P-CLAMP": ("issued", "库房已备，明早领取", "dispatcher"),
                       "P-METER-G25": ("refused", "先报表具检定", "dispatcher")}


def test_a_tablet_cannot_issue_its_own_parts(server: ServerProcess) -> None:
    tech = login(server, "tech01", "pad-1")
    customer = server.scalar("SELECT customer_id FROM jobs WHERE id = 'job-1'")
    resp = push(server, tech, "pad-1", [mutation("part_requests", "pr-x", {
        "job_id": "job-1", "customer_id": customer, "part": "P-CLAMP", "quantity": 5,
        "state": "issued", "requested_at": "2026-11-30T09:00:00+08:00", "by_user": "tech01",
        "device_id": "pad-1"}, op="insert")])
    [result] = resp.json()["results"]
    assert (result["status"], result["reason"]) == ("rejected", "forbidden")
    assert server.scalar("SELECT count(*) FROM part_requests") == 0
