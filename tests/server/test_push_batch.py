"""One push is applied mutation by mutation, but reads each record once per batch (kept until
it is written), numbers and chains the change log in memory, and looks for waiting
mutations only in tables something waits for. These tests push batches in which that
bookkeeping has to follow the writes: the same record written again and again, a refusal
rolled back after its change was logged, an edit that waits for its record and lands in the
same batch, a repeat. The outcome must be what applying them one by one gives, and the
audit chain must hold."""

from __future__ import annotations

import json
import time
from typing import Any

from fieldapp.hlc import Timestamp
from fieldapp.ids import new_id
from fieldapp.local_time import now_iso
from fieldapp.wire import PROTOCOL_VERSION, Mutation, PushRequest, PushResponse
from sync_server.clock import ServerClock
from sync_server.services import audit
from sync_server.services.auth import Principal
from sync_server.storage.db import Storage
from sync_server.sync.push import push_batch

TECH01 = Principal("tech01", "王建国", "technician", "秦淮区", "pad-1")
_counter = iter(range(1, 10**6))


def mutation(table: str, record_id: str, fields: dict[str, Any], op: str = "update",
             old: dict[str, Any] | None = None, base_version: int = 0,
             mutation_id: str | None = None) -> Mutation:
    hlc = Timestamp(int(time.time() * 1000), next(_counter), TECH01.device_id)
    return Mutation(mutation_id=mutation_id or new_id(), table=table, record_id=record_id,
                    op=op, fields=fields, old=old or {}, base_version=base_version,
                    hlc=str(hlc), at=now_iso())


def push(db: Storage, mutations: list[Mutation], batch_id: str | None = None) -> PushResponse:
    body = PushRequest(protocol=PROTOCOL_VERSION, schema_version=1,
                       device_id=TECH01.device_id, batch_id=batch_id or new_id(),
                       mutations=mutations)
    with db.write() as conn:
        return push_batch(conn, body, TECH01, ServerClock())


def row(db: Storage, table: str, record_id: str) -> dict[str, Any] | None:
    with db.read() as conn:
        found = conn.execute(f'SELECT * FROM "{table}" WHERE id = ?', [record_id]).fetchone()
        return dict(found) if found else None


def note(record_id: str, text: str) -> Mutation:
    return mutation("interactions", record_id, {
        "job_id": "job-1", "customer_id": "cust-1", "kind": "note", "text": text,
        "at": now_iso()}, op="insert")


def draft(submission_id: str) -> Mutation:
    return mutation("submissions", submission_id, {
        "job_id": "job-1", "customer_id": "cust-1", "form_code": "household_inspection",
        "form_version": 2, "state": "draft", "started_at": now_iso(), "submitted_at": None,
        "by_user": "tech01", "device_id": "pad-1"}, op="insert")


def answer(answer_id: str, submission_id: str, note_text: str) -> Mutation:
    return mutation("answers", answer_id, {
        "submission_id": submission_id, "job_id": "job-1", "customer_id": "cust-1",
        "question": "visit_outcome", "value": json.dumps("inspected"), "note": note_text,
        "answered_at": now_iso(), "by_user": "tech01", "device_id": "pad-1"}, op="insert")


def assert_log_sound(db: Storage) -> None:
    """The chain holds, and every record's version is the seq of its last change."""
    verdict = audit.verify(db)
    assert verdict.ok, verdict
    with db.read() as conn:
        last = {(r["tbl"], r["record_id"]): r["seq"] for r in conn.execute(
            "SELECT tbl, record_id, max(seq) AS seq FROM changes"
            " WHERE op IN ('insert', 'update', 'restore') GROUP BY tbl, record_id")}
    for (table, record_id), seq in last.items():
        if table in ("jobs", "interactions", "customers", "submissions", "answers"):
            current = row(db, table, record_id)
            assert current is None or current["version"] == seq, (table, record_id)


def test_a_record_written_again_and_again_in_one_batch(db: Storage) -> None:
    job = row(db, "jobs", "job-1")
    customer = row(db, "customers", "cust-1")
    assert job and customer
    sub_id, answer_id, refused = new_id(), new_id(), new_id()
    reply = push(db, [
        mutation("jobs", "job-1", {"status": "accepted"}, old={"status": job["status"]},
                 base_version=job["version"]),
        mutation("customers", "cust-1", {"tags": json.dumps(["老人独居"], ensure_ascii=False)},
                 old={"tags": customer["tags"]}, base_version=customer["version"]),
        draft(sub_id),
        answer(answer_id, sub_id, "第一次"),
        # Inserted, logged, then refused (no signature): rolled back after its change was
        # numbered, so the next change must take the number and link it would have had.
        mutation("submissions", refused, {
            "job_id": "job-1", "customer_id": "cust-1", "form_code": "repair_report",
            "form_version": 1, "state": "submitted", "started_at": now_iso(),
            "submitted_at": now_iso(), "by_user": "tech01", "device_id": "pad-1"},
            op="insert"),
        mutation("jobs", "job-1", {"status": "in_service"}, old={"status": "accepted"},
                 base_version=job["version"]),
        mutation("answers", answer_id, {"note": "改过"}, old={"note": "第一次"}),
        mutation("answers", answer_id, {"note": "再改"}, old={"note": "改过"}),
        mutation("customers", "cust-1", {"tags": json.dumps(["老人独居", "重点户"],
                                                            ensure_ascii=False)},
                 old={"tags": json.dumps(["老人独居"], ensure_ascii=False)},
                 base_version=customer["version"]),
    ])
    assert [(r.status, r.reason) for r in reply.results] == [
        ("applied", None), ("applied", None), ("applied", None), ("applied", None),
        ("rejected", "signature_missing"), ("applied", None), ("applied", None),
        ("applied", None), ("applied", None)]
    assert row(db, "submissions", refused) is None
    assert row(db, "jobs", "job-1")["status"] == "in_service"  # type: ignore[index]
    assert row(db, "answers", answer_id)["note"] == "再改"  # type: ignore[index]
    assert json.loads(row(db, "customers", "cust-1")["tags"]) == [  # type: ignore[index]
        "老人独居", "重点户"]
    versions = [r.version for r in reply.results if r.status == "applied"]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    assert_log_sound(db)


def test_an_edit_that_arrives_before_its_record_lands_with_it_in_the_same_batch(
        db: Storage) -> None:
    sub_id, answer_id = new_id(), new_id()
    reply = push(db, [draft(sub_id),
                       mutation("answers", answer_id, {"note": "补记"}, old={"note": "初记"}),
                       answer(answer_id, sub_id, "初记")])
    assert [r.status for r in reply.results] == ["applied", "parked", "applied"]
    assert row(db, "answers", answer_id)["note"] == "补记"  # type: ignore[index]
    with db.read() as conn:
        [result] = conn.execute("SELECT result FROM mutation_results WHERE mutation_id = ?",
                                [reply.results[1].mutation_id]).fetchall()
    assert json.loads(result[0])["status"] == "applied"  # its stored answer is the outcome
    assert_log_sound(db)


def test_a_repeat_in_the_batch_and_in_the_next_gets_the_first_answer(db: Storage) -> None:
    first = note(new_id(), "一次")
    reply = push(db, [first, first])
    assert reply.results[0] == reply.results[1]
    with db.read() as conn:
        before = conn.execute("SELECT count(*) FROM changes").fetchone()[0]
    again = push(db, [first, note(new_id(), "二次")])
    assert again.results[0] == reply.results[0] and again.results[1].status == "applied"
    with db.read() as conn:
        assert conn.execute("SELECT count(*) FROM changes").fetchone()[0] == before + 1
    assert_log_sound(db)


def test_parents_named_by_values_of_the_wrong_type_are_refused_one_by_one(
        db: Storage) -> None:
    """The batch's parents are read ahead by id; a list or an object where an id belongs is
    not an id to read, and its mutation is refused by its own check, the rest applied."""
    bad = [mutation("interactions", new_id(), {
        "job_id": value, "customer_id": "cust-1", "kind": "note", "text": "x",
        "at": now_iso()}, op="insert") for value in ({"id": "job-1"}, ["job-1"], 7)]
    reply = push(db, [*bad, note(new_id(), "好的")])
    assert [(r.status, r.reason) for r in reply.results] == [
        ("rejected", "invalid_value")] * 3 + [("applied", None)]
    assert_log_sound(db)


PAD2 = Principal("tech01", "王建国", "technician", "秦淮区", "pad-2")  # the same man's other tablet


def push_as(db: Storage, who: Principal, mutations: list[Mutation]) -> PushResponse:
    body = PushRequest(protocol=PROTOCOL_VERSION, schema_version=1, device_id=who.device_id,
                       batch_id=new_id(), mutations=mutations)
    with db.write() as conn:
        return push_batch(conn, body, who, ServerClock())


def test_an_update_over_another_devices_change_is_merged_and_over_its_own_applied(
        db: Storage) -> None:
    """"merged" says someone else changed the record since the version the device saw:
    known from the log before the batch, and from the changes the batch itself makes."""
    job, customer = row(db, "jobs", "job-1"), row(db, "customers", "cust-1")
    assert job and customer
    other = push_as(db, PAD2, [mutation("jobs", "job-1", {"status": "accepted"},
                                        old={"status": job["status"]},
                                        base_version=job["version"])])
    assert other.results[0].status == "applied", other.results[0]
    tags = json.dumps(["重点户"], ensure_ascii=False)
    reply = push(db, [
        mutation("jobs", "job-1", {"status": "in_service"}, old={"status": "accepted"},
                 base_version=job["version"]),
        mutation("customers", "cust-1", {"tags": tags}, old={"tags": customer["tags"]},
                 base_version=customer["version"]),
        mutation("customers", "cust-1", {"tags": customer["tags"]}, old={"tags": tags},
                 base_version=customer["version"])])
    assert [r.status for r in reply.results] == ["merged", "applied", "applied"]

    # Another device's parked edit lands in this batch when its record does: this
    # device's edit after it, from the version before it, is merged too.
    sub_id, answer_id = new_id(), new_id()
    push(db, [draft(sub_id)])
    parked = push_as(db, PAD2, [mutation("answers", answer_id, {"note": "补记"},
                                         old={"note": "初记"})])
    assert parked.results[0].status == "parked"
    landed = push(db, [answer(answer_id, sub_id, "初记"),
                       mutation("answers", answer_id, {"value": json.dumps("refused")},
                                old={"value": json.dumps("inspected")})])
    assert [r.status for r in landed.results] == ["applied", "merged"]
    assert row(db, "answers", answer_id)["note"] == "补记"  # type: ignore[index]
    assert_log_sound(db)
