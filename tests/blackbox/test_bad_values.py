"""Hostile values inside well-formed pushes: each is refused per mutation with the
contract's reason, changes no synced table, and is kept in conflicts; values the server
corrects (authorship) are applied with the token's user and device."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from fieldapp.local_time import now_iso
from tests.blackbox import door
from tests.blackbox.door import ARTICLE, BILL, SETTING, Device, answer, note_on, submission
from tests.conftest import ServerProcess


@dataclass
class Ctx:
    server: ServerProcess
    tech: Device  # tech01, 秦淮区: job-1 and job-2 (cust-1, cust-2)
    office: dict[str, Device]
    answer_id: str  # tech01's answer on job-1
    sub: dict[str, Any]  # the submission it answers
    note_id: str  # tech01's note on job-1


@pytest.fixture(scope="module")
def ctx(shared_server: ServerProcess) -> Ctx:
    tech = Device.sign_in(shared_server, "tech01")
    sub = submission(tech, "job-1", "cust-1")
    ans = answer(tech, sub, "meter_condition")
    note = note_on(tech, "job-1", "cust-1", "第一条备注")
    assert all(r["status"] == "applied" for r in door.results(tech.push([sub, ans, note]))
               .values())
    office = {role: Device.sign_in(shared_server, role)
              for role in ("dispatcher", "supervisor", "admin")}
    return Ctx(shared_server, tech, office, ans["record_id"], sub, note["record_id"])


def with_field(m: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    m["fields"][name] = value
    return m


# -- builders of one mutation each, from tech01's device unless said otherwise ----------------


def note_with(name: str, value: Any) -> Callable[[Ctx], dict]:
    return lambda c: with_field(note_on(c.tech, "job-1", "cust-1", "备注"), name, value)


def reading_with(name: str, value: Any) -> Callable[[Ctx], dict]:
    return lambda c: with_field(door.reading(c.tech, "cust-1", "meter-1", 1260.0), name, value)


def part_with(name: str, value: Any) -> Callable[[Ctx], dict]:
    return lambda c: c.tech.insert("part_requests", {
        "job_id": "job-1", "customer_id": "cust-1", "part": "减压阀", "quantity": 1,
        "note": None, "state": "requested", "requested_at": now_iso(), "by_user": "tech01",
        "device_id": c.tech.device_id, "decided_at": None, "decided_by": None, "reply": None,
        name: value})


def hazard_with(name: str, value: Any) -> Callable[[Ctx], dict]:
    return lambda c: c.tech.insert("hazards", {
        "job_id": "job-1", "customer_id": "cust-1", "submission_id": None, "notice_id": None,
        "question": "leak_test_joints", "label": "漏气", "level": "critical",
        "deadline_days": 1, "due_at": now_iso(), "note": None, "status": "open",
        "check_job_id": None, "found_at": now_iso(), "by_user": "tech01",
        "device_id": c.tech.device_id, name: value})


def update(table: str, record: str, fields: dict[str, Any], old: dict[str, Any] | None = None,
           role: str | None = None) -> Callable[[Ctx], dict]:
    def build(c: Ctx) -> dict:
        dev = c.office[role] if role else c.tech
        rid = {"ANSWER": c.answer_id, "NOTE": c.note_id}.get(record, record)
        return dev.mutation(table, rid, dict(fields), old)
    build.role = role  # type: ignore[attr-defined]
    return build


def insert(table: str, fields: dict[str, Any], role: str | None = None,
           record: str | None = None) -> Callable[[Ctx], dict]:
    def build(c: Ctx) -> dict:
        dev = c.office[role] if role else c.tech
        return dev.insert(table, dict(fields), record)
    build.role = role  # type: ignore[attr-defined]
    return build


def delete(table: str, record: str) -> Callable[[Ctx], dict]:
    return lambda c: c.tech.mutation(table, record, {}, op="delete")


NAN, INF = math.nan, math.inf
LONG = "长" * 200_001
TEXT_BAD = {"dict": {"a": 1}, "list": ["a", "b"], "int65": 2 ** 64, "nan": NAN,
            "overlong": LONG}
NUMBER_BAD = {"dict": {"v": 1}, "list": [1.0], "text": "一千", "true": True, "false": False,
              "int65": 2 ** 64, "nan": NAN, "inf": INF, "neg_inf": -INF}
INTEGER_BAD = {"true": True, "false": False, "int65": 2 ** 64, "neg_int65": -(2 ** 64),
               "fraction": 1.5, "nan": NAN, "inf": INF, "text": "7", "list": [1]}

INVALID = (
    [pytest.param(note_with("text", v), "text", id=f"interaction.text-{k}")
     for k, v in TEXT_BAD.items()]
    + [pytest.param(update("answers", "ANSWER", {"note": v}, {"note": None}), "note",
                    id=f"answer.note-{k}") for k, v in TEXT_BAD.items()]
    + [pytest.param(update("jobs", "job-1", {"status": v}, {"status": "dispatched"}),
                    "status", id=f"job.status-{k}") for k, v in TEXT_BAD.items()]
    + [pytest.param(update("customers", "cust-1", {"phone": v}, {"phone": "13912345678"}),
                    "phone", id=f"customer.phone-{k}") for k, v in TEXT_BAD.items()]
    + [pytest.param(reading_with("value", v), "value", id=f"reading.value-{k}")
       for k, v in NUMBER_BAD.items()]
    + [pytest.param(part_with("quantity", v), "quantity", id=f"part.quantity-{k}")
       for k, v in INTEGER_BAD.items()]
    + [pytest.param(hazard_with("deadline_days", v), "deadline_days",
                    id=f"hazard.deadline_days-{k}") for k, v in INTEGER_BAD.items()
       if k in ("true", "int65", "nan", "fraction")]
    + [pytest.param(build, name, id=f"null-{label}") for build, name, label in [
        (note_with("kind", None), "kind", "interaction.kind"),
        (note_with("at", None), "at", "interaction.at"),
        (reading_with("meter_id", None), "meter_id", "reading.meter_id"),
        (part_with("part", None), "part", "part.part"),
        (part_with("quantity", None), "quantity", "part.quantity"),
        (hazard_with("level", None), "level", "hazard.level"),
        (hazard_with("question", None), "question", "hazard.question")]]
)


def push_one(c: Ctx, m: dict[str, Any], dev: Device | None = None) -> dict[str, Any]:
    """Push ``m`` alone and return its result; the push itself must be accepted."""
    resp = (dev or c.tech).push([m])
    assert resp.status_code == 200, resp.text  # a per-mutation refusal, not the batch's
    return door.results(resp)[m["mutation_id"]]


def assert_refused(c: Ctx, build: Callable[[Ctx], dict], reasons: set[str]) -> dict:
    dev = c.office[build.role] if getattr(build, "role", None) else c.tech
    m = build(c)
    before = door.fingerprint(c.server)
    result = push_one(c, m, dev)
    assert result["status"] == "rejected" and result["reason"] in reasons, result
    assert result["message"]
    assert door.fingerprint(c.server) == before
    if not door.conflicts_of(c.server, m["mutation_id"]):
        door.count(lost=1)  # acknowledged, refused, and kept nowhere
        raise AssertionError(f"the refused value was dropped: {result}")
    return result


@pytest.mark.parametrize(("build", "name"), INVALID)
def test_a_value_of_the_wrong_type_is_rejected_as_invalid(ctx: Ctx, tally: door.Tally,
                                                          build, name) -> None:
    result = assert_refused(ctx, build, {"invalid_value"})
    assert name in result["message"]
    assert tally.server_errors == 0, tally.notes


@pytest.mark.parametrize("bad", [{"a": 1}, 2 ** 64, NAN], ids=["dict", "int65", "nan"])
def test_the_rest_of_a_batch_with_an_invalid_value_applies(ctx: Ctx, tally: door.Tally,
                                                           bad) -> None:
    good = note_on(ctx.tech, "job-1", "cust-1", "同批的正常备注")
    wrong = with_field(note_on(ctx.tech, "job-1", "cust-1", "备注"), "text", bad)
    got = door.results(ctx.tech.push([wrong, good]))
    assert (got[wrong["mutation_id"]]["status"], got[wrong["mutation_id"]]["reason"]) == (
        "rejected", "invalid_value")
    assert got[good["mutation_id"]]["status"] == "applied"
    assert door.row(ctx.server, "interactions", good["record_id"])["text"] == "同批的正常备注"
    assert tally.server_errors == 0, tally.notes


SCOPE = {"out_of_scope", "out_of_district"}
REFUSED = [
    *[pytest.param(insert(t, {"customer_id": "cust-1"}), {"unknown_table"}, id=f"table-{t}")
      for t in ("users", "devices", "conflicts", "sqlite_master", "jobs; DROP TABLE jobs",
                "Jobs")],
    pytest.param(note_with("password_hash", "x"), {"unknown_field"}, id="field-insert"),
    pytest.param(update("jobs", "job-1", {"nonexistent": 1}), {"unknown_field"},
                 id="field-update"),
    pytest.param(update("answers", "ANSWER", {'value" = 1 --': "x"}), {"unknown_field"},
                 id="field-quoted"),
    *[pytest.param(note_with(f, v), {"unknown_field", "forbidden"}, id=f"insert-with-{f}")
      for f, v in (("id", "other-id"), ("version", 999), ("hlc", "999999999999999999:0:x"))],
    *[pytest.param(update("jobs", "job-1", {f: v}), {"unknown_field", "forbidden"},
                   id=f"update-{f}")
      for f, v in (("id", "job-9"), ("version", 999), ("hlc", "999999999999999999:0:x"))],
    # another district's and other technicians' records
    pytest.param(insert("readings", {"customer_id": "cust-3", "meter_id": "meter-3",
                                     "read_at": now_iso(), "value": 1.0, "source": "t"}),
                 SCOPE, id="district-reading"),
    pytest.param(update("customers", "cust-3", {"phone": "13000000000"},
                        {"phone": "13700002222"}), SCOPE, id="district-phone"),
    pytest.param(lambda c: note_on(c.tech, "job-3", "cust-3", "别人的工单"), SCOPE,
                 id="other-tech-note"),
    pytest.param(update("jobs", "job-3", {"status": "accepted"}, {"status": "dispatched"}),
                 SCOPE, id="other-tech-job-status"),
    pytest.param(lambda c: submission(c.tech, "job-f5", "cust-f5"), SCOPE,
                 id="other-tech-submission"),
    pytest.param(insert("readings", {"customer_id": "cust-f5", "meter_id": "meter-1",
                                     "read_at": now_iso(), "value": 1.0, "source": "t"}),
                 {"customer_mismatch", *SCOPE}, id="other-tech-customer-reading"),
    pytest.param(delete("readings", "read-3-0"), SCOPE, id="other-district-delete"),
    pytest.param(lambda c: note_on(c.tech, "job-1", "cust-3", "客户不符"),
                 {"customer_mismatch", *SCOPE}, id="customer-mismatch"),
    # office-only data from a technician
    pytest.param(update("bills", BILL, {"status": "paid", "paid_at": now_iso()},
                        {"status": "unpaid"}), {"forbidden"}, id="bill-paid"),
    pytest.param(update("kb_articles", ARTICLE, {"body": "改写的内容"}), {"forbidden"},
                 id="help-article"),
    pytest.param(update("org_settings", SETTING, {"value": "假燃气"}), {"forbidden"},
                 id="org-setting"),
    pytest.param(update("form_definitions", "form-household_inspection-v1",
                        {"definition": "{}"}), {"forbidden"}, id="form-definition"),
    pytest.param(update("customers", "cust-1", {"name": "改名"}), {"forbidden"},
                 id="customer-name"),
    pytest.param(update("customers", "cust-1", {"address": "别处"}), {"forbidden"},
                 id="customer-address"),
    *[pytest.param(update("jobs", "job-1", {f: v}), {"forbidden"}, id=f"job-{f}")
      for f, v in (("assignee", "tech02"), ("priority", 1), ("summary", "改"),
                   ("due_at", now_iso()), ("district", "鼓楼区"))],
    pytest.param(update("meters", "meter-1", {"last_reading": 1.0}), {"forbidden"},
                 id="meter-reading"),
    pytest.param(update("payments", "pay-1", {"amount": 0.01}), {"forbidden"},
                 id="payment-amount"),
    pytest.param(update("contracts", "con-1", {"status": "ended"}), {"forbidden"},
                 id="contract-status"),
    *[pytest.param(insert(t, f), {"forbidden"}, id=f"insert-{t}") for t, f in (
        ("bills", {"customer_id": "cust-1", "amount_cents": 1, "status": "paid"}),
        ("payments", {"customer_id": "cust-1", "amount": 999.0, "paid_at": now_iso()}),
        ("kb_articles", {"title": "假文章", "body": "x"}),
        ("org_settings", {"value": "x"}),
        ("form_definitions", {"code": "x", "form_version": 9, "definition": "{}"}),
        ("customers", {"account_no": "999", "name": "假用户"}),
        ("jobs", {"number": "X1", "kind": "inspection", "customer_id": "cust-1",
                  "assignee": "tech01", "status": "dispatched"}))],
    pytest.param(delete("customers", "cust-1"), {"forbidden"}, id="delete-customer"),
    pytest.param(delete("jobs", "job-1"), {"forbidden"}, id="delete-job"),
    pytest.param(part_with("state", "issued"), {"forbidden"}, id="part-issued"),
    pytest.param(part_with("decided_by", "tech01"), {"forbidden"}, id="part-decided"),
    pytest.param(update("customers", "cust-1", {"phone": "13000001234"},
                        {"phone": "13912345678"}), {"needs_verification"},
                 id="customer-phone-verified-first"),
    pytest.param(update("customers", "cust-2", {"phone": "13000005678"}),
                 {"needs_verification"}, id="customer-phone-no-old"),
    # office roles change data through the office's services, not raw pushes
    pytest.param(update("jobs", "job-1", {"status": "cancelled"}, {"status": "dispatched"},
                        role="dispatcher"), {"forbidden"}, id="dispatcher-job-status"),
    pytest.param(update("bills", BILL, {"status": "paid"}, role="supervisor"), {"forbidden"},
                 id="supervisor-bill"),
    pytest.param(update("customers", "cust-1", {"phone": "13000000001"}, role="admin"),
                 {"forbidden"}, id="admin-phone"),
    pytest.param(insert("kb_articles", {"title": "t", "body": "b"}, role="dispatcher"),
                 {"forbidden"}, id="dispatcher-insert"),
    pytest.param(lambda c: c.tech.insert("interactions", {
        "job_id": "job-1", "customer_id": "cust-1", "kind": "note", "text": "同号",
        "at": now_iso()}, c.note_id), {"duplicate_id"}, id="duplicate-id"),
]


@pytest.mark.parametrize(("build", "reasons"), REFUSED)
def test_a_change_beyond_the_callers_rights_is_refused_and_kept(ctx: Ctx, tally: door.Tally,
                                                                build, reasons) -> None:
    assert_refused(ctx, build, reasons)
    assert tally.server_errors == 0, tally.notes


def _authored(c: Ctx, table: str) -> dict:
    """A valid insert on tech01's job-2 whose authorship fields name tech02's device."""
    job = {"job_id": "job-2", "customer_id": "cust-2"}
    m = {
        "interactions": lambda: note_on(c.tech, "job-2", "cust-2", "冒名"),
        "submissions": lambda: submission(c.tech, "job-2", "cust-2"),
        "answers": lambda: answer(c.tech, c.sub, "leak_test_joints"),
        "hazards": lambda: with_field(hazard_with("job_id", "job-2")(c), "customer_id",
                                      "cust-2"),
        "scans": lambda: c.tech.insert("scans", {**job, "code": "GM1", "source": "camera",
                                                 "scanned_at": now_iso()}),
        "part_requests": lambda: with_field(part_with("job_id", "job-2")(c), "customer_id",
                                            "cust-2"),
        "job_status_history": lambda: c.tech.insert("job_status_history", {
            **job, "from_status": "dispatched", "to_status": "accepted", "at": now_iso()}),
        "rectification_notices": lambda: c.tech.insert("rectification_notices", {
            **job, "number": "TZ1", "issued_at": now_iso(), "deadline": now_iso()}),
    }[table]()
    m["fields"].update({"by_user": "tech02", "device_id": "tech02-pad"})
    return m


@pytest.mark.parametrize("table", ["interactions", "submissions", "answers", "hazards",
                                   "scans", "part_requests", "job_status_history",
                                   "rectification_notices"])
def test_authorship_is_the_tokens_whatever_the_device_sent(ctx: Ctx, tally: door.Tally,
                                                           table: str) -> None:
    m = _authored(ctx, table)
    result = push_one(ctx, m)
    assert result["status"] == "applied", result
    stored = door.row(ctx.server, table, m["record_id"])
    assert (stored["by_user"], stored["device_id"]) == ("tech01", ctx.tech.device_id)
    assert tally.server_errors == 0, tally.notes


@pytest.mark.parametrize("fields", [{"by_user": "tech02"}, {"device_id": "tech02-pad"},
                                    {"by_user": "tech02", "note": "改个备注"}],
                         ids=["by_user", "device_id", "with_a_note"])
def test_authorship_is_never_changed_by_a_later_update(ctx: Ctx, tally: door.Tally,
                                                       fields: dict) -> None:
    m = ctx.tech.mutation("answers", ctx.answer_id, fields)
    result = push_one(ctx, m)
    stored = door.row(ctx.server, "answers", ctx.answer_id)
    assert (stored["by_user"], stored["device_id"]) == ("tech01", ctx.tech.device_id)
    if result["status"] == "rejected":  # refused outright: then kept like any refusal
        assert door.conflicts_of(ctx.server, m["mutation_id"])
    assert tally.server_errors == 0, tally.notes
