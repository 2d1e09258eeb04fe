"""What a mutation must pass before the merge touches a row: its shape, its values, the
caller's rights (``fieldapp.write_policy``) and scope, and the records it refers to.

Every check raises :class:`Rejected` (kept for review by ``merge.apply_mutation``) or
:class:`Parked` (the parent record has not arrived yet: the mutation waits for it), and
none runs SQL that could fail on a bad value: types are checked first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fieldapp import field_types
from fieldapp.domain.status import Status
from fieldapp.file_kinds import evidence_kind
from fieldapp.forms import checklist
from fieldapp.records import EVIDENCE_TABLES, TABLES, TECH_JOB_KINDS
from fieldapp.wire import Mutation
from fieldapp.write_policy import AUTHORSHIP, VERIFIED, Door, Scope, grant_for
from sync_server.errors import ServerError
from sync_server.services.auth import Principal
from sync_server.services.districts import district_of
from sync_server.storage import rows
from sync_server.storage.db import Connection

# The records a record belongs to: an insert waits (is parked) until they have arrived.
PARENTS = {"job_id": "jobs", "submission_id": "submissions", "attachment_id": "attachments"}


class MutationHeld(ServerError):
    """A mutation the merge does not apply now; it becomes the mutation's result."""


class Rejected(MutationHeld):
    """A mutation the server refuses; ``preserve`` lists (field, kept, refused value) to keep
    field by field (without it the whole mutation is kept)."""

    def __init__(self, reason: str, message: str,
                 preserve: list[tuple[str | None, Any, Any]] | None = None,
                 resend: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.reason, self.message, self.preserve = reason, message, preserve
        self.resend = resend  # a record the device dropped: logged so its next pull restores it


class Parked(MutationHeld):
    """The record ``parent_table``/``parent_id`` this mutation needs has not arrived yet."""

    def __init__(self, parent_table: str, parent_id: str) -> None:
        super().__init__(f"waiting for {parent_table} {parent_id}")
        self.parent_table, self.parent_id = parent_table, parent_id


def check_shape(m: Mutation) -> None:
    """Known table and fields, each value of its declared type; an insert has every
    required field."""
    spec = TABLES.get(m.table)
    if spec is None:
        raise Rejected("unknown_table", f"no table {m.table!r}")
    unknown = set(m.fields) - set(spec.columns)
    if unknown:
        raise Rejected("unknown_field", f"{m.table} has no fields {sorted(unknown)}")
    if m.op == "delete" and m.fields:
        raise Rejected("invalid_value", "a delete carries no fields")
    for name, value in m.fields.items():
        problem = field_types.check(m.table, name, value)
        if problem:
            raise Rejected("invalid_value", f"{m.table}.{name} {problem}")
    if m.op == "insert":
        missing = field_types.required_missing(m.table, m.fields)
        if missing:
            raise Rejected("invalid_value", f"{m.table}.{missing[0]} is required")


def stamp_authorship(m: Mutation, who: Principal) -> Mutation:
    """Who made a record and on which device come from the token, never from the fields.

    An insert is stamped with the caller; an update never changes a record's author, except
    an answer's, whose author is whoever gave its current value."""
    columns = set(TABLES[m.table].columns) & AUTHORSHIP
    if not columns:
        return m
    fields = {k: v for k, v in m.fields.items() if k not in columns}
    if m.op == "insert" or (m.table == "answers" and {"value", "note"} & set(fields)):
        stamp = {"by_user": who.username, "device_id": who.device_id}
        fields |= {k: v for k, v in stamp.items() if k in columns}
    return m.model_copy(update={"fields": fields})


@dataclass(frozen=True)
class Checked:
    """A device's mutation after the checks that read nothing stored: its shape's refusal,
    or the mutation stamped with its author (``precheck``)."""
    stamped: Mutation | None
    refusal: Rejected | None


def precheck(m: Mutation, who: Principal) -> Checked:
    """``check_shape`` and ``stamp_authorship`` of a device's mutation, done before a push
    takes the write lock (on PostgreSQL every other writer waits while it is held); the
    merge raises the refusal, if any, where it would have checked."""
    try:
        check_shape(m)
    except Rejected as exc:
        return Checked(None, exc)
    return Checked(stamp_authorship(m, who), None)


def check_rights(m: Mutation, who: Principal, door: Door) -> Scope:
    """The scope the caller's grant for this mutation holds in; Rejected without one."""
    fields = set(m.fields) - (AUTHORSHIP if door is Door.DEVICE else set())  # stamped
    grant = grant_for(who.role, m.table, m.op, fields, door)
    if grant:
        return grant.scope
    where = "a tablet" if door is Door.DEVICE else "the back office"
    raise Rejected("forbidden", f"a {who.role} cannot {m.op} {m.table}"
                   f"{sorted(fields) if m.op == 'update' else ''} through {where}")


def check_verified(m: Mutation, door: Door, current: dict[str, Any]) -> None:
    """A tablet's change to a field that signs the customer in (the portal phone) is not
    applied but kept for the office to verify (conflict review applies it). Checked after
    the caller's rights and scope, so only a change the caller may ask for waits."""
    verified = sorted(f for f in m.fields if (m.table, f) in VERIFIED)
    if door is Door.DEVICE and verified:
        raise Rejected("needs_verification", f"{m.table}.{verified} changes only once the"
                       " office has verified it; the value is kept for review",
                       preserve=[(f, current.get(f), m.fields[f]) for f in verified])


def check_district(conn: Connection, m: Mutation, who: Principal,
                   current: dict[str, Any] | None) -> None:
    """A district-scoped office account changes only its district's customers' records."""
    scope = district_of(who)
    if scope is None:
        return
    districts = set()
    if m.table == "customers":
        districts.add((current or {}).get("district") if current else m.fields.get("district"))
        if "district" in m.fields:
            districts.add(m.fields["district"])
    elif TABLES[m.table].scoped:
        customer = (current or {}).get("customer_id") or m.fields.get("customer_id")
        row = conn.execute("SELECT district FROM customers WHERE id = ?",
                           [customer]).fetchone()
        districts.add(row[0] if row else None)
    else:
        districts.add(None)  # forms, articles, settings: the whole utility's
    if districts != {scope}:
        raise Rejected("out_of_district", f"{m.table} {m.record_id} is not in {scope}")


def check_parents(conn: Connection, m: Mutation, current_row: Any, tombstoned: Any) -> None:
    """An insert's parents must exist (else it waits for them) and belong to the same
    customer and job as the record."""
    for name, table in PARENTS.items():
        parent_id = m.fields.get(name)
        if name not in TABLES[m.table].columns or parent_id is None:
            continue
        parent = current_row(conn, table, parent_id)
        if parent is None:
            if tombstoned(conn, table, parent_id) is not None:
                raise Rejected(f"unknown_{table.removesuffix('s')}",
                               f"{table} {parent_id} was deleted")
            raise Parked(table, parent_id)
        if parent.get("customer_id") != m.fields.get("customer_id"):
            raise Rejected("customer_mismatch", f"customer_id does not match the {table}'s"
                           " customer")
        job = parent["id"] if table == "jobs" else parent.get("job_id")
        if job and m.fields.get("job_id") not in (None, job):
            raise Rejected("job_mismatch", f"job_id does not match the {table}'s job")


def check_own(conn: Connection, m: Mutation, who: Principal,
              current: dict[str, Any] | None, current_row: Any) -> None:
    """A technician works on their own jobs and those jobs' customers; captured evidence
    is also taken from anyone the job (or, without a job, the customer) was assigned to
    before, so a reassignment never makes offline work vanish."""
    record = current or m.fields
    evidence = m.table in EVIDENCE_TABLES or _own_check_job(m, who)
    if m.table == "jobs" and current is not None:
        if current["assignee"] == who.username:
            return
        if not _was_assigned(conn, m.record_id, who.username):
            raise Rejected("out_of_scope", f"job {current['number']} is not {who.username}'s")
        raise Rejected("reassigned", f"job {current['number']} is now assigned to"
                       f" {current['assignee']}; the change is kept for the supervisor",
                       preserve=[(f, current[f], v) for f, v in m.fields.items()])
    if record.get("job_id"):
        job = current_row(conn, "jobs", record["job_id"])
        if job is None:
            raise Rejected("unknown_job", f"no job {record['job_id']}")
        if job["assignee"] == who.username or (
                evidence and m.op != "delete" and _was_assigned(conn, job["id"], who.username)):
            return
        raise Rejected("out_of_scope", f"job {job['number']} is not assigned to {who.username}")
    if m.table == "scans" or not TABLES[m.table].scoped:
        return  # a scan may find any meter; forms and articles are everyone's
    customer = m.record_id if m.table == "customers" else record.get("customer_id")
    if rows.has_job(conn, customer, who.username):
        return
    if evidence and m.op != "delete" and conn.execute(
            "SELECT 1 FROM changes WHERE tbl = 'jobs' AND customer_id = ?"
            " AND json_extract(fields, '$.assignee') = ? LIMIT 1",
            [customer, who.username]).fetchone():
        return
    raise Rejected("out_of_scope", f"customer {customer} is not in {who.username}'s jobs")


def _own_check_job(m: Mutation, who: Principal) -> bool:
    """The rectification check a technician's inspection schedules, for themselves."""
    f = m.fields
    return (m.table == "jobs" and m.op == "insert" and f.get("kind") in TECH_JOB_KINDS
            and f.get("assignee") == who.username and f.get("status") == Status.DISPATCHED)


def check_device_insert(conn: Connection, m: Mutation, who: Principal) -> None:
    """What a tablet may create: checks of its own, parts asked for, not decided."""
    f = m.fields
    if m.table == "jobs" and not _own_check_job(m, who):
        raise Rejected("forbidden", "a tablet creates only rectification-check jobs,"
                       " dispatched to its own technician")
    if m.table == "part_requests" and (
            f.get("state") != "requested" or f.get("decided_at") or f.get("decided_by")):
        raise Rejected("forbidden", "a tablet asks for parts; only the office issues them")


def check_attachment(conn: Connection, m: Mutation) -> None:
    """An attachment's bytes were uploaded whole, are the size it says, and are of a kind
    FieldApp keeps (a photo, a signature image, a PDF), as sniffed from the bytes."""
    f = m.fields
    blob = conn.execute("SELECT size, complete, kind FROM blobs WHERE sha256 = ?",
                        [f.get("sha256")]).fetchone()
    if blob is None or not blob["complete"]:
        raise Rejected("attachment_missing", f"the bytes of {f.get('sha256')} were not uploaded")
    if blob["size"] != f.get("size"):
        raise Rejected("attachment_size_mismatch", "size differs from the uploaded file")
    if blob["kind"] is None:
        raise Rejected("attachment_kind", "the file is not a JPEG, PNG or WebP image, a PDF,"
                                          " or an audio or video recording")
    recorded = evidence_kind(blob["kind"])
    if (f.get("kind") in ("audio", "video") or recorded) and recorded != f.get("kind"):
        raise Rejected("attachment_kind", f"a {f.get('kind')} attachment whose bytes are"
                                          f" {blob['kind']}")


def check_answer(conn: Connection, current_row: Any, submission_id: str | None,
                 question: str | None, raw: Any) -> None:
    """The answer must fit its question in the submission's form version."""
    sub = current_row(conn, "submissions", submission_id or "")
    if sub is None:
        raise Rejected("unknown_submission", f"no submission {submission_id}")
    try:
        value = json.loads(raw if raw is not None else "null")
    except (TypeError, ValueError) as exc:
        raise Rejected("invalid_answer:malformed", f"{question}: not JSON: {raw!r}") from exc
    row = conn.execute(
        "SELECT definition FROM form_definitions WHERE code = ? AND form_version = ?",
        [sub["form_code"], sub["form_version"]]).fetchone()
    if row is None:
        raise Rejected("unknown_form", f"no form {sub['form_code']} v{sub['form_version']}")
    problem = checklist.check_answer(json.loads(row[0]), question or "", value)
    if problem:
        raise Rejected(f"invalid_answer:{problem}", f"{question}: {problem}")


def _was_assigned(conn: Connection, job_id: str, username: str) -> bool:
    return conn.execute(
        "SELECT 1 FROM changes WHERE tbl = 'jobs' AND record_id = ?"
        " AND json_extract(fields, '$.assignee') = ? LIMIT 1", [job_id, username]
    ).fetchone() is not None
