"""Work captured offline by a technician whose job the office reassigned meanwhile: every
value is accepted or kept in conflicts, none dropped."""

from __future__ import annotations

from typing import Any

import pytest

from fieldapp.local_time import now_iso
from fieldapp.records import EVIDENCE_TABLES
from tests.blackbox import door
from tests.blackbox.door import Device, answer, hazard, note_on, reading, submission
from tests.conftest import ServerProcess

# The contract's list of evidence (wider than records.EVIDENCE_TABLES today).
EVIDENCE = EVIDENCE_TABLES | {"hazards", "rectification_notices", "signatures", "scans"}


def _offline_work(dev: Device, version: int) -> list[dict[str, Any]]:
    """What tech01 did on job-1 with no signal: started it, inspected, found a hazard,
    read the meter, wrote a note, asked for a part, issued a notice, corrected a note."""
    who = {"by_user": dev.username, "device_id": dev.device_id}
    job = {"job_id": "job-1", "customer_id": "cust-1"}
    sub = submission(dev, "job-1", "cust-1")
    failed = answer(dev, sub, "leak_test_joints", "fail", "接口处漏气")
    work = [
        dev.mutation("jobs", "job-1", {"status": "accepted"}, {"status": "dispatched"},
                     base_version=version),
        dev.insert("job_status_history", {**job, "from_status": "dispatched",
                                          "to_status": "accepted", "at": now_iso(), **who}),
        dev.mutation("jobs", "job-1", {"status": "in_service"}, {"status": "accepted"},
                     base_version=version),
        dev.insert("job_status_history", {**job, "from_status": "accepted",
                                          "to_status": "in_service", "at": now_iso(), **who}),
        sub, failed, answer(dev, sub, "meter_condition", "pass"), hazard(dev, sub,
                                                                         "leak_test_joints"),
        reading(dev, "cust-1", "meter-1", 1250.5),
        note_on(dev, "job-1", "cust-1", "户主不在家，邻居代为开门"),
        dev.insert("part_requests", {**job, "part": "燃气软管 1.5m", "quantity": 1,
                                     "note": None, "state": "requested",
                                     "requested_at": now_iso(), **who, "decided_at": None,
                                     "decided_by": None, "reply": None}),
        dev.insert("rectification_notices", {**job, "submission_id": sub["record_id"],
                                             "number": "TZ2026112400-1",
                                             "issued_at": now_iso(), "deadline": now_iso(),
                                             "hazard_count": 1, **who}),
        dev.insert("scans", {**job, "code": "GM0000000001", "symbology": "code128",
                             "meter_id": "meter-1", "matched_customer_id": "cust-1",
                             "source": "camera", "scanned_at": now_iso(), **who}),
    ]
    work.append(dev.mutation("answers", failed["record_id"],
                             {"note": "接口处漏气，已关闭表前阀"}, {"note": "接口处漏气"}))
    return work


@pytest.mark.parametrize("batching", ["one_batch", "batch_per_mutation"])
def test_evidence_of_a_reassigned_job_is_accepted_or_kept(bb_server: ServerProcess,
                                                          tally: door.Tally,
                                                          batching: str) -> None:
    tech01 = Device.sign_in(bb_server, "tech01")
    tech01.pull_all()
    work = _offline_work(tech01, door.row(bb_server, "jobs", "job-1")["version"])
    office = door.login(bb_server, "dispatcher", "office-desk-1")
    moved = door.office_assign(bb_server, office, "job-1", "tech02")
    assert moved.status_code == 200, moved.text
    assert door.row(bb_server, "jobs", "job-1")["assignee"] == "tech02"

    groups = [work] if batching == "one_batch" else [[m] for m in work]
    acked = []
    for group in groups:
        for m, result in zip(group, door.results(tech01.push(group)).values(), strict=True):
            acked.append((tech01.device_id, m, result))
    problems = []  # every one listed, not only the first
    for _, m, result in acked:
        if m["op"] == "insert" and m["table"] in EVIDENCE:
            stored = door.row(bb_server, m["table"], m["record_id"])
            if result["status"] != "applied" or stored is None:
                problems.append((m["table"], result["status"], result.get("reason")))
            elif stored.get("by_user", "tech01") != "tech01":
                problems.append((m["table"], "by_user", stored["by_user"]))
        elif result["status"] in ("conflict", "rejected"):  # the job's status: kept
            problems += [(m["table"], f, value, result.get("reason"))
                         for f, value in m["fields"].items()
                         if not door.kept_in_conflicts(bb_server, m["table"], m["record_id"],
                                                       f, value)]
    found = door.account(bb_server, acked)
    door.record_account(found)
    assert (found.lost, found.silent_overwrites) == (0, 0), found.notes
    assert problems == []
    # the new assignee's tablet gets the evidence left on the job
    tech02 = Device.sign_in(bb_server, "tech02")
    pulled = {(c["table"], c["record_id"]) for c in tech02.pull_all()[0] if c["row"]}
    for _, m, result in acked:
        if m["op"] == "insert" and result["status"] == "applied":
            assert (m["table"], m["record_id"]) in pulled
    assert tally.server_errors == 0, tally.notes
