"""Applying pushed mutations: validation, scope, field-level three-way merge, change log.

For an update, each field is compared three ways: the value the client started from
(``old``), the client's new value and the server's current value.

    server == old          → apply (clean, or "merged" when other fields moved meanwhile)
    server == new          → nothing to do
    otherwise (both moved) → the field's policy:
        status    the job state machine decides from the server's current status
        evidence  the server value stays, the device's value is preserved in conflicts
        lww       the later HLC wins, the loser is preserved in conflicts
"""

from __future__ import annotations

import json
from typing import Any

from fieldapp.domain.status import (
    OFFICE_ROLES,
    Status,
    check_transition,
    is_before,
    is_closed,
    reachable,
)
from fieldapp.errors import IllegalTransition
from fieldapp.forms import checklist
from fieldapp.records import EVIDENCE_TABLES, TABLES, TECH_JOB_KINDS, Policy
from fieldapp.wire import Mutation, MutationResult
from sync_server import audit
from sync_server.auth import Principal
from sync_server.db import Connection, utc_now

STATUSES = frozenset(Status)


class Rejected(Exception):
    """A mutation the server refuses; ``preserve`` lists (field, kept, refused value) to keep."""

    def __init__(self, reason: str, message: str,
                 preserve: list[tuple[str | None, Any, Any]] | None = None,
                 resend: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.reason, self.message, self.preserve = reason, message, preserve
        self.resend = resend  # a record the device dropped: logged so its next pull restores it


def apply_mutation(conn: Connection, m: Mutation, who: Principal, batch_id: str,
                   review: bool = False) -> MutationResult:
    """Apply one mutation in its own savepoint; ``review`` is a supervisor resolving a
    conflict (see ``_check_status``)."""
    done = conn.execute("SELECT result FROM mutation_results WHERE mutation_id = ?",
                        [m.mutation_id]).fetchone()
    if done:
        return MutationResult.model_validate_json(done[0])
    conn.execute("SAVEPOINT mutation")
    try:
        result = _apply(conn, m, who, batch_id, review)
        conn.execute("RELEASE mutation")
    except Rejected as exc:
        conn.execute("ROLLBACK TO mutation")
        conn.execute("RELEASE mutation")
        for field, kept, refused in exc.preserve or ():  # refused, yet kept for review
            _preserve(conn, m, who, field, kept, refused, exc.reason)
        # The device holds a value the server refused: send it the record again, so its
        # next pull shows the server's value (the refused one is kept in conflicts).
        resend = exc.resend or (current_row(conn, m.table, m.record_id)
                                if exc.preserve and m.op == "update" else None)
        if resend:
            _resend(conn, m, who, batch_id, resend)
        result = MutationResult(mutation_id=m.mutation_id, status="rejected",
                                reason=exc.reason, message=exc.message)
    conn.execute("INSERT INTO mutation_results(mutation_id, result, device_id) VALUES (?, ?, ?)",
                 [m.mutation_id, result.model_dump_json(), who.device_id])
    return result


def _apply(conn: Connection, m: Mutation, who: Principal, batch_id: str,
           review: bool) -> MutationResult:
    spec = TABLES.get(m.table)
    if spec is None:
        raise Rejected("unknown_table", f"no table {m.table!r}")
    unknown = set(m.fields) - set(spec.columns)
    if unknown:
        raise Rejected("unknown_field", f"{m.table} has no fields {sorted(unknown)}")
    for field, value in m.fields.items():
        if isinstance(value, str) and len(value) > MAX_TEXT:
            raise Rejected("value_too_long", f"{m.table}.{field} has {len(value)} characters;"
                           f" at most {MAX_TEXT} are kept")
    office = who.role in OFFICE_ROLES
    current = current_row(conn, m.table, m.record_id)
    if m.op == "delete":
        return _delete(conn, m, who, batch_id, current)
    if m.op == "insert":
        if current is not None:
            raise Rejected("duplicate_id", f"{m.table} {m.record_id} already exists")
        if not (office or spec.tech_insert):
            raise Rejected("forbidden", f"a {who.role} cannot create {m.table} records")
        _check_insert(conn, m, who)
        seq = _log(conn, m, who, batch_id, m.fields,
                   m.record_id if m.table == "customers" else m.fields.get("customer_id"))
        row = {c: m.fields.get(c) for c in spec.columns}
        cols = ["id", *row, "version", "hlc"]
        conn.execute(f"INSERT INTO \"{m.table}\" ({','.join(cols)}) VALUES "
                     f"({','.join('?' * len(cols))})",
                     [m.record_id, *row.values(), seq, m.hlc])
        return MutationResult(mutation_id=m.mutation_id, status="applied", version=seq)
    if current is None:
        tombstone = _tombstone(conn, m.table, m.record_id)
        if tombstone is None:
            raise Rejected("unknown_record", f"no {m.table} record {m.record_id}")
        current = _restore(conn, m, who, batch_id, tombstone)
    if m.table == "jobs" and who.role not in OFFICE_ROLES and current["assignee"] != who.username:
        if not _was_assigned(conn, m.record_id, who.username):
            raise Rejected("out_of_scope", f"job {current['number']} is not {who.username}'s")
        raise Rejected("reassigned", f"job {current['number']} is now assigned to"
                       f" {current['assignee']}; the change is kept for the supervisor",
                       preserve=[(f, current[f], v) for f, v in m.fields.items()])
    if current.get("job_id"):
        _check_job(conn, m.table, current["job_id"], who)
    else:
        _check_scope(conn, m.table, current.get("customer_id"), who)
    forbidden = set(m.fields) - set(spec.tech_update)
    if not office and forbidden:
        raise Rejected("forbidden", f"a {who.role} cannot change {m.table}.{sorted(forbidden)}")
    if m.table == "answers" and "value" in m.fields:
        _check_answer(conn, current["submission_id"], current["question"], m.fields["value"])
    return _update(conn, m, who, batch_id, current, review)


def _update(conn: Connection, m: Mutation, who: Principal, batch_id: str,
            current: dict[str, Any], review: bool = False) -> MutationResult:
    spec = TABLES[m.table]
    apply: dict[str, Any] = {}
    kept: dict[str, Any] = {}
    preserved: dict[str, Any] = {}
    for field, new in m.fields.items():
        server, base = current[field], m.old.get(field)
        if field == "status" and m.table == "jobs" and server != new:
            _check_status(current, server, new, who, review)
            apply[field] = new
        elif server == base:
            apply[field] = new
        elif server == new:
            continue
        elif spec.policy(field) is Policy.EVIDENCE or m.hlc <= (current["hlc"] or ""):
            kept[field], preserved[field] = server, new
            _preserve(conn, m, who, field, server, new, "kept_server_value")
        else:
            apply[field] = new
            kept[field], preserved[field] = new, server
            _preserve(conn, m, who, field, new, server, "overwritten_by_later_hlc")
    seq = current["version"]
    if apply:
        seq = _log(conn, m, who, batch_id, apply, current.get("customer_id"))
        sets = ", ".join(f'"{f}" = ?' for f in apply)
        # The record's HLC only moves forward; current was read in this same write.
        hlc = max(current["hlc"] or "", m.hlc)
        conn.execute(f'UPDATE "{m.table}" SET {sets}, version = ?, hlc = ? WHERE id = ?',
                     [*apply.values(), seq, hlc, m.record_id])
    if preserved and not apply:  # the device's value lost and nothing else changed
        _resend(conn, m, who, batch_id, current)
    if preserved:
        return MutationResult(mutation_id=m.mutation_id, status="conflict", version=seq,
                              reason="conflict", kept=kept, preserved=preserved)
    return MutationResult(mutation_id=m.mutation_id, version=seq,
                          status="merged" if _moved_by_others(conn, m, who, current["version"])
                          else "applied")


def _delete(conn: Connection, m: Mutation, who: Principal, batch_id: str,
            current: dict[str, Any] | None) -> MutationResult:
    """Delete a record, keeping its whole last row as a tombstone.

    A delete does not beat a later concurrent edit: when the record changed after the
    version the device saw, by a later HLC, the record stays, the device gets it back on
    its next pull, and the delete is kept for review.
    """
    spec = TABLES[m.table]
    if current is None:
        if _tombstone(conn, m.table, m.record_id) is not None:
            return MutationResult(mutation_id=m.mutation_id, status="applied")  # already gone
        raise Rejected("unknown_record", f"no {m.table} record {m.record_id}")
    office = who.role in OFFICE_ROLES
    if not (spec.office_delete if office else spec.tech_delete):
        raise Rejected("forbidden", f"a {who.role} cannot delete {m.table} records")
    if current.get("job_id"):
        _check_job(conn, m.table, current["job_id"], who, evidence_of_old_jobs=False)
        job = current_row(conn, "jobs", current["job_id"])
        if not office and job and is_closed(job["status"]):
            raise Rejected("job_closed", f"job {job['number']} is {job['status']}; its"
                           " evidence stays", resend=current)
    else:
        _check_scope(conn, m.table, current.get("customer_id"), who)
    if current["version"] > m.base_version and (current["hlc"] or "") > m.hlc:
        raise Rejected("edited_after_delete", f"{m.table} {m.record_id} was changed after this"
                       " device deleted it; it stays, and the delete is kept for review",
                       preserve=[(None, current, "deleted")], resend=current)
    seq = _log(conn, m, who, batch_id, {}, current.get("customer_id"))
    conn.execute(
        "INSERT INTO tombstones(tbl, record_id, customer_id, row, hlc, by_user, device_id, at,"
        " mutation_id) VALUES (?,?,?,?,?,?,?,?,?)",
        [m.table, m.record_id, current.get("customer_id"),
         json.dumps(current, ensure_ascii=False), m.hlc, who.username, who.device_id,
         utc_now(), m.mutation_id])
    conn.execute(f'DELETE FROM "{m.table}" WHERE id = ?', [m.record_id])
    return MutationResult(mutation_id=m.mutation_id, status="applied", version=seq)


def _tombstone(conn: Connection, table: str, record_id: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT * FROM tombstones WHERE tbl = ? AND record_id = ?"
                       " AND restored_at IS NULL ORDER BY id DESC LIMIT 1",
                       [table, record_id]).fetchone()
    return dict(row) if row else None


def _restore(conn: Connection, m: Mutation, who: Principal, batch_id: str,
             tombstone: dict[str, Any]) -> dict[str, Any]:
    """An edit of a deleted record: a later one brings the record back (and the delete
    goes to review), an earlier one is refused and kept."""
    if m.hlc <= tombstone["hlc"]:
        raise Rejected("record_deleted", f"{m.table} {m.record_id} was deleted by"
                       f" {tombstone['by_user']} after this change; the change is kept for"
                       " review", preserve=[(f, None, v) for f, v in m.fields.items()])
    row = json.loads(tombstone["row"])
    cols = list(row)
    conn.execute(f'INSERT INTO "{m.table}" ({",".join(cols)}) VALUES'
                 f' ({",".join("?" * len(cols))})', [row[c] for c in cols])
    fields = {c: v for c, v in row.items() if c not in ("id", "version", "hlc")}
    seq = _log(conn, m, who, batch_id, fields, row.get("customer_id"), op="restore",
               mutation_id=None)
    conn.execute(f'UPDATE "{m.table}" SET version = ? WHERE id = ?', [seq, m.record_id])
    conn.execute("UPDATE tombstones SET restored_at = ? WHERE id = ?",
                 [utc_now(), tombstone["id"]])
    _preserve(conn, m, who, None, row, "deleted", "delete_overridden_by_later_edit",
              made_by=tombstone)
    restored = current_row(conn, m.table, m.record_id)
    assert restored is not None
    return restored


def _moved_by_others(conn: Connection, m: Mutation, who: Principal,
                     current_version: int) -> bool:
    """Did anyone but this device change the record after the version the client saw?"""
    if current_version <= m.base_version:
        return False
    return conn.execute(
        "SELECT 1 FROM changes WHERE tbl = ? AND record_id = ? AND seq > ?"
        " AND coalesce(device_id, '') != ? LIMIT 1",
        [m.table, m.record_id, m.base_version, who.device_id]).fetchone() is not None


def _check_status(job: dict[str, Any], server: str, new: str, who: Principal,
                  review: bool = False) -> None:
    """A status change must be legal from the server's status, directly or moving forward.

    Moving forward over a step not yet received (reordered batches) merges; going back
    (a stale change) or out of a cancelled job is refused, and the refused value is kept.
    The one exception is a supervisor's review: a job the office cancelled while its
    technician completed it offline may be reinstated as completed.
    """
    if review and (server, new) == (Status.CANCELLED, Status.COMPLETED):
        return
    try:
        check_transition(server, new, who.role)
        return
    except IllegalTransition as exc:
        if server in STATUSES and new in STATUSES and reachable(server, new, who.role):
            return
        reason = "stale_transition" if is_before(new, server) else exc.code
        raise Rejected(reason, f"job {job['number']} is {server} on the server;"
                       f" {who.role} cannot move it to {new}",
                       preserve=[("status", server, new)]) from exc


def _check_insert(conn: Connection, m: Mutation, who: Principal) -> None:
    f = m.fields
    if f.get("job_id"):
        job = current_row(conn, "jobs", f["job_id"])
        if job is None:
            raise Rejected("unknown_job", f"no job {f['job_id']}")
        if f.get("customer_id") != job["customer_id"]:
            raise Rejected("customer_mismatch", "customer_id does not match the job's customer")
        _check_job(conn, m.table, job["id"], who, job)
    elif TABLES[m.table].scoped and m.table != "scans":
        _check_scope(conn, m.table, f.get("customer_id"), who)
    own_check = (f.get("kind") in TECH_JOB_KINDS and f.get("assignee") == who.username
                 and f.get("status") == Status.DISPATCHED)
    if m.table == "jobs" and who.role not in OFFICE_ROLES and not own_check:
        raise Rejected("forbidden", "a tablet creates only rectification-check jobs,"
                       " dispatched to its own technician")
    if m.table == "answers":
        _check_answer(conn, f.get("submission_id"), f.get("question"), f.get("value"))
    if m.table == "part_requests" and who.role not in OFFICE_ROLES and (
            f.get("state") != "requested" or f.get("decided_at") or f.get("decided_by")):
        raise Rejected("forbidden", "a tablet asks for parts; only the office issues them")
    if m.table == "attachments":
        blob = conn.execute("SELECT size, complete FROM blobs WHERE sha256 = ?",
                            [f.get("sha256")]).fetchone()
        if blob is None or not blob["complete"]:
            raise Rejected("attachment_missing",
                           f"the bytes of {f.get('sha256')} were not uploaded")
        if blob["size"] != f.get("size"):
            raise Rejected("attachment_size_mismatch", "size differs from the uploaded file")


def _check_job(conn: Connection, table: str, job_id: str, who: Principal,
               job: dict[str, Any] | None = None, evidence_of_old_jobs: bool = True) -> None:
    """Work on a job is accepted from its assignee, and captured evidence also from anyone
    the job was assigned to before: a reassignment must not make offline work vanish.
    (Deleting is for the assignee only: ``evidence_of_old_jobs=False``.)"""
    if who.role in OFFICE_ROLES:
        return
    job = job or current_row(conn, "jobs", job_id)
    if job is None:
        raise Rejected("unknown_job", f"no job {job_id}")
    if job["assignee"] == who.username:
        return
    if evidence_of_old_jobs and table in EVIDENCE_TABLES and _was_assigned(conn, job_id,
                                                                           who.username):
        return
    raise Rejected("out_of_scope", f"job {job['number']} is not assigned to {who.username}")


def _was_assigned(conn: Connection, job_id: str, username: str) -> bool:
    return conn.execute(
        "SELECT 1 FROM changes WHERE tbl = 'jobs' AND record_id = ?"
        " AND json_extract(fields, '$.assignee') = ? LIMIT 1", [job_id, username]
    ).fetchone() is not None


def _check_answer(conn: Connection, submission_id: str | None, question: str | None,
                  raw: Any) -> None:
    """The answer must fit its question in the submission's form version (insert and update)."""
    sub = current_row(conn, "submissions", submission_id or "")
    if sub is None:
        raise Rejected("unknown_submission", f"no submission {submission_id}")
    try:
        value = json.loads(raw if raw is not None else "null")
    except (TypeError, ValueError) as exc:
        raise Rejected("invalid_answer:malformed", f"{question}: not JSON: {raw!r}") from exc
    definition = _form(conn, sub["form_code"], sub["form_version"])
    problem = checklist.check_answer(definition, question or "", value)
    if problem:
        raise Rejected(f"invalid_answer:{problem}", f"{question}: {problem}")


def _check_scope(conn: Connection, table: str, customer_id: str | None,
                 who: Principal) -> None:
    if who.role in OFFICE_ROLES or not TABLES[table].scoped:
        return
    hit = conn.execute("SELECT 1 FROM jobs WHERE customer_id = ? AND assignee = ? LIMIT 1",
                       [customer_id, who.username]).fetchone()
    if hit is None:
        raise Rejected("out_of_scope", f"customer {customer_id} is not in {who.username}'s jobs")


def _form(conn: Connection, code: str, version: int) -> dict[str, Any]:
    row = conn.execute(
        "SELECT definition FROM form_definitions WHERE code = ? AND form_version = ?",
        [code, version]).fetchone()
    if row is None:
        raise Rejected("unknown_form", f"no form {code} v{version}")
    return json.loads(row[0])


def current_row(conn: Connection, table: str, record_id: str) -> dict[str, Any] | None:
    row = conn.execute(f'SELECT * FROM "{table}" WHERE id = ?', [record_id]).fetchone()
    return dict(row) if row else None


def _resend(conn: Connection, m: Mutation, who: Principal, batch_id: str,
            record: dict[str, Any]) -> None:
    """Log the record again (no fields changed) so that pulls send its current row."""
    _log(conn, m, who, batch_id, {}, record.get("customer_id"), op="resend", mutation_id=None)


_SAME = object()
# No field a technician fills comes near this; a signature's strokes are the longest.
MAX_TEXT = 200_000


def _log(conn: Connection, m: Mutation, who: Principal, batch_id: str,
         fields: dict[str, Any], customer_id: str | None, op: str | None = None,
         mutation_id: Any = _SAME) -> int:
    """One change-log entry; ``op`` "restore" (a deleted record back) and "resend" (a
    record the device dropped, sent again) are logged without the mutation's id, which
    names the change the mutation itself made."""
    return audit.log(conn, {
        "tbl": m.table, "record_id": m.record_id, "customer_id": customer_id,
        "op": op or m.op, "fields": json.dumps(fields, ensure_ascii=False), "hlc": m.hlc,
        "by_user": who.username, "device_id": who.device_id, "at": utc_now(),
        "client_at": m.at, "mutation_id": m.mutation_id if mutation_id is _SAME else mutation_id,
        "batch_id": batch_id})[0]


def hand_in(conn: Connection, mutations: list[Mutation], who: Principal) -> int:
    """Keep for review the refused changes a revoked tablet hands in before it erases its
    data: each value next to the server's. Only changes this server refused count, each
    once (a hand-in repeated after a lost answer adds nothing); returns how many are kept."""
    kept = 0
    for m in mutations:
        done = conn.execute("SELECT result FROM mutation_results WHERE mutation_id = ?",
                            [m.mutation_id]).fetchone()
        if done is None or m.table not in TABLES:
            continue
        result = MutationResult.model_validate_json(done[0])
        already = conn.execute("SELECT 1 FROM conflicts WHERE mutation_id = ? AND reason"
                               " LIKE 'handed_in%'", [m.mutation_id]).fetchone()
        if result.status != "rejected" or already:
            continue
        row = current_row(conn, m.table, m.record_id) or {}
        reason = f"handed_in:{result.reason}"
        for field, value in (m.fields.items() if m.op != "delete" else [(None, "deleted")]):
            if field is None or field in TABLES[m.table].columns:
                _preserve(conn, m, who, field, row.get(field) if field else None, value,
                          reason)
        kept += 1
    return kept


def _preserve(conn: Connection, m: Mutation, who: Principal, field: str | None, kept: Any,
              preserved: Any, reason: str, made_by: dict[str, Any] | None = None) -> None:
    """Keep a losing value for review. It came from this mutation, unless ``made_by`` (its
    hlc, by_user, device_id, mutation_id) names an earlier change: a delete overridden."""
    src = made_by or {"hlc": m.hlc, "by_user": who.username, "device_id": who.device_id,
                      "mutation_id": m.mutation_id}
    conn.execute(
        "INSERT INTO conflicts(tbl, record_id, field, reason, kept, preserved, preserved_hlc,"
        " preserved_by, preserved_device, mutation_id, at, customer_id)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        [m.table, m.record_id, field, reason, json.dumps(kept, ensure_ascii=False),
         json.dumps(preserved, ensure_ascii=False), src["hlc"], src["by_user"],
         src["device_id"], src["mutation_id"], utc_now(), customer_of(conn, m)])


def customer_of(conn: Connection, m: Mutation) -> str | None:
    """The customer a mutation concerns (what district-scoped review filters by): the
    record's own, else the one the mutation names, else a deleted record's."""
    if m.table == "customers":
        return m.record_id
    spec = TABLES.get(m.table)
    if spec is None or not spec.scoped:
        return None
    row = current_row(conn, m.table, m.record_id) or _tombstone(conn, m.table, m.record_id)
    found = row.get("customer_id") if row else None
    named = m.fields.get("customer_id")
    return found or (named if isinstance(named, str) else None)
