"""Batches that arrive out of order, twice, or under an id another batch or device used."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fieldapp.ids import new_id
from fieldapp.local_time import now_iso
from tests.blackbox import door
from tests.blackbox.door import Device, answer, note_on, submission
from tests.conftest import ServerProcess


def _check_job(dev: Device) -> dict[str, Any]:
    """A rectification-check job tech01's tablet schedules for cust-1 (tablets may)."""
    return dev.insert("jobs", {
        "number": f"ZG{new_id()[-8:]}", "kind": "rectification_check", "priority": 1,
        "customer_id": "cust-1", "district": "秦淮区", "due_at": now_iso(),
        "assignee": dev.username, "required_skill": "inspection", "status": "dispatched",
        "route_order": None, "summary": "整改复查", "created_at": now_iso()})


def _answer_before_submission(dev: Device) -> tuple[dict, dict]:
    sub = submission(dev, "job-1", "cust-1")
    return answer(dev, sub, "leak_test_joints"), sub


def _submission_before_job(dev: Device) -> tuple[dict, dict]:
    job = _check_job(dev)
    sub = submission(dev, job["record_id"], "cust-1")
    sub["fields"]["form_code"] = "rectification_check"
    return sub, job


@pytest.mark.parametrize("make", [_answer_before_submission, _submission_before_job],
                         ids=["answer_before_submission", "submission_before_job"])
def test_a_child_before_its_parent_is_parked_then_applied(bb_server: ServerProcess,
                                                          tally: door.Tally, make) -> None:
    dev = Device.sign_in(bb_server, "tech01")
    child, parent = make(dev)
    first = dev.batch([child])
    parked = door.results(dev.push_body(first))[child["mutation_id"]]
    assert parked["status"] == "parked", parked
    waiting = bb_server.query("SELECT * FROM parked WHERE mutation_id = ?",
                              [child["mutation_id"]])
    assert [(w["parent_table"], w["parent_id"], w["applied_at"]) for w in waiting] == [
        (parent["table"], parent["record_id"], None)]
    assert [c["reason"] for c in door.conflicts_of(bb_server, child["mutation_id"])] == [
        "awaiting_parent"]
    assert door.row(bb_server, child["table"], child["record_id"]) is None

    landed = door.results(dev.push([parent]))[parent["mutation_id"]]
    assert landed["status"] == "applied", landed
    assert door.row(bb_server, child["table"], child["record_id"]) is not None
    assert bb_server.scalar("SELECT applied_at FROM parked WHERE mutation_id = ?",
                            [child["mutation_id"]]) is not None
    assert bb_server.scalar("SELECT count(*) FROM conflicts WHERE mutation_id = ? AND reason"
                            " = 'awaiting_parent' AND resolved_at IS NULL",
                            [child["mutation_id"]]) == 0
    # a resend of the child (its answer lost) gets its final result, and is not applied again
    resent = door.results(dev.push([child]))[child["mutation_id"]]
    assert resent["status"] == "applied", resent
    replay = dev.push_body(first)
    assert replay.status_code == 200 and replay.json()["replayed"] is True
    assert bb_server.scalar("SELECT count(*) FROM changes WHERE mutation_id = ?",
                            [child["mutation_id"]]) == 1
    assert tally.server_errors == 0, tally.notes


def test_a_batch_replayed_is_answered_from_the_store_and_applied_once(
        bb_server: ServerProcess, tally: door.Tally) -> None:
    dev = Device.sign_in(bb_server, "tech01")
    body = dev.batch([note_on(dev, "job-1", "cust-1", f"备注{i}") for i in range(5)])
    first = dev.push_body(body)
    assert first.status_code == 200 and first.json()["replayed"] is False
    before = door.fingerprint(bb_server)
    for _ in range(3):
        again = dev.push_body(body)
        assert again.status_code == 200 and again.json()["replayed"] is True
        assert again.json()["results"] == first.json()["results"]
    assert door.fingerprint(bb_server) == before
    assert bb_server.scalar("SELECT count(*) FROM changes WHERE batch_id = ?",
                            [body["batch_id"]]) == 5
    assert tally.server_errors == 0, tally.notes


def _other_device(body: dict, tech01: Device, tech02: Device) -> dict:
    return tech02.batch([note_on(tech02, "job-3", "cust-3", "另一台设备")], body["batch_id"])


def _other_mutations(body: dict, tech01: Device, tech02: Device) -> dict:
    return tech01.batch([note_on(tech01, "job-1", "cust-1", "另一批内容")], body["batch_id"])


def _one_more(body: dict, tech01: Device, tech02: Device) -> dict:
    return {**body, "mutations": [*body["mutations"],
                                  note_on(tech01, "job-1", "cust-1", "多一条")]}


def _one_fewer(body: dict, tech01: Device, tech02: Device) -> dict:
    return {**body, "mutations": body["mutations"][:1]}


@pytest.mark.parametrize("reuse", [_other_device, _other_mutations, _one_more, _one_fewer],
                         ids=["other_device", "same_device_other_mutations",
                              "same_device_one_more", "same_device_one_fewer"])
def test_a_batch_id_reused_is_refused_and_nothing_of_it_applied(
        bb_server: ServerProcess, tally: door.Tally, reuse) -> None:
    tech01, tech02 = Device.sign_in(bb_server, "tech01"), Device.sign_in(bb_server, "tech02")
    body = tech01.batch([note_on(tech01, "job-1", "cust-1", f"备注{i}") for i in range(2)])
    assert tech01.push_body(body).status_code == 200
    before = door.fingerprint(bb_server)
    other = reuse(body, tech01, tech02)
    sender = tech02 if other["device_id"] == tech02.device_id else tech01
    resp = sender.push_body(other)
    assert door.refusal(resp) == (409, "batch_id_reused"), resp.text
    assert door.fingerprint(bb_server) == before
    fresh = {m["mutation_id"] for m in other["mutations"]} - {
        m["mutation_id"] for m in body["mutations"]}
    for mutation_id in fresh:
        assert bb_server.scalar("SELECT count(*) FROM mutation_results WHERE mutation_id = ?",
                                [mutation_id]) == 0
    assert tally.server_errors == 0, tally.notes


def _other_content(m: dict) -> dict:
    changed = copy.deepcopy(m)
    changed["fields"]["text"] = "改过的内容"
    return changed


@pytest.mark.parametrize(("by", "change"), [
    ("same_device", _other_content),
    ("other_device", lambda m: copy.deepcopy(m)),
    ("other_device", _other_content),
], ids=["same_device_other_content", "other_device_same_content",
        "other_device_other_content"])
def test_a_mutation_id_reused_is_refused_and_nothing_of_the_batch_applied(
        bb_server: ServerProcess, tally: door.Tally, by: str, change) -> None:
    tech01, tech02 = Device.sign_in(bb_server, "tech01"), Device.sign_in(bb_server, "tech02")
    m = note_on(tech01, "job-1", "cust-1", "原来的备注")
    assert door.results(tech01.push([m]))[m["mutation_id"]]["status"] == "applied"
    before = door.fingerprint(bb_server)
    sender = tech01 if by == "same_device" else tech02
    reused = change(m)
    reused["hlc"] = sender.hlc()
    innocent = note_on(tech02, "job-3", "cust-3", "同批的正常备注") if sender is tech02 \
        else note_on(tech01, "job-1", "cust-1", "同批的正常备注")
    resp = sender.push([innocent, reused])
    assert door.refusal(resp) == (409, "mutation_id_reused"), resp.text
    assert door.fingerprint(bb_server) == before
    assert door.row(bb_server, "interactions", m["record_id"])["text"] == "原来的备注"
    assert bb_server.scalar("SELECT count(*) FROM mutation_results WHERE mutation_id = ?",
                            [innocent["mutation_id"]]) == 0
    assert tally.server_errors == 0, tally.notes


def test_the_same_mutation_resent_by_its_device_in_a_new_batch_gets_its_first_result(
        bb_server: ServerProcess, tally: door.Tally) -> None:
    dev = Device.sign_in(bb_server, "tech01")
    m = note_on(dev, "job-1", "cust-1", "只记一次")
    first = door.results(dev.push([m]))[m["mutation_id"]]
    again = door.results(dev.push([m]))[m["mutation_id"]]
    assert first == again and first["status"] == "applied"
    assert bb_server.scalar("SELECT count(*) FROM changes WHERE mutation_id = ?",
                            [m["mutation_id"]]) == 1
    assert tally.server_errors == 0, tally.notes
