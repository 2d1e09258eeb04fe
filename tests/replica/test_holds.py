"""挂起 / 恢复 / 退单 on the tablet: the status change and its reason land together in the
outbox; 待料 names the job's part request; a resumed job goes back where it was; bad
reasons change nothing."""

from __future__ import annotations

import pytest

from fieldapp.domain import holds
from fieldapp.errors import IllegalTransition, InvalidInput
from fieldapp.replica import Replica
from tests.world import seed_replica


@pytest.fixture
def replica(fresh_replica: Replica) -> Replica:
    seed_replica(fresh_replica)
    return fresh_replica


def outbox(replica: Replica) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in replica.db.execute(
        "SELECT tbl, op FROM outbox ORDER BY rowid").fetchall()]


def test_waiting_for_parts_then_resumed_where_the_work_stood(replica: Replica) -> None:
    replica.jobs.transition("job-1", "accepted")
    replica.jobs.transition("job-1", "in_service")
    replica.parts.request("job-1", "P-CLAMP", 1)
    [part] = replica.parts.for_job("job-1")
    before = len(outbox(replica))
    replica.holds.suspend("job-1", holds.WAITING_PARTS, " 卡箍缺货 ", part_request_id=part["id"])
    assert replica.jobs.get("job-1")["status"] == "suspended"
    assert outbox(replica)[before:] == [("jobs", "update"), ("job_status_history", "insert"),
                                        ("interactions", "insert")]
    why = replica.holds.current("job-1")
    assert why is not None and (why["reason"], why["note"], why["part_request_id"]) == (
        holds.WAITING_PARTS, "卡箍缺货", part["id"])
    assert holds.describe(str(why["kind"]), str(why["text"])) == "挂起：待料（卡箍缺货）"
    assert replica.jobs.today()  # still on the technician's list
    replica.holds.resume("job-1", "配件已到")
    assert replica.jobs.get("job-1")["status"] == "in_service"  # not back to accepted
    kinds = [r["kind"] for r in replica.interactions.for_job("job-1")
             if r["source"] == "interaction"]
    assert kinds == ["resume", "suspend"]


def test_a_job_handed_back_says_why(replica: Replica) -> None:
    replica.holds.hand_back("job-1", "wrong_skill", "需要带压开孔设备")
    assert replica.jobs.get("job-1")["status"] == "returned"
    why = replica.holds.current("job-1")
    assert why is not None
    assert holds.describe("return", str(why["text"])) == "退单：技能或工具不符（需要带压开孔设备）"
    with pytest.raises(IllegalTransition):  # the office reassigns it; the tablet cannot
        replica.jobs.transition("job-1", "accepted")


@pytest.mark.parametrize(("reason", "note", "part", "code"), [
    ("sleeping", "", None, "unknown_reason"),
    ("other", "  ", None, "reason_needs_note"),
    (holds.WAITING_PARTS, "", None, "part_request_needed"),
    (holds.WAITING_PARTS, "", "pr-of-another-job", "unknown_part_request"),
    ("customer_not_home", "", "pr-1", "part_request_not_wanted"),
    ("customer_not_home", "x" * (holds.MAX_NOTE + 1), None, "note_too_long"),
])
def test_bad_holds_change_nothing(replica: Replica, reason: str, note: str,
                                  part: str | None, code: str) -> None:
    replica.jobs.transition("job-1", "accepted")
    before = outbox(replica)
    with pytest.raises(InvalidInput) as raised:
        replica.holds.suspend("job-1", reason, note, part_request_id=part)
    assert raised.value.code == code
    assert replica.jobs.get("job-1")["status"] == "accepted" and outbox(replica) == before


def test_only_a_job_on_hold_resumes_and_only_a_started_one_is_held(replica: Replica) -> None:
    with pytest.raises(InvalidInput) as raised:
        replica.holds.resume("job-1")
    assert raised.value.code == "not_on_hold"
    with pytest.raises(IllegalTransition):  # dispatched, not accepted: hand it back instead
        replica.holds.suspend("job-1", "customer_not_home")
    assert replica.jobs.get("job-1")["status"] == "dispatched"


def test_an_unreadable_reason_is_kept_as_the_note() -> None:
    assert holds.decode("不是 JSON") == {"reason": "other", "note": "不是 JSON"}
    assert holds.describe("suspend", "[1, 2]") == "挂起：其他（[1, 2]）"
