from __future__ import annotations

import json

import pytest

from fieldapp.replica import Replica
from fieldapp.wire import MutationResult


def outbox_rows(replica: Replica) -> list[dict]:
    return list(replica.db.query("SELECT * FROM outbox ORDER BY seq"))


def test_status_change_writes_record_history_and_outbox_together(fresh_replica: Replica):
    fresh_replica.jobs.transition("job-1", "accepted")
    rows = outbox_rows(fresh_replica)
    assert [(r["tbl"], r["op"]) for r in rows] == [("jobs", "update"),
                                                   ("job_status_history", "insert")]
    assert json.loads(rows[0]["fields"]) == {"status": "accepted"}
    assert json.loads(rows[0]["old"]) == {"status": "dispatched"}
    assert rows[0]["base_version"] == 1
    assert rows[0]["hlc"] < rows[1]["hlc"]


def test_a_failed_operation_leaves_neither_record_nor_outbox(fresh_replica: Replica):
    with pytest.raises(RuntimeError), fresh_replica.transaction():
        fresh_replica.update("jobs", "job-1", {"status": "accepted"})
        raise RuntimeError("power cut")
    assert fresh_replica.get("jobs", "job-1")["status"] == "dispatched"
    assert outbox_rows(fresh_replica) == []


def test_unchanged_values_queue_nothing(fresh_replica: Replica):
    with fresh_replica.transaction():
        assert fresh_replica.update("jobs", "job-1", {"status": "dispatched"}) is False
    assert outbox_rows(fresh_replica) == []


def test_a_batch_is_resent_exactly_until_answered(fresh_replica: Replica):
    fresh_replica.jobs.transition("job-1", "accepted")
    batch_id, first = fresh_replica.outbox.next_batch()
    fresh_replica.jobs.transition("job-1", "in_service")  # arrives while the batch is in flight
    again_id, again = fresh_replica.outbox.next_batch()
    assert again_id == batch_id and [m.mutation_id for m in again] == [
        m.mutation_id for m in first]
    fresh_replica.outbox.record_results(batch_id, [
        MutationResult(mutation_id=m.mutation_id, status="applied", version=10 + i)
        for i, m in enumerate(first)])
    next_id, rest = fresh_replica.outbox.next_batch()
    assert next_id != batch_id and len(rest) == 2
    assert fresh_replica.get("jobs", "job-1")["version"] == 10


def test_rejections_stay_visible_with_their_reason(fresh_replica: Replica):
    fresh_replica.jobs.transition("job-1", "accepted")
    batch_id, batch = fresh_replica.outbox.next_batch()
    fresh_replica.outbox.record_results(batch_id, [
        MutationResult(mutation_id=batch[0].mutation_id, status="rejected",
                       reason="illegal_transition", message="cancelled on the server"),
        MutationResult(mutation_id=batch[1].mutation_id, status="applied", version=5)])
    problems = fresh_replica.outbox.problems()
    assert [(p["tbl"], p["reason"]) for p in problems] == [("jobs", "illegal_transition")]
    assert fresh_replica.outbox.record_state("jobs", "job-1") == "rejected"
    assert fresh_replica.get("jobs", "job-1")["status"] == "accepted"  # kept locally


def test_another_technicians_job_cannot_be_worked_on(fresh_replica: Replica):
    from fieldapp.errors import InvalidInput
    from fieldapp.sync.apply import apply_changes
    from fieldapp.wire import RecordChange
    from tests.world import rows

    job3 = next(j for j in rows()["jobs"] if j["id"] == "job-3")  # tech02's
    apply_changes(fresh_replica, [RecordChange(table="jobs", record_id="job-3", version=1,
                                               row={k: v for k, v in job3.items() if k != "id"})])
    with pytest.raises(InvalidInput) as err:
        fresh_replica.jobs.transition("job-3", "accepted")
    assert err.value.code == "not_assigned"
    assert fresh_replica.outbox.counts()["pending"] == 0


def test_a_pulled_row_keeps_fields_with_pending_local_changes(fresh_replica: Replica):
    from fieldapp.sync.apply import apply_changes
    from fieldapp.wire import RecordChange
    from tests.world import rows

    fresh_replica.jobs.transition("job-1", "accepted")
    job1 = next(j for j in rows()["jobs"] if j["id"] == "job-1")
    pulled = {k: v for k, v in job1.items() if k != "id"} | {"summary": "带上检漏仪"}
    apply_changes(fresh_replica, [RecordChange(table="jobs", record_id="job-1", version=7,
                                               row=pulled)])
    job = fresh_replica.get("jobs", "job-1")
    assert (job["status"], job["summary"], job["version"]) == ("accepted", "带上检漏仪", 7)
