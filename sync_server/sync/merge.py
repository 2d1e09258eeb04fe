"""Applying pushed mutations: validation, scope, field-level three-way merge, change log.

For an update, each field is compared three ways: the value the client started from
(``old``), the client's new value and the server's current value.

    server == old          → apply (clean, or "merged" when other fields moved meanwhile)
    server == new          → nothing to do
    otherwise (both moved) → the field's policy:
        status    the job state machine decides from the server's current status
        evidence  the server value stays, the device's value is preserved in conflicts
        set       (tags) both sides' additions and removals are kept: nothing to review
        lww       the later HLC wins, the loser is preserved in conflicts
"""

from __future__ import annotations

import json
from typing import Any

from fieldapp.domain import customer_tags
from fieldapp.domain.status import Status, check_transition, is_before, is_closed, reachable
from fieldapp.errors import IllegalTransition
from fieldapp.hlc import hlc_key
from fieldapp.records import TABLES, Policy
from fieldapp.wire import Mutation, MutationResult
from fieldapp.write_policy import Door, Scope
from sync_server.services import audit
from sync_server.services.auth import Principal
from sync_server.storage import deferred, rows
from sync_server.storage.db import Connection, utc_now
from sync_server.storage.rows import current_row, tombstone
from sync_server.sync import conflict_rows, evidence_check, moved, parking, write_checks
from sync_server.sync.write_checks import Parked, Rejected

STATUSES = frozenset(Status)


def apply_mutation(conn: Connection, m: Mutation, who: Principal, batch_id: str,
                   review: bool = False, door: Door = Door.DEVICE,
                   digest: str | None = None, new: bool = False,
                   checked: write_checks.Checked | None = None) -> MutationResult:
    """Apply one mutation in its own savepoint; ``review`` is a supervisor resolving a
    conflict (see ``_check_status``), ``door`` whether it came from a device's push or an
    office service, ``digest`` what the device sent (a reuse is told apart by it), ``new``
    that the caller has just looked and no answer to it is stored, ``checked`` a device's
    mutation's ``write_checks.precheck``, done before the write lock."""
    done = None if new else conn.execute(
        "SELECT result FROM mutation_results WHERE mutation_id = ?", [m.mutation_id]).fetchone()
    if done:
        return MutationResult.model_validate_json(done[0])
    deferred.savepoint(conn)
    try:
        result = _apply(conn, m, who, batch_id, review, door, checked)
        deferred.release(conn)
    except Parked as exc:
        _rolled_back(conn)
        conflict = conflict_rows.preserve(conn, m, who, None, None, _whole(m), "awaiting_parent")
        result = parking.park(conn, m, who, batch_id, exc.parent_table, exc.parent_id,
                              conflict)
    except Rejected as exc:
        _rolled_back(conn)
        _keep_refused(conn, m, who, batch_id, exc)
        result = MutationResult(mutation_id=m.mutation_id, status="rejected",
                                reason=exc.reason, message=exc.message)
    parking.record_result(conn, m.mutation_id, result, who.device_id, digest)
    if result.status in ("applied", "merged") and m.op == "insert":
        parking.release(conn, m.table, m.record_id, apply_mutation)
    return result


def _rolled_back(conn: Connection) -> None:
    """Undo the mutation's writes, and whatever was kept in memory of them."""
    deferred.rollback(conn)
    audit.forget_head()
    rows.forget_all()
    moved.forget_all()


def _keep_refused(conn: Connection, m: Mutation, who: Principal, batch_id: str,
                  exc: Rejected) -> None:
    """A refusal is never a loss: the refused values are kept for review (field by field
    where the check said which, else the whole mutation), and a device holding a value
    the server refused gets the record again, so its next pull shows the server's."""
    if exc.preserve is None:
        conflict_rows.preserve(conn, m, who, None, None, _whole(m), exc.reason)
    for field, kept, refused in exc.preserve or ():
        conflict_rows.preserve(conn, m, who, field, kept, refused, exc.reason)
    resend = exc.resend or (current_row(conn, m.table, m.record_id)
                            if m.op == "update" else None)
    if resend:
        _resend(conn, m, who, batch_id, resend)


def _whole(m: Mutation) -> dict[str, Any]:
    return {"op": m.op, "fields": m.fields}


def _apply(conn: Connection, m: Mutation, who: Principal, batch_id: str,
           review: bool, door: Door, checked: write_checks.Checked | None) -> MutationResult:
    if door is Door.DEVICE:
        checked = checked or write_checks.precheck(m, who)
        if checked.refusal:
            raise checked.refusal
        assert checked.stamped is not None
        m = checked.stamped
    else:
        write_checks.check_shape(m)
    current = current_row(conn, m.table, m.record_id)
    scope = write_checks.check_rights(m, who, door)
    if m.op == "delete":
        return _delete(conn, m, who, batch_id, current, scope)
    if m.op == "insert":
        if current is not None:
            raise Rejected("duplicate_id", f"{m.table} {m.record_id} already exists")
        return _insert(conn, m, who, batch_id, scope, door)
    if current is None:
        deleted = tombstone(conn, m.table, m.record_id)
        if deleted is None:
            if door is Door.DEVICE:
                raise Parked(m.table, m.record_id)  # its insert may be on the way
            raise Rejected("unknown_record", f"no {m.table} record {m.record_id}")
        current = _restore(conn, m, who, batch_id, deleted)
    _check_scope(conn, m, who, scope, current)
    write_checks.check_verified(m, door, current)
    _check_unique(conn, m, current)
    if m.table == "answers" and "value" in m.fields:
        write_checks.check_answer(conn, current_row, current["submission_id"],
                                  current["question"], m.fields["value"])
    if (m.table == "submissions" and m.fields.get("state") == "submitted" != current["state"]
            and (reason := evidence_check.check_submit(conn, m.record_id))):  # signature binds
        raise Rejected(reason, evidence_check.message(reason, m.record_id),
                       preserve=[(f, current[f], v) for f, v in m.fields.items()])
    return _update(conn, m, who, batch_id, current, review)


def _check_scope(conn: Connection, m: Mutation, who: Principal, scope: Scope,
                 current: dict[str, Any] | None) -> None:
    if scope is Scope.OWN:
        write_checks.check_own(conn, m, who, current, current_row)
    elif scope is Scope.DISTRICT:
        write_checks.check_district(conn, m, who, current)


def _insert(conn: Connection, m: Mutation, who: Principal, batch_id: str, scope: Scope,
            door: Door) -> MutationResult:
    spec = TABLES[m.table]
    if scope is Scope.DISTRICT:  # needs only the customer named, not the parents
        write_checks.check_district(conn, m, who, None)
    write_checks.check_parents(conn, m, current_row, tombstone)
    if scope is Scope.OWN:
        write_checks.check_own(conn, m, who, None, current_row)
    if door is Door.DEVICE:
        write_checks.check_device_insert(conn, m, who)
    if m.table == "answers":
        write_checks.check_answer(conn, current_row, m.fields.get("submission_id"),
                                  m.fields.get("question"), m.fields.get("value"))
    if m.table == "attachments":
        write_checks.check_attachment(conn, m)
    twin = _check_unique(conn, m, None)
    if twin is not None:
        return _answered_twice(conn, m, who, batch_id, twin)
    seq = _log(conn, m, who, batch_id, m.fields,
               m.record_id if m.table == "customers" else m.fields.get("customer_id"))
    # A field left out takes the column's default (a part request's state, a hazard's).
    row = {c: m.fields[c] for c in spec.columns if c in m.fields}
    cols = ["id", *row, "version", "hlc"]
    deferred.write(conn, m.table, f"INSERT INTO \"{m.table}\" ({','.join(cols)}) VALUES "
                   f"({','.join('?' * len(cols))})", [m.record_id, *row.values(), seq, m.hlc])
    rows.forget(m.table, m.record_id)
    if (m.table == "submissions" and m.fields.get("state") == "submitted"
            and (reason := evidence_check.check_submit(conn, m.record_id))):
        raise Rejected(reason, evidence_check.message(reason, m.record_id),
                       preserve=[(None, None, m.fields)])
    return MutationResult(mutation_id=m.mutation_id, status="applied", version=seq)


def _check_unique(conn: Connection, m: Mutation,
                  current: dict[str, Any] | None) -> dict[str, Any] | None:
    """The record already holding this mutation's unique values, if another does: for a
    second answer to one question it is returned (a conflict), otherwise refused."""
    key = TABLES[m.table].unique  # checked here, so no constraint error reaches the database
    if not key or not set(key) & set(m.fields):
        return None
    values = [m.fields.get(c, (current or {}).get(c)) for c in key]
    where = " AND ".join(f'"{c}" = ?' for c in key)
    row = conn.execute(f'SELECT * FROM "{m.table}" WHERE {where} AND id != ? LIMIT 1',
                       [*values, m.record_id]).fetchone()
    if row is None:
        return None
    if m.table == "answers" and current is None:
        return dict(row)
    raise Rejected("duplicate_value", f"{m.table} {row['id']} already has"
                   f" {dict(zip(key, values, strict=True))}")


def _answered_twice(conn: Connection, m: Mutation, who: Principal, batch_id: str,
                    twin: dict[str, Any]) -> MutationResult:
    """Two devices answered one question of one submission: the first answer stays, the
    second is kept beside it for review, and the device gets the first on its next pull."""
    kept = {f: twin[f] for f in ("value", "note")}
    preserved = {f: m.fields.get(f) for f in ("value", "note")}
    on_twin = m.model_copy(update={"record_id": twin["id"]})
    for field in ("value", "note"):
        if preserved[field] is not None and preserved[field] != kept[field]:
            conflict_rows.preserve(conn, on_twin, who, field, kept[field],
                                   preserved[field], "duplicate_answer")
    _resend(conn, on_twin, who, batch_id, twin)
    return MutationResult(mutation_id=m.mutation_id, status="conflict", version=twin["version"],
                          reason="duplicate_answer", kept=kept, preserved=preserved,
                          message=f"answers {twin['id']} already answers {twin['question']}")


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
        elif spec.policy(field) is Policy.SET:  # tags: neither side's edit is lost
            union = customer_tags.stored(customer_tags.merged(
                customer_tags.read(base), customer_tags.read(new), customer_tags.read(server)))
            if union != server:
                apply[field] = union
        elif spec.policy(field) is Policy.EVIDENCE or hlc_key(m.hlc) <= hlc_key(current["hlc"]):
            kept[field], preserved[field] = server, new
            conflict_rows.preserve(conn, m, who, field, server, new, "kept_server_value")
        else:
            apply[field] = new
            kept[field], preserved[field] = new, server
            conflict_rows.preserve(conn, m, who, field, new, server,
                                   "overwritten_by_later_hlc",
                                   made_by=_last_change(conn, m.table, m.record_id))
    seq = current["version"]
    if apply:
        seq = _log(conn, m, who, batch_id, apply, current.get("customer_id"))
        sets = ", ".join(f'"{f}" = ?' for f in apply)
        # The record's HLC only moves forward; current was read in this same write.
        hlc = max(current["hlc"] or "", m.hlc, key=hlc_key)
        deferred.write(conn, m.table,
                       f'UPDATE "{m.table}" SET {sets}, version = ?, hlc = ? WHERE id = ?',
                       [*apply.values(), seq, hlc, m.record_id])
        rows.updated(m.table, m.record_id, {**apply, "version": seq, "hlc": hlc})
    if preserved and not apply:  # the device's value lost and nothing else changed
        _resend(conn, m, who, batch_id, current)
    if preserved:
        return MutationResult(mutation_id=m.mutation_id, status="conflict", version=seq,
                              reason="conflict", kept=kept, preserved=preserved)
    return MutationResult(mutation_id=m.mutation_id, version=seq,
                          status="merged" if _moved_by_others(conn, m, who, current["version"])
                          else "applied")


def _moved_by_others(conn: Connection, m: Mutation, who: Principal,
                     current_version: int) -> bool:
    """Did anyone but this device change the record after the version the client saw?"""
    return current_version > m.base_version and moved.moved_by_others(
        conn, m.table, m.record_id, who.device_id, m.base_version)


def _delete(conn: Connection, m: Mutation, who: Principal, batch_id: str,
            current: dict[str, Any] | None, scope: Scope) -> MutationResult:
    """Delete a record, keeping its whole last row as a tombstone.

    A delete does not beat a later concurrent edit: when the record changed after the
    version the device saw, by a later HLC, the record stays, the device gets it back on
    its next pull, and the delete is kept for review.
    """
    if current is None:
        if tombstone(conn, m.table, m.record_id) is not None:
            return MutationResult(mutation_id=m.mutation_id, status="applied")  # already gone
        raise Rejected("unknown_record", f"no {m.table} record {m.record_id}")
    _check_scope(conn, m, who, scope, current)
    job = current_row(conn, "jobs", current["job_id"]) if current.get("job_id") else None
    if scope is Scope.OWN and job and is_closed(job["status"]):
        raise Rejected("job_closed", f"job {job['number']} is {job['status']}; its"
                       " evidence stays", resend=current)
    if current["version"] > m.base_version and hlc_key(current["hlc"]) > hlc_key(m.hlc):
        raise Rejected("edited_after_delete", f"{m.table} {m.record_id} was changed after this"
                       " device deleted it; it stays, and the delete is kept for review",
                       preserve=[(None, current, "deleted")], resend=current)
    seq = _log(conn, m, who, batch_id, {}, current.get("customer_id"))
    deferred.write(
        conn, "tombstones",
        "INSERT INTO tombstones(tbl, record_id, customer_id, row, hlc, by_user, device_id, at,"
        " mutation_id) VALUES (?,?,?,?,?,?,?,?,?)",
        [m.table, m.record_id, current.get("customer_id"),
         json.dumps(current, ensure_ascii=False), m.hlc, who.username, who.device_id,
         utc_now(), m.mutation_id])
    deferred.write(conn, m.table, f'DELETE FROM "{m.table}" WHERE id = ?', [m.record_id])
    rows.forget(m.table, m.record_id)
    return MutationResult(mutation_id=m.mutation_id, status="applied", version=seq)


def _restore(conn: Connection, m: Mutation, who: Principal, batch_id: str,
             deleted: dict[str, Any]) -> dict[str, Any]:
    """An edit of a deleted record: a later one brings the record back (and the delete
    goes to review), an earlier one is refused and kept."""
    if hlc_key(m.hlc) <= hlc_key(deleted["hlc"]):
        raise Rejected("record_deleted", f"{m.table} {m.record_id} was deleted by"
                       f" {deleted['by_user']} after this change; the change is kept for"
                       " review", preserve=[(f, None, v) for f, v in m.fields.items()])
    row = json.loads(deleted["row"])
    cols = list(row)
    conn.execute(f'INSERT INTO "{m.table}" ({",".join(cols)}) VALUES'
                 f' ({",".join("?" * len(cols))})', [row[c] for c in cols])
    fields = {c: v for c, v in row.items() if c not in ("id", "version", "hlc")}
    seq = _log(conn, m, who, batch_id, fields, row.get("customer_id"), op="restore",
               mutation_id=None)
    conn.execute(f'UPDATE "{m.table}" SET version = ? WHERE id = ?', [seq, m.record_id])
    rows.forget(m.table, m.record_id)
    conn.execute("UPDATE tombstones SET restored_at = ? WHERE id = ?",
                 [utc_now(), deleted["id"]])
    conflict_rows.preserve(conn, m, who, None, row, "deleted",
                           "delete_overridden_by_later_edit", made_by=deleted)
    restored = current_row(conn, m.table, m.record_id)
    assert restored is not None
    return restored


def _last_change(conn: Connection, table: str, record_id: str) -> dict[str, Any] | None:
    """Who made a record's current values (the change an overwrite preserves)."""
    row = conn.execute("SELECT hlc, by_user, device_id, mutation_id FROM changes"
                       " WHERE tbl = ? AND record_id = ? AND op IN ('insert', 'update', 'restore')"
                       " ORDER BY seq DESC LIMIT 1", [table, record_id]).fetchone()
    return dict(row) if row else None


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


def _resend(conn: Connection, m: Mutation, who: Principal, batch_id: str,
            record: dict[str, Any]) -> None:
    """Log the record again (no fields changed) so that pulls send its current row."""
    _log(conn, m, who, batch_id, {}, record.get("customer_id"), op="resend", mutation_id=None)


_SAME = object()
_FIELDS = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps's, built once per process


def _log(conn: Connection, m: Mutation, who: Principal, batch_id: str,
         fields: dict[str, Any], customer_id: str | None, op: str | None = None,
         mutation_id: Any = _SAME) -> int:
    """One change-log entry; ``op`` "restore" (a deleted record back) and "resend" (a
    record the device dropped, sent again) are logged without the mutation's id, which
    names the change the mutation itself made."""
    seq = audit.log(conn, {
        "tbl": m.table, "record_id": m.record_id, "customer_id": customer_id,
        "op": op or m.op, "fields": _FIELDS(fields), "hlc": m.hlc,
        "by_user": who.username, "device_id": who.device_id, "at": utc_now(),
        "client_at": m.at, "mutation_id": m.mutation_id if mutation_id is _SAME else mutation_id,
        "batch_id": batch_id})[0]
    moved.logged(m.table, m.record_id, who.device_id, seq)
    return seq
